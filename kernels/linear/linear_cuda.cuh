// The bias kernels of linear (the GEMMs are gemm_cuda.cuh's). Memory-bound
// and small next to the GEMMs: one version each.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// y: [n, out] += b: [out] broadcast over rows, added after the GEMM's sum as
// the CPU (and PyTorch's addmm) rounds it. Grid-stride over n*out.
__global__ void __launch_bounds__(256)
    linear_bias_add(int64_t n, int64_t out, const float* __restrict__ b, float* __restrict__ y) {
  const int64_t total = n * out;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride)
    y[i] += b[i % out];
}

// db: [out] += column sums of dy: [n, out]. One thread per column (grid-stride
// over columns), db[o] + dy[0][o] + dy[1][o] + ... in increasing n, the CPU's
// order; a warp reads 32 consecutive columns of a row at a time (coalesced).
__global__ void __launch_bounds__(256)
    linear_bias_grad(int64_t n, int64_t out, const float* __restrict__ dy, float* __restrict__ db) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < out; o += stride) {
    float acc = db[o];
    for (int64_t i = 0; i < n; ++i) acc += dy[i * out + o];
    db[o] = acc;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
