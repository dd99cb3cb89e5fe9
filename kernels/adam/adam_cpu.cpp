#include "kernels/adam/adam.h"

#include <cmath>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const AdamParams& a) {
  const double bc1 = 1 - std::pow(a.beta1, double(a.step));
  const double bc2 = 1 - std::pow(a.beta2, double(a.step));
  const T step_size = T(a.lr / bc1), inv_sqrt_bc2 = T(1 / std::sqrt(bc2));
  const T b1 = T(a.beta1), b2 = T(a.beta2), eps = T(a.eps), wd = T(a.weight_decay);
  const T decay = T(1 - a.lr * a.weight_decay);
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    T grad = g[i];
    if (a.decoupled) {
      p[i] *= decay;
    } else {
      grad += wd * p[i];
    }
    m[i] = b1 * m[i] + (T(1) - b1) * grad;
    v[i] = b2 * v[i] + (T(1) - b2) * grad * grad;
    p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
  }
}

template void adam_step<float>(int64_t, float*, const float*, float*, float*, const AdamParams&);
template void adam_step<double>(int64_t, double*, const double*, double*, double*,
                                const AdamParams&);

}  // namespace medtex::cpu
