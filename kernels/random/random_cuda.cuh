// Uniform and normal fill kernels. Both are compute-bound on Philox (and on
// the double-precision log/sin/cos for normal); the store is 4 bytes per element.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/common/philox.h"
#include "kernels/gumbel/gumbel.h"  // rn_add, rn_mul: single roundings nvcc never fuses
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// The CPU twin's lo + (hi - lo) * u, each step rounded on its own.
__device__ __forceinline__ float uniform_value(uint32_t word, float lo, float span) {
  return rn_add(lo, rn_mul(span, uniform_open01(word)));
}

// Box-Muller on one word pair, in double as the CPU twin: r = sqrt(-2 log u1),
// angle 2 pi u2. No additions, so there is nothing to contract. Unqualified
// ::log and friends: glibc's on the host, CUDA's double functions on the device.
__device__ __forceinline__ double normal_radius(uint32_t w1) {
  return ::sqrt(-2.0 * ::log(double(uniform_open01(w1))));
}
__device__ __forceinline__ double normal_angle(uint32_t w2) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  return kTwoPi * double(uniform_open01(w2));
}
// mean + stddev * float(z), rounded as the CPU twin rounds it.
__device__ __forceinline__ float normal_value(double z, float mean, float stddev) {
  return rn_add(mean, rn_mul(stddev, float(z)));
}

// v1: one element per thread per grid-stride step, the CPU loop's body. Each
// word costs a whole Philox block (normal: each element draws its word pair
// (2 * (i / 2), 2 * (i / 2) + 1), so a block is computed eight times).
// out: [n]
__global__ void uniform_fill_v1(int64_t n, PhiloxDraw draw, float lo, float span,
                                float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = uniform_value(philox_word(draw, uint64_t(i)), lo, span);
}

__global__ void normal_fill_v1(int64_t n, PhiloxDraw draw, float mean, float stddev,
                               float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const uint64_t pair = uint64_t(i) & ~uint64_t{1};
    const double r = normal_radius(philox_word(draw, pair));
    const double a = normal_angle(philox_word(draw, pair + 1));
    out[i] = normal_value((i & 1) ? r * ::sin(a) : r * ::cos(a), mean, stddev);
  }
}

// Stores the four values of Philox block b (elements 4b .. 4b + 3): one float4
// when `out` is 16-byte aligned (kAligned) and the block is whole.
template <bool kAligned>
__device__ __forceinline__ void store_block(float* __restrict__ out, int64_t n, int64_t b,
                                            const float (&v)[4]) {
  const int64_t i = 4 * b;
  if (kAligned && i + 4 <= n) {
    reinterpret_cast<float4*>(out)[b] = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    for (int j = 0; j < 4 && i + j < n; ++j) out[i + j] = v[j];
  }
}

// v2: one Philox block per thread per step (its 10 rounds once for four
// elements); normal: the block's two word pairs give two radii and two angles,
// each angle's cosine and sine two elements.
// out: [n]
template <bool kAligned>
__global__ void uniform_fill_v2(int64_t n, PhiloxDraw draw, float lo, float span,
                                float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const PhiloxCounter w = philox_block(draw, uint64_t(b));
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; ++j) v[j] = uniform_value(w.v[j], lo, span);
    store_block<kAligned>(out, n, b, v);
  }
}

template <bool kAligned>
__global__ void normal_fill_v2(int64_t n, PhiloxDraw draw, float mean, float stddev,
                               float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t blocks = (n + 3) / 4;
  for (int64_t b = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; b < blocks; b += stride) {
    const PhiloxCounter w = philox_block(draw, uint64_t(b));
    float v[4];
    SIMT_UNROLL
    for (int j = 0; j < 4; j += 2) {
      const double r = normal_radius(w.v[j]), a = normal_angle(w.v[j + 1]);
      v[j] = normal_value(r * ::cos(a), mean, stddev);
      v[j + 1] = normal_value(r * ::sin(a), mean, stddev);
    }
    store_block<kAligned>(out, n, b, v);
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
