// Kernels of memory_cuda.h: grid-stride loops, one element per thread per
// step. Bandwidth-bound; nothing to tile.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

template <class T>
__global__ void fill_kernel(int64_t n, T value, T* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) out[i] = value;
}

template <class To, class From>
__global__ void convert_kernel(int64_t n, const From* in, To* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = static_cast<To>(in[i]);
}

__global__ void add_into_kernel(int64_t n, const float* a, const float* b, float* out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = a[i] + b[i];
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
