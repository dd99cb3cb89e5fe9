// softmax / log_softmax kernels, forward and backward side by side.
//
// Forward:  u = x * inv_t (rounded, never fused), m = max u,
//           softmax = e / s with e = exp(u - m) in float, s = sum e in double;
//           log_softmax = u - (m + log s) in double, rounded once.
// Backward: softmax:     dx = (dy - sum(dy * y)) * y * inv_t
//           log_softmax: dx = (dy - exp(y) * sum(dy)) * inv_t      (sums in double)
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/reduce/group_reduce_cuda.cuh"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// ---- v1: one thread per row; row (o, j) has elements at o*dim*inner + j + d*inner.

template <bool kLog>
__global__ void __launch_bounds__(256)
    softmax_forward_v1(int64_t outer, int64_t dim, int64_t inner, float inv_t,
                       const float* __restrict__ x, float* __restrict__ y) {
  const int64_t rows = outer * inner, step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step) {
    const int64_t base = (r / inner) * dim * inner + r % inner;
    const float* xr = x + base;
    float* yr = y + base;
    float m = -INFINITY;
    for (int64_t d = 0; d < dim; ++d) m = larger(m, __fmul_rn(xr[d * inner], inv_t));
    double s = 0.0;
    for (int64_t d = 0; d < dim; ++d) {
      const float e = expf(__fmul_rn(xr[d * inner], inv_t) - m);
      if constexpr (!kLog) yr[d * inner] = e;
      s += double(e);
    }
    if constexpr (kLog) {
      const double shift = double(m) + log(s);
      for (int64_t d = 0; d < dim; ++d)
        yr[d * inner] = float(double(__fmul_rn(xr[d * inner], inv_t)) - shift);
    } else {
      const double inv_s = 1.0 / s;
      for (int64_t d = 0; d < dim; ++d) yr[d * inner] = float(double(yr[d * inner]) * inv_s);
    }
  }
}

template <bool kLog>
__global__ void __launch_bounds__(256)
    softmax_backward_v1(int64_t outer, int64_t dim, int64_t inner, float inv_t,
                        const float* __restrict__ y, const float* __restrict__ dy,
                        float* __restrict__ dx) {
  const int64_t rows = outer * inner, step = int64_t(gridDim.x) * blockDim.x;
  const double it = double(inv_t);
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < rows; r += step) {
    const int64_t base = (r / inner) * dim * inner + r % inner;
    const float *yr = y + base, *gr = dy + base;
    float* xr = dx + base;
    double dot = 0.0;
    for (int64_t d = 0; d < dim; ++d) {
      if constexpr (kLog) {
        dot += double(gr[d * inner]);
      } else {
        dot += double(gr[d * inner]) * double(yr[d * inner]);
      }
    }
    for (int64_t d = 0; d < dim; ++d) {
      const int64_t k = d * inner;
      if constexpr (kLog) {
        xr[k] = float((double(gr[k]) - double(expf(yr[k])) * dot) * it);
      } else {
        xr[k] = float((double(gr[k]) - dot) * double(yr[k]) * it);
      }
    }
  }
}

// ---- v2 (inner == 1): a group of kGroup threads per contiguous row, 256 / kGroup
// rows per block. Thread g owns d = g, g + kGroup, ...; it re-reads only
// elements it wrote itself, so no barrier is needed between the passes.

template <bool kLog, int kGroup>
__global__ void __launch_bounds__(256)
    softmax_forward_v2(int64_t rows, int64_t dim, float inv_t, const float* __restrict__ x,
                       float* __restrict__ y) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup;
  for (int64_t r = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; r < rows;
       r += int64_t(gridDim.x) * kPerBlock) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float m = -INFINITY;
    for (int64_t d = g; d < dim; d += kGroup) m = larger(m, __fmul_rn(xr[d], inv_t));
    m = group.max(m);
    double s = 0.0;
    for (int64_t d = g; d < dim; d += kGroup) {
      const float e = expf(__fmul_rn(xr[d], inv_t) - m);
      if constexpr (!kLog) yr[d] = e;
      s += double(e);
    }
    s = group.sum(s);
    if constexpr (kLog) {
      const double shift = double(m) + log(s);
      for (int64_t d = g; d < dim; d += kGroup)
        yr[d] = float(double(__fmul_rn(xr[d], inv_t)) - shift);
    } else {
      const double inv_s = 1.0 / s;
      for (int64_t d = g; d < dim; d += kGroup) yr[d] = float(double(yr[d]) * inv_s);
    }
  }
}

template <bool kLog, int kGroup>
__global__ void __launch_bounds__(256)
    softmax_backward_v2(int64_t rows, int64_t dim, float inv_t, const float* __restrict__ y,
                        const float* __restrict__ dy, float* __restrict__ dx) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup;
  const double it = double(inv_t);
  for (int64_t r = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup; r < rows;
       r += int64_t(gridDim.x) * kPerBlock) {
    const float *yr = y + r * dim, *gr = dy + r * dim;
    float* xr = dx + r * dim;
    double dot = 0.0;
    for (int64_t d = g; d < dim; d += kGroup) {
      if constexpr (kLog) {
        dot += double(gr[d]);
      } else {
        dot += double(gr[d]) * double(yr[d]);
      }
    }
    dot = group.sum(dot);
    for (int64_t d = g; d < dim; d += kGroup) {
      if constexpr (kLog) {
        xr[d] = float((double(gr[d]) - double(expf(yr[d])) * dot) * it);
      } else {
        xr[d] = float((double(gr[d]) - dot) * double(yr[d]) * it);
      }
    }
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
