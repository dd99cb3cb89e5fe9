// bce_with_logits kernels: the stable term of the forward's fixed-chunk sum
// (chunk_sum_cuda.cuh), and the elementwise backward.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

struct BceTerm {
  // max(x, 0) - x y + log1p(exp(-|x|)): never the exp of a large positive
  // number nor the log of an underflowed sigmoid. (x < 0 ? 0 : x) is the CPU's
  // std::max(x, 0.0), NaN included.
  __device__ static double at(float x, float y) {
    const double xi = double(x), yi = double(y);
    return (xi < 0.0 ? 0.0 : xi) - xi * yi + log1p(exp(-fabs(xi)));
  }
};

// sigmoid without overflow: exp only of a non-positive number.
__device__ __forceinline__ double stable_sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  const double e = exp(x);
  return e / (1.0 + e);
}

__global__ void __launch_bounds__(256)
    bce_with_logits_backward_kernel(int64_t n, const float* __restrict__ x,
                                    const float* __restrict__ y, const float* __restrict__ dloss,
                                    float* __restrict__ dx, float* __restrict__ dy) {
  const double scale = double(dloss[0]) / double(n);
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const double xi = double(x[i]);
    if (dx != nullptr) dx[i] = float(scale * (stable_sigmoid(xi) - double(y[i])));
    if (dy != nullptr) dy[i] = float(-scale * xi);
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
