// Sample CUDA kernels for the SIMT emulator, written once and compiled twice:
// by nvcc (samples_cuda.cu) and by the host compiler against the emulator
// (samples_emu.cpp). They show the patterns the engine's kernels use, and the
// emulator's tests run them under every schedule against plain loops.
//
// Outputs are overwritten, except reduce_sum, which accumulates into *sum.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::simt_samples::kernels {
inline namespace SIMT_NS {

inline constexpr unsigned kFullWarp = 0xffffffffu;

// Sum over the warp by halving distances; the total is complete in lane 0.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  SIMT_UNROLL
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(kFullWarp, v, offset);
  return v;
}

// Maximum over the warp; the butterfly leaves it in every lane.
__device__ __forceinline__ float warp_max(float v) {
  SIMT_UNROLL
  for (int offset = 16; offset > 0; offset /= 2)
    v = fmaxf(v, __shfl_xor_sync(kFullWarp, v, offset));
  return v;
}

// a: [m, k], b: [k, n], c: [m, n], row-major. c = a b.
// Block (kTile, kTile), grid (ceil(n / kTile), ceil(m / kTile)); one thread per
// element of c. Each step of k stages a kTile x kTile tile of a and of b in
// shared memory, so every element of a is read from global memory
// ceil(n / kTile) times instead of n (and b likewise): the classic tiling.
template <int kTile>
__global__ void __launch_bounds__(kTile* kTile)
    sgemm_tiled(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                int m, int n, int k) {
  SIMT_SHARED(float, a_tile, [kTile][kTile]);
  SIMT_SHARED(float, b_tile, [kTile][kTile]);
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += kTile) {
    // Out-of-range elements load as 0, so partial tiles need no special case.
    a_tile[ty][tx] = (row < m && k0 + tx < k) ? a[static_cast<size_t>(row) * k + k0 + tx] : 0.0f;
    b_tile[ty][tx] = (k0 + ty < k && col < n) ? b[static_cast<size_t>(k0 + ty) * n + col] : 0.0f;
    __syncthreads();  // both tiles are complete before anyone reads them
    SIMT_UNROLL
    for (int kk = 0; kk < kTile; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    __syncthreads();  // everyone has read them before the next step overwrites them
  }
  if (row < m && col < n) c[static_cast<size_t>(row) * n + col] = acc;
}

// x: [n]. *sum += sum(x). 1-D blocks of kBlock threads, any number of blocks
// (grid-stride loop). Each warp sums with shuffles, the warps' partial sums
// meet in shared memory, warp 0 sums those and adds the block's total with one
// atomicAdd. Float atomics make the last bits depend on block order: this is
// a sample of the patterns, not the engine's deterministic reduction.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    reduce_sum(const float* __restrict__ x, int n, float* sum) {
  static_assert(kBlock % 32 == 0 && kBlock <= 1024, "whole warps, at most 1024 threads");
  constexpr int kWarps = kBlock / 32;
  SIMT_SHARED(float, warp_sums, [kWarps]);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  float s = 0.0f;
  for (int i = blockIdx.x * kBlock + threadIdx.x; i < n; i += kBlock * gridDim.x) s += x[i];
  s = warp_sum(s);
  if (lane == 0) warp_sums[warp] = s;
  __syncthreads();  // all partial sums are written before warp 0 reads them
  if (warp == 0) {
    s = warp_sum(lane < kWarps ? warp_sums[lane] : 0.0f);
    if (lane == 0) atomicAdd(sum, s);
  }
}

// x, y: [rows, cols]. y[r, :] = softmax(x[r, :]), computed as exp(x - max) /
// sum(exp(x - max)) so that exp cannot overflow. One block of kBlock threads
// per row. Dynamic shared memory: kBlock / 32 floats, one partial per warp.
// Rows whose length and addresses allow it are read and written as float4.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    softmax_rows(const float* __restrict__ x, float* __restrict__ y, int cols) {
  static_assert(kBlock % 32 == 0 && kBlock <= 1024, "whole warps, at most 1024 threads");
  constexpr int kWarps = kBlock / 32;
  SIMT_DYNAMIC_SHARED(float, warp_partials);
  SIMT_SHARED(float, row_stat);  // the row's max, then its sum, for the whole block
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const float* xr = x + static_cast<size_t>(blockIdx.x) * cols;
  float* yr = y + static_cast<size_t>(blockIdx.x) * cols;
  const bool vectorised =
      cols % 4 == 0 &&
      (reinterpret_cast<uintptr_t>(xr) | reinterpret_cast<uintptr_t>(yr)) % sizeof(float4) == 0;
  const int vectors = vectorised ? cols / 4 : 0;  // float4s; the rest is done one by one
  const float4* x4 = reinterpret_cast<const float4*>(xr);

  float mx = -INFINITY;
  for (int i = tid; i < vectors; i += kBlock) {
    const float4 q = x4[i];
    mx = fmaxf(mx, fmaxf(fmaxf(q.x, q.y), fmaxf(q.z, q.w)));
  }
  for (int i = 4 * vectors + tid; i < cols; i += kBlock) mx = fmaxf(mx, xr[i]);
  mx = warp_max(mx);
  if (lane == 0) warp_partials[warp] = mx;
  __syncthreads();  // the warps' maxima are written
  if (tid == 0) {
    float m = warp_partials[0];
    for (int w = 1; w < kWarps; ++w) m = fmaxf(m, warp_partials[w]);
    row_stat = m;
  }
  __syncthreads();  // broadcast: row_stat is written before anyone reads it
  mx = row_stat;
  __syncthreads();  // everyone has read row_stat and the partials before they are reused

  float s = 0.0f;
  for (int i = tid; i < vectors; i += kBlock) {
    const float4 q = x4[i];
    s += __expf(q.x - mx) + __expf(q.y - mx) + __expf(q.z - mx) + __expf(q.w - mx);
  }
  for (int i = 4 * vectors + tid; i < cols; i += kBlock) s += __expf(xr[i] - mx);
  s = warp_sum(s);
  if (lane == 0) warp_partials[warp] = s;
  __syncthreads();  // the warps' sums are written
  if (tid == 0) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) total += warp_partials[w];
    row_stat = total;
  }
  __syncthreads();  // broadcast the sum
  const float inv = 1.0f / row_stat;

  float4* y4 = reinterpret_cast<float4*>(yr);
  for (int i = tid; i < vectors; i += kBlock) {
    const float4 q = x4[i];
    y4[i] = make_float4(__expf(q.x - mx) * inv, __expf(q.y - mx) * inv, __expf(q.z - mx) * inv,
                        __expf(q.w - mx) * inv);
  }
  for (int i = 4 * vectors + tid; i < cols; i += kBlock) yr[i] = __expf(xr[i] - mx) * inv;
}

}  // namespace SIMT_NS
}  // namespace medtex::simt_samples::kernels
