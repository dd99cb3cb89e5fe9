// Launchers of adam_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/adam/adam_cuda.h"

#include <cmath>
#include <cstdint>

#include "kernels/adam/adam_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
bool aligned16(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}
}  // namespace

void adam_step(int64_t n, float* p, const float* g, float* m, float* v, const cpu::AdamParams& a,
               AdamVersion version) {
  if (n <= 0) return;
  // Computed exactly as cpu::adam_step computes them (host code, double).
  const double bc1 = 1 - std::pow(a.beta1, double(a.step));
  const double bc2 = 1 - std::pow(a.beta2, double(a.step));
  kern::AdamScalars s{};
  s.step_size = float(a.lr / bc1);
  s.inv_sqrt_bc2 = float(1 / std::sqrt(bc2));
  s.b1 = float(a.beta1);
  s.b2 = float(a.beta2);
  s.one_minus_b1 = 1.0f - s.b1;  // the CPU twin's T(1) - b1, in float
  s.one_minus_b2 = 1.0f - s.b2;
  s.eps = float(a.eps);
  s.wd = float(a.weight_decay);
  s.decay = float(1 - a.lr * a.weight_decay);
  s.decoupled = a.decoupled;
  const bool vec = version == AdamVersion::kV2Vec4 && aligned16(p) && aligned16(g) &&
                   aligned16(m) && aligned16(v);
  const auto kernel = vec ? kern::adam_step_v2 : kern::adam_step_v1;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, p, g, m,
                     v, s),
        "adam_step", "n=", n, " t=", a.step, a.decoupled ? " AdamW" : " Adam", " v", int(version));
}

}  // namespace medtex::gpu::SIMT_NS
