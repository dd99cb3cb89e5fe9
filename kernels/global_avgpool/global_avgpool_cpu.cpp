#include "kernels/global_avgpool/global_avgpool.h"

#include <algorithm>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void global_avgpool_forward(int64_t planes, int64_t hw, const T* x, T* y) {
#pragma omp parallel for schedule(static) if (planes * hw > kParallelGrain)
  for (int64_t q = 0; q < planes; ++q) {
    const T* xq = x + q * hw;
    // Four interleaved partial sums in double (lane = index mod 4, combined
    // in a fixed order): the add chains overlap, and the rounding does not
    // depend on the thread count.
    double s[4] = {};
    int64_t i = 0;
    for (; i + 4 <= hw; i += 4) {
      s[0] += double(xq[i]);
      s[1] += double(xq[i + 1]);
      s[2] += double(xq[i + 2]);
      s[3] += double(xq[i + 3]);
    }
    for (; i < hw; ++i) s[i & 3] += double(xq[i]);
    y[q] = T(((s[0] + s[1]) + (s[2] + s[3])) / double(hw));
  }
}

template <class T>
void global_avgpool_backward(int64_t planes, int64_t hw, const T* dy, T* dx) {
#pragma omp parallel for schedule(static) if (planes * hw > kParallelGrain)
  for (int64_t q = 0; q < planes; ++q) {
    std::fill(dx + q * hw, dx + (q + 1) * hw, T(double(dy[q]) / double(hw)));
  }
}

template void global_avgpool_forward<float>(int64_t, int64_t, const float*, float*);
template void global_avgpool_forward<double>(int64_t, int64_t, const double*, double*);
template void global_avgpool_backward<float>(int64_t, int64_t, const float*, float*);
template void global_avgpool_backward<double>(int64_t, int64_t, const double*, double*);

}  // namespace medtex::cpu
