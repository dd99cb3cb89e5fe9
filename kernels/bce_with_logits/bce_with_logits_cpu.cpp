#include "kernels/bce_with_logits/bce_with_logits.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/common/fixed_sum.h"

namespace medtex::cpu {

namespace {

// sigmoid without overflow: exp is only ever taken of a non-positive number.
double stable_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

}  // namespace

template <class T>
double bce_with_logits_forward(int64_t n, const T* x, const T* y) {
  const double sum = fixed_chunk_sum(n, [&](int64_t i) {
    const double xi = double(x[i]), yi = double(y[i]);
    return std::max(xi, 0.0) - xi * yi + std::log1p(std::exp(-std::abs(xi)));
  });
  return sum / double(n);
}

template <class T>
void bce_with_logits_backward(int64_t n, const T* x, const T* y, double scale, T* dx, T* dy) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const double xi = double(x[i]);
    if (dx) dx[i] = T(scale * (stable_sigmoid(xi) - double(y[i])));
    if (dy) dy[i] = T(-scale * xi);
  }
}

template double bce_with_logits_forward<float>(int64_t, const float*, const float*);
template double bce_with_logits_forward<double>(int64_t, const double*, const double*);
template void bce_with_logits_backward<float>(int64_t, const float*, const float*, double, float*,
                                              float*);
template void bce_with_logits_backward<double>(int64_t, const double*, const double*, double,
                                               double*, double*);

}  // namespace medtex::cpu
