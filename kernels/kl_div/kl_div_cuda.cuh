// kl_div kernels: the term p (log p - log q) of the forward's fixed-chunk sum
// (chunk_sum_cuda.cuh), and the elementwise backward.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

struct KlTerm {
  // p == 0 contributes nothing, whatever log_q is (-inf included).
  __device__ static double at(float log_q, float p) {
    const double pi = double(p);
    return pi == 0 ? 0.0 : pi * (log(pi) - double(log_q));
  }
};

// dlog_q = -scale p;  dp = scale (log p + 1 - log_q), 0 where p == 0.
__global__ void __launch_bounds__(256)
    kl_div_backward_kernel(int64_t n, double divisor, const float* __restrict__ log_q,
                           const float* __restrict__ p, const float* __restrict__ dloss,
                           float* __restrict__ dlog_q, float* __restrict__ dp) {
  const double scale = double(dloss[0]) / divisor;
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += step) {
    const double pi = double(p[i]);
    if (dlog_q != nullptr) dlog_q[i] = float(-scale * pi);
    if (dp != nullptr) dp[i] = pi == 0 ? 0.f : float(scale * (log(pi) + 1.0 - double(log_q[i])));
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
