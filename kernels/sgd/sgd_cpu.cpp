#include "kernels/sgd/sgd.h"

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, const SgdParams& s, bool first_step) {
  const T lr = T(s.lr), mom = T(s.momentum), damp = T(1 - s.dampening), wd = T(s.weight_decay);
  const bool use_momentum = s.momentum != 0;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    T d = g[i] + wd * p[i];
    if (use_momentum) {
      buf[i] = first_step ? d : mom * buf[i] + damp * d;
      d = s.nesterov ? d + mom * buf[i] : buf[i];
    }
    p[i] -= lr * d;
  }
}

template void sgd_step<float>(int64_t, float*, const float*, float*, const SgdParams&, bool);
template void sgd_step<double>(int64_t, double*, const double*, double*, const SgdParams&, bool);

}  // namespace medtex::cpu
