// Elementwise kernels: memory-bound, so the levers are the width of each
// access and, for broadcasts, how often an element's input offsets are
// recomputed.
#pragma once

#include <cstdint>

#include "kernels/elementwise/elementwise.h"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// What a broadcast kernel computes per element. kCopy and kDivide read only
// `a` (expand: the backward of sum and mean); b is never touched.
enum class EwOp { kAdd, kSub, kMul, kCopy, kDivide };

template <EwOp kOp>
__device__ __forceinline__ float ew_apply(float a, float b, float divisor) {
  (void)b;
  (void)divisor;
  if constexpr (kOp == EwOp::kAdd) {
    return a + b;
  } else if constexpr (kOp == EwOp::kSub) {
    return a - b;
  } else if constexpr (kOp == EwOp::kMul) {
    return a * b;
  } else if constexpr (kOp == EwOp::kCopy) {
    return a;
  } else {
    return a / divisor;
  }
}
// (A variable, not a constexpr function: nvcc does not call host constexpr
// functions from device code without --expt-relaxed-constexpr.)
template <EwOp kOp>
inline constexpr bool kEwReadsB = kOp == EwOp::kAdd || kOp == EwOp::kSub || kOp == EwOp::kMul;

template <EwOp kOp>
__device__ __forceinline__ float4 ew_apply4(float4 a, float4 b, float divisor) {
  return make_float4(ew_apply<kOp>(a.x, b.x, divisor), ew_apply<kOp>(a.y, b.y, divisor),
                     ew_apply<kOp>(a.z, b.z, divisor), ew_apply<kOp>(a.w, b.w, divisor));
}

// ---- same shapes: a, b, out: [n] ---------------------------------------------

// v1: one element per thread per grid-stride step.
template <EwOp kOp>
__global__ void binary_same_v1(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = ew_apply<kOp>(a[i], b[i], 1.f);
}

// v2: float4 (pointers 16-byte aligned, checked by the launcher); n % 4 tail one by one.
template <EwOp kOp>
__global__ void binary_same_v2(int64_t n, const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4, first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const float4* a4 = reinterpret_cast<const float4*>(a);
  const float4* b4 = reinterpret_cast<const float4*>(b);
  float4* o4 = reinterpret_cast<float4*>(out);
  for (int64_t i = first; i < n4; i += stride) o4[i] = ew_apply4<kOp>(a4[i], b4[i], 1.f);
  for (int64_t i = 4 * n4 + first; i < n; i += stride) out[i] = ew_apply<kOp>(a[i], b[i], 1.f);
}

// ---- x op scalar: x, y: [n] --------------------------------------------------

template <bool kMul>
__device__ __forceinline__ float scalar_apply(float x, float s) {
  if constexpr (kMul) {
    return x * s;
  } else {
    return x + s;
  }
}

// v1: one element per thread per grid-stride step.
template <bool kMul>
__global__ void scalar_v1(int64_t n, const float* __restrict__ x, float s, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = scalar_apply<kMul>(x[i], s);
}

// v2: float4 when aligned; tail one by one.
template <bool kMul>
__global__ void scalar_v2(int64_t n, const float* __restrict__ x, float s, float* __restrict__ y) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t n4 = n / 4, first = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* y4 = reinterpret_cast<float4*>(y);
  for (int64_t i = first; i < n4; i += stride) {
    const float4 v = x4[i];
    y4[i] = make_float4(scalar_apply<kMul>(v.x, s), scalar_apply<kMul>(v.y, s),
                        scalar_apply<kMul>(v.z, s), scalar_apply<kMul>(v.w, s));
  }
  for (int64_t i = 4 * n4 + first; i < n; i += stride) y[i] = scalar_apply<kMul>(x[i], s);
}

// ---- broadcast through a cpu::BroadcastPlan (by value) -------------------------

// Input offsets of position `i` over the first n plan dims (row-major), with
// constant indices into the plan (unrolled) so that it stays in the parameter
// bank. The outermost dim needs no division.
__device__ __forceinline__ void plan_offsets(const cpu::BroadcastPlan& p, int n, int64_t i,
                                             int64_t& ao, int64_t& bo) {
  ao = 0;
  bo = 0;
  SIMT_UNROLL
  for (int d = cpu::kMaxBroadcastDims - 1; d > 0; --d) {
    if (d < n) {
      const int64_t k = i % p.extent[d];
      i /= p.extent[d];
      ao += k * p.a_stride[d];
      bo += k * p.b_stride[d];
    }
  }
  if (n > 0) {
    ao += i * p.a_stride[0];
    bo += i * p.b_stride[0];
  }
}

// v1: one output element per thread per grid-stride step; total = the plan's
// element count.
template <EwOp kOp>
__global__ void broadcast_v1(cpu::BroadcastPlan p, int64_t total, const float* __restrict__ a,
                             const float* __restrict__ b, float divisor, float* __restrict__ out) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride) {
    int64_t ao, bo;
    plan_offsets(p, p.ndim, i, ao, bo);
    out[i] = ew_apply<kOp>(a[ao], kEwReadsB<kOp> ? b[bo] : 0.f, divisor);
  }
}

// v2: 2D grid, blockDim = (columns, rows) with 256 threads. The plan's
// innermost dim (extent L, input strides 0 or 1) is the row; its rows are
// the positions of the outer dims. Each thread finds a row's input offsets
// once, then walks columns. kVec: columns are float4 (L % 4 == 0, pointers
// aligned: every row start is then aligned too, since a stride-1 input's
// outer strides are multiples of L).
template <EwOp kOp, bool kVec>
__global__ void __launch_bounds__(256)
    broadcast_v2(cpu::BroadcastPlan p, int64_t rows, const float* __restrict__ a,
                 const float* __restrict__ b, float divisor, float* __restrict__ out) {
  const int inner = p.ndim - 1;
  const int64_t L = p.extent[inner];  // ndim >= 1 (checked by the launcher)
  const bool a_vec = p.a_stride[inner] != 0, b_vec = p.b_stride[inner] != 0;
  const int64_t cols = kVec ? L / 4 : L;
  const int64_t col0 = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (int64_t r = int64_t(blockIdx.y) * blockDim.y + threadIdx.y; r < rows;
       r += int64_t(gridDim.y) * blockDim.y) {
    int64_t ao, bo;
    plan_offsets(p, inner, r, ao, bo);
    const float* ar = a + ao;
    const float* br = b + bo;
    float* orow = out + r * L;
    for (int64_t c = col0; c < cols; c += int64_t(gridDim.x) * blockDim.x) {
      if constexpr (kVec) {
        const float4 av = a_vec ? reinterpret_cast<const float4*>(ar)[c]
                                : make_float4(ar[0], ar[0], ar[0], ar[0]);
        float4 bv = make_float4(0.f, 0.f, 0.f, 0.f);
        if constexpr (kEwReadsB<kOp>)
          bv = b_vec ? reinterpret_cast<const float4*>(br)[c]
                     : make_float4(br[0], br[0], br[0], br[0]);
        reinterpret_cast<float4*>(orow)[c] = ew_apply4<kOp>(av, bv, divisor);
      } else {
        const float av = a_vec ? ar[c] : ar[0];
        float bv = 0.f;
        if constexpr (kEwReadsB<kOp>) bv = b_vec ? br[c] : br[0];
        orow[c] = ew_apply<kOp>(av, bv, divisor);
      }
    }
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
