#include "engine/optim/schedule.h"

#include <cmath>

#include "kernels/common/error.h"

namespace medtex::optim {

double CosineSchedule::at(int64_t step) const {
  MT_CHECK(total_steps > 0 && warmup_steps >= 0 && warmup_steps <= total_steps,
           "CosineSchedule: bad total_steps ", total_steps, " / warmup_steps ", warmup_steps);
  if (step < warmup_steps) return base_lr * double(step + 1) / double(warmup_steps);
  const int64_t span = total_steps - warmup_steps;
  const int64_t t = step - warmup_steps;
  if (span == 0 || t >= span) return min_lr;
  const double pi = 3.14159265358979323846;
  return min_lr + (base_lr - min_lr) * (1 + std::cos(pi * double(t) / double(span))) / 2;
}

double StepSchedule::at(int64_t step) const {
  MT_CHECK(step_size > 0, "StepSchedule: step_size must be positive, got ", step_size);
  return base_lr * std::pow(gamma, double(step / step_size));
}

}  // namespace medtex::optim
