// ReLU kernels. Memory-bound: the only lever is how wide each access is.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// `x < 0` is false for NaN, so NaN propagates (PyTorch's behaviour).
__device__ __forceinline__ float relu1(float x) { return x < 0.f ? 0.f : x; }
__device__ __forceinline__ float relu_grad1(float y, float g) { return y > 0.f ? g : 0.f; }

// v1: one element per thread per grid-stride step.
__global__ void relu_forward_v1(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = relu1(x[i]);
}

__global__ void relu_backward_v1(int64_t n, const float* __restrict__ y,
                                 const float* __restrict__ dy, float* __restrict__ dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    dx[i] = relu_grad1(y[i], dy[i]);
}

// v2: four elements per thread per step through float4 (all pointers 16-byte
// aligned, checked by the launcher); the n % 4 tail one by one.
__global__ void relu_forward_v2(int64_t n, const float* __restrict__ x, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < n4; i += stride) {
    const float4 v = x4[i];
    y4[i] = make_float4(relu1(v.x), relu1(v.y), relu1(v.z), relu1(v.w));
  }
  for (int64_t i = 4 * n4 + first; i < n; i += stride) y[i] = relu1(x[i]);
}

__global__ void relu_backward_v2(int64_t n, const float* __restrict__ y,
                                 const float* __restrict__ dy, float* __restrict__ dx) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4;
  const float4* y4 = reinterpret_cast<const float4*>(y);
  const float4* g4 = reinterpret_cast<const float4*>(dy);
  float4* d4 = reinterpret_cast<float4*>(dx);
  const int64_t first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t i = first; i < n4; i += stride) {
    const float4 a = y4[i], g = g4[i];
    d4[i] = make_float4(relu_grad1(a.x, g.x), relu_grad1(a.y, g.y), relu_grad1(a.z, g.z),
                        relu_grad1(a.w, g.w));
  }
  for (int64_t i = 4 * n4 + first; i < n; i += stride) dx[i] = relu_grad1(y[i], dy[i]);
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
