#include "kernels/kl_div/kl_div.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/common/fixed_sum.h"

namespace medtex::cpu {

template <class T>
double kl_div_forward(int64_t n, int64_t batch, const T* log_q, const T* p) {
  const double sum = fixed_chunk_sum(n, [&](int64_t i) {
    const double pi = double(p[i]);
    // p == 0 contributes nothing, whatever log_q is. A negative p is not a
    // probability: its log is NaN and so is the loss, as in PyTorch.
    return pi == 0 ? 0.0 : pi * (std::log(pi) - double(log_q[i]));
  });
  return sum / double(batch);
}

template <class T>
void kl_div_backward(int64_t n, const T* log_q, const T* p, double scale, T* dlog_q, T* dp) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const double pi = double(p[i]);
    if (dlog_q) dlog_q[i] = T(-scale * pi);
    if (dp) dp[i] = pi == 0 ? T(0) : T(scale * (std::log(pi) + 1.0 - double(log_q[i])));
  }
}

template double kl_div_forward<float>(int64_t, int64_t, const float*, const float*);
template double kl_div_forward<double>(int64_t, int64_t, const double*, const double*);
template void kl_div_backward<float>(int64_t, const float*, const float*, double, float*, float*);
template void kl_div_backward<double>(int64_t, const double*, const double*, double, double*,
                                      double*);

}  // namespace medtex::cpu
