// Deliberately broken CUDA kernels: each is a correct one (see
// kernels/simt/samples/samples_cuda.cuh) with one mistake, named in its
// comment. The emulator's tests check that every one of them is caught.
// Host C++ only: they are never compiled by nvcc.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "kernels/simt/simt.h"

namespace simt_tests {
inline namespace SIMT_NS {

// The sample SGEMM without its second __syncthreads(): a fast thread starts
// loading the next tiles while slower ones still read the current ones. Only
// a K with more than one tile has a "next" tile.
template <int kTile>
__global__ void sgemm_missing_second_sync(const float* a, const float* b, float* c, int m, int n,
                                          int k) {
  SIMT_SHARED(float, a_tile, [kTile][kTile]);
  SIMT_SHARED(float, b_tile, [kTile][kTile]);
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += kTile) {
    a_tile[ty][tx] = (row < m && k0 + tx < k) ? a[static_cast<size_t>(row) * k + k0 + tx] : 0.0f;
    b_tile[ty][tx] = (k0 + ty < k && col < n) ? b[static_cast<size_t>(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
    for (int kk = 0; kk < kTile; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    // BUG: no __syncthreads() here.
  }
  if (row < m && col < n) c[static_cast<size_t>(row) * n + col] = acc;
}

// The sample SGEMM loading only kTile - 1 columns of each tile of a: column
// kTile - 1 of a_tile is never written, and every thread reads it. Shared
// memory is poisoned at the start of every block, so every element of c is
// NaN, whatever the schedule and however many blocks a worker has run before.
template <int kTile>
__global__ void sgemm_tile_skips_last_column(const float* a, const float* b, float* c, int m, int n,
                                             int k) {
  SIMT_SHARED(float, a_tile, [kTile][kTile]);
  SIMT_SHARED(float, b_tile, [kTile][kTile]);
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * kTile + ty;
  const int col = blockIdx.x * kTile + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += kTile) {
    if (tx < kTile - 1) {  // BUG: should be every tx
      a_tile[ty][tx] = (row < m && k0 + tx < k) ? a[static_cast<size_t>(row) * k + k0 + tx] : 0.0f;
    }
    b_tile[ty][tx] = (k0 + ty < k && col < n) ? b[static_cast<size_t>(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
    for (int kk = 0; kk < kTile; ++kk) acc += a_tile[ty][kk] * b_tile[kk][tx];
    __syncthreads();
  }
  if (row < m && col < n) c[static_cast<size_t>(row) * n + col] = acc;
}

// The sample reduction with a 32-entry partials array whose warp 0 sums all
// 32 entries, though only kBlock / 32 warps write one. On a GPU the rest is
// whatever the previous kernel left there. Shared by the two kernels below,
// which differ only in how they declare the array.
template <int kBlock>
__device__ void reduce_summing_all_32_partials(const float* x, int n, float* sum,
                                               float* warp_sums) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  float s = 0.0f;
  for (int i = blockIdx.x * kBlock + threadIdx.x; i < n; i += kBlock * gridDim.x) s += x[i];
  for (int offset = 16; offset > 0; offset /= 2) s += __shfl_down_sync(0xffffffffu, s, offset);
  if (lane == 0) warp_sums[warp] = s;
  __syncthreads();
  if (warp == 0) {
    s = warp_sums[lane];  // BUG: should be `lane < kBlock / 32 ? warp_sums[lane] : 0.0f`
    for (int offset = 16; offset > 0; offset /= 2) s += __shfl_down_sync(0xffffffffu, s, offset);
    if (lane == 0) atomicAdd(sum, s);
  }
}

// With SIMT_SHARED the unwritten entries read NaN: the sum is NaN.
template <int kBlock>
__global__ void reduce_unwritten_partials(const float* x, int n, float* sum) {
  SIMT_SHARED(float, warp_sums, [32]);
  reduce_summing_all_32_partials<kBlock>(x, n, sum, warp_sums);
}

// With plain __shared__ (static thread_local storage, zero on every worker
// and never written past kBlock / 32) they read 0: the bug never shows in the
// emulator, under any schedule. This is why kernels use SIMT_SHARED.
template <int kBlock>
__global__ void reduce_unwritten_partials_plain_shared(const float* x, int n, float* sum) {
  __shared__ float warp_sums[32];
  reduce_summing_all_32_partials<kBlock>(x, n, sum, warp_sums);
}

// The sample softmax without the barrier between thread 0 writing the row's
// maximum and everyone reading it: readers that run first see a stale value.
// Threads run in order would hide it (thread 0 always goes first).
template <int kBlock>
__global__ void softmax_missing_broadcast_sync(const float* x, float* y, int cols) {
  constexpr int kWarps = kBlock / 32;
  SIMT_DYNAMIC_SHARED(float, warp_partials);
  SIMT_SHARED(float, row_stat);
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const float* xr = x + static_cast<size_t>(blockIdx.x) * cols;
  float* yr = y + static_cast<size_t>(blockIdx.x) * cols;
  float mx = -INFINITY;
  for (int i = tid; i < cols; i += kBlock) mx = fmaxf(mx, xr[i]);
  for (int offset = 16; offset > 0; offset /= 2) {
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, offset));
  }
  if (lane == 0) warp_partials[warp] = mx;
  __syncthreads();
  if (tid == 0) {
    float m = warp_partials[0];
    for (int w = 1; w < kWarps; ++w) m = fmaxf(m, warp_partials[w]);
    row_stat = m;
  }
  // BUG: no __syncthreads() here.
  mx = row_stat;
  __syncthreads();
  float s = 0.0f;
  for (int i = tid; i < cols; i += kBlock) s += __expf(xr[i] - mx);
  for (int offset = 16; offset > 0; offset /= 2) s += __shfl_xor_sync(0xffffffffu, s, offset);
  if (lane == 0) warp_partials[warp] = s;
  __syncthreads();
  if (tid == 0) {
    float total = 0.0f;
    for (int w = 0; w < kWarps; ++w) total += warp_partials[w];
    row_stat = total;
  }
  __syncthreads();
  const float inv = 1.0f / row_stat;
  for (int i = tid; i < cols; i += kBlock) yr[i] = __expf(xr[i] - mx) * inv;
}

// Half the block waits at one barrier, half at another: undefined on a GPU
// (a hang or garbage), an error here.
__global__ void divergent_barrier(float* out) {
  if (threadIdx.x < 16) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1.0f;
}

// The same on one line: only __COUNTER__ tells the two barriers apart.
// clang-format off
__global__ void divergent_barrier_one_line(float* out) {
  if (threadIdx.x % 2 == 0) { __syncthreads(); } else { __syncthreads(); }
  out[threadIdx.x] = 2.0f;
}
// clang-format on

// Lanes 0-15 shuffle with a full mask; lanes 16-31 never do, they go to the
// barrier: the shuffle can never complete.
__global__ void shuffle_missing_lanes(float* out) {
  float v = static_cast<float>(threadIdx.x);
  if (threadIdx.x < 16) v = __shfl_down_sync(0xffffffffu, v, 1);
  __syncthreads();
  out[threadIdx.x] = v;
}

// Half the warp in a shuffle, half in a ballot, with the same mask.
__global__ void mismatched_collectives(unsigned* out) {
  unsigned v = threadIdx.x;
  if (threadIdx.x < 16) {
    v = __shfl_xor_sync(0xffffffffu, v, 1);
  } else {
    v = __ballot_sync(0xffffffffu, v > 20);
  }
  out[threadIdx.x] = v;
}

// A mask that leaves out the calling lane.
__global__ void mask_without_own_lane(float* out) {
  out[threadIdx.x] = __shfl_sync(0x1u, 1.0f, 0);
}

// Reads dynamic shared memory nobody wrote.
__global__ void read_unwritten_dynamic_shared(float* out) {
  SIMT_DYNAMIC_SHARED(float, scratch);
  if (threadIdx.x == 0) scratch[0] = 1.0f;  // writes one element only
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = scratch[threadIdx.x];
}

// Threads past `active` return early; the others then wait at a barrier. CUDA
// leaves this undefined; recent GPUs count exited threads as arrived.
__global__ void barrier_after_early_exit(float* out, int active) {
  if (static_cast<int>(threadIdx.x) >= active) return;
  __syncthreads();
  out[threadIdx.x] = 3.0f;
}

// Copies without the `if (i < n)` guard: the last block reads and writes past
// the end of the arrays when n is not a multiple of the block size.
__global__ void copy_without_bounds_check(const float* x, float* y, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  (void)n;  // BUG: never compared with i
  y[i] = x[i];
}

// Reads one float past the dynamic shared memory the launch asked for.
__global__ void read_past_dynamic_shared(float* out, int floats) {
  SIMT_DYNAMIC_SHARED(float, scratch);
  scratch[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = scratch[floats];  // BUG: scratch has `floats` elements
}

// Throws on one thread.
struct KernelBug : std::runtime_error {
  using std::runtime_error::runtime_error;
};
__global__ void throws_on_thread_5(float* out) {
  __syncthreads();
  if (threadIdx.x == 5) throw KernelBug("thread five gives up");
  out[threadIdx.x] = 4.0f;
}

}  // namespace SIMT_NS
}  // namespace simt_tests
