// Max / argmax kernels. The forward's tie and NaN rules are the CPU twin's
// `beats`; the warp version combines partial results with the same rule
// written as a total order, so any combination order picks the same element.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// max.h's rule: v replaces best when strictly larger, or NaN while best is a number.
__device__ __forceinline__ bool max_beats(float v, float best) {
  return !(v <= best) && best == best;
}

// Whether candidate (v, i) comes before (best, bi) in the order the
// sequential scan realises: NaNs first (lowest index first), then larger
// values, equal values by lower index.
__device__ __forceinline__ bool max_before(float v, int64_t i, float best, int64_t bi) {
  const bool v_nan = v != v, b_nan = best != best;
  if (v_nan || b_nan) return v_nan && (!b_nan || i < bi);
  return v > best || (v == best && i < bi);
}

// v1 forward: one thread per output (o, i), scanning d = 0..D-1 (the CPU loop).
__global__ void __launch_bounds__(256)
    max_forward_v1(int64_t outer, int64_t D, int64_t inner, const float* __restrict__ x,
                   float* __restrict__ y, int64_t* __restrict__ idx) {
  const int64_t n = outer * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) {
    const int64_t o = t / inner, i = t % inner;
    const float* col = x + o * D * inner + i;
    float best = col[0];
    int64_t arg = 0;
    for (int64_t d = 1; d < D; ++d) {
      const float v = col[d * inner];
      if (max_beats(v, best)) {
        best = v;
        arg = d;
      }
    }
    if (y != nullptr) y[t] = best;
    idx[t] = arg;
  }
}

// v2 forward, inner == 1: a group of kGroup threads per row (a warp, or the
// block when kGroup > 32), 256 / kGroup rows per block. Thread g scans d = g,
// g + kGroup, ... (its first maximal element); a thread that saw nothing
// holds (-inf, D), which loses to every real element. A block's warps meet
// through shared memory with one barrier per row: consecutive rows of a
// block use alternate halves of it, so row r + 1's writes never touch what
// row r's thread 0 may still be reading (a thread reaches row r + 2's writes
// only after row r + 1's barrier, which waits for thread 0).
template <int kGroup>
__global__ void __launch_bounds__(256)
    max_forward_v2(int64_t rows, int64_t D, const float* __restrict__ x, float* __restrict__ y,
                   int64_t* __restrict__ idx) {
  SIMT_SHARED(float, s_val, [2][kGroup / 32]);
  SIMT_SHARED(int64_t, s_idx, [2][kGroup / 32]);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup, lane = int(threadIdx.x) % 32;
  int half = 0;
  for (int64_t r = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; r < rows;
       r += int64_t(gridDim.x) * kPerBlock, half ^= 1) {
    const float* row = x + r * D;
    float best = -INFINITY;
    int64_t arg = D;
    for (int64_t d = g; d < D; d += kGroup) {
      const float v = row[d];
      if (arg == D || max_beats(v, best)) {
        best = v;
        arg = d;
      }
    }
    SIMT_UNROLL
    for (int off = 16; off > 0; off >>= 1) {
      const float ov = __shfl_xor_sync(0xffffffffu, best, off);
      const int64_t oi = __shfl_xor_sync(0xffffffffu, arg, off);
      if (max_before(ov, oi, best, arg)) {
        best = ov;
        arg = oi;
      }
    }
    if constexpr (kGroup > 32) {
      const int warp = int(threadIdx.x) / 32;
      if (lane == 0) {
        s_val[half][warp] = best;
        s_idx[half][warp] = arg;
      }
      __syncthreads();  // every warp's candidate is in this half before thread 0 reads it
      if (threadIdx.x == 0) {
        for (int w = 1; w < kGroup / 32; ++w) {
          if (max_before(s_val[half][w], s_idx[half][w], best, arg)) {
            best = s_val[half][w];
            arg = s_idx[half][w];
          }
        }
      }
    }
    if (g == 0) {
      if (y != nullptr) y[r] = best;
      idx[r] = arg;
    }
  }
}

// v1 backward: one thread per output (o, i) writes its whole column of dx:
// zeros, and dy at the chosen element (the CPU loop).
__global__ void __launch_bounds__(256)
    max_backward_v1(int64_t outer, int64_t D, int64_t inner, const int64_t* __restrict__ idx,
                    const float* __restrict__ dy, float* __restrict__ dx) {
  const int64_t n = outer * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; t < n; t += stride) {
    const int64_t o = t / inner, i = t % inner;
    float* col = dx + o * D * inner + i;
    const int64_t k = idx[t];
    for (int64_t d = 0; d < D; ++d) col[d * inner] = d == k ? dy[t] : 0.f;
  }
}

// v2 backward: one thread per dx element (o, d, i), a gather.
__global__ void __launch_bounds__(256)
    max_backward_v2(int64_t outer, int64_t D, int64_t inner, const int64_t* __restrict__ idx,
                    const float* __restrict__ dy, float* __restrict__ dx) {
  const int64_t n = outer * D * inner, stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += stride) {
    const int64_t i = e % inner, od = e / inner, d = od % D, o = od / D;
    const int64_t t = o * inner + i;
    dx[e] = idx[t] == d ? dy[t] : 0.f;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
