// Learning-rate schedules as pure functions of the step, so a resumed run
// recomputes the same rate.
#pragma once

#include <cstdint>

namespace medtex::optim {

// torch.optim.lr_scheduler.CosineAnnealingLR, stepped per iteration, with an
// optional linear warm-up: lr rises from base/warmup to base over `warmup`
// steps, then min + (base - min) (1 + cos(pi t / T)) / 2 over the remaining
// T = total - warmup steps, and stays at min afterwards.
struct CosineSchedule {
  double base_lr;
  int64_t total_steps;
  int64_t warmup_steps = 0;
  double min_lr = 0;
  double at(int64_t step) const;
};

// torch.optim.lr_scheduler.StepLR: base * gamma^(floor(step / step_size)).
struct StepSchedule {
  double base_lr;
  int64_t step_size;
  double gamma = 0.1;
  double at(int64_t step) const;
};

}  // namespace medtex::optim
