// Global average pooling kernels. The forward is a reduction per plane; the
// backward a broadcast. I is the flat index type of the backward: int32_t
// when the tensor fits (cheaper division), else int64_t.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// v1, x: [planes, hw] -> y: [planes]: one thread per plane, the CPU twin's
// four double lanes (lane = index mod 4) combined in its order.
__global__ void global_avgpool_forward_v1(int64_t planes, int64_t hw, const float* __restrict__ x,
                                          float* __restrict__ y) {
  const int64_t step = int64_t(gridDim.x) * blockDim.x;
  for (int64_t q = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; q < planes; q += step) {
    const float* xq = x + q * hw;
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t i = 0;
    for (; i + 4 <= hw; i += 4) {
      s0 += double(xq[i]);
      s1 += double(xq[i + 1]);
      s2 += double(xq[i + 2]);
      s3 += double(xq[i + 3]);
    }
    // The tail starts at a multiple of 4: its lanes are 0, 1, 2.
    if (i < hw) s0 += double(xq[i]);
    if (i + 1 < hw) s1 += double(xq[i + 1]);
    if (i + 2 < hw) s2 += double(xq[i + 2]);
    y[q] = float(((s0 + s1) + (s2 + s3)) / double(hw));
  }
}

// v2: one warp per plane. Lane l sums x[l], x[l + 32], ... (coalesced loads)
// in float, then a shuffle tree (lane l takes lane l + 16, ... l + 1): a
// fixed order, whatever the schedule.
__global__ void global_avgpool_forward_v2(int64_t planes, int64_t hw, const float* __restrict__ x,
                                          float* __restrict__ y) {
  const int lane = int(threadIdx.x) & 31;
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  // q is the same for the whole warp: every lane reaches every shuffle.
  for (int64_t q = int64_t(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; q < planes;
       q += warps) {
    const float* xq = x + q * hw;
    float s = 0.f;
    for (int64_t i = lane; i < hw; i += 32) s += xq[i];
    SIMT_UNROLL
    for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
    if (lane == 0) y[q] = float(double(s) / double(hw));
  }
}

// dy: [planes] -> dx: [planes, hw], one thread per dx value. The CPU's
// float(double(dy) / double(hw)) equals the float division dy / float(hw)
// whenever hw is a float exactly (hw <= 2^24): double has more than 2 * 24 + 2
// bits, so rounding first to double then to float is innocuous for a
// quotient of floats. `exact` says so (it is uniform); else the double path.
template <class I>
__global__ void global_avgpool_backward_v1(I total, I hw, bool exact, const float* __restrict__ dy,
                                           float* __restrict__ dx) {
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += step) {
    const float g = dy[i / hw];
    dx[i] = exact ? g / float(hw) : float(double(g) / double(hw));
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
