// Kernels of reduce_cuda.h.
//
// A reduction is described by a ReducePlan (built on the host, passed by
// value): the canonical dims of reduce.h (extent-1 dims dropped, neighbours of
// the same kind merged) split into the kept dims, whose row-major walk is the
// output order, and the reduced dims, whose row-major walk is the order the
// CPU twin adds in. Element (o, q) of the reduction sits at
// offset(o over kept) + offset(q over reduced).
//
// Chunks: the CPU twin sums q in consecutive chunks of kFixedChunk in double
// and adds the chunk sums in order. v1 and the rows kernel of v2 do exactly
// that (bitwise the CPU's result); the block kernel of v2 cuts q into chunks
// of kBlockChunk and adds inside a chunk by a block tree (same value to about
// one rounding of the double sum, then rounded to float once).
#pragma once

#include <cstdint>

#include "kernels/common/parallel.h"
#include "kernels/reduce/group_reduce_cuda.cuh"
#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// Canonical dims alternate kept / reduced, so 32 dims give at most 16 of each.
inline constexpr int kReducePlanDims = 16;

struct ReducePlan {
  int nk = 0, nr = 0;  // kept and reduced canonical dims, outermost first
  int64_t k_extent[kReducePlanDims] = {};
  int64_t k_stride[kReducePlanDims] = {};
  int64_t r_extent[kReducePlanDims] = {};
  int64_t r_stride[kReducePlanDims] = {};
  int64_t outputs = 1;  // product of the kept extents
  int64_t count = 1;    // product of the reduced extents (R)
  int64_t inner_run = 1;  // extent of the innermost reduced dim
};

// Element offset of row-major position i over the first n of the dims
// (n <= kReducePlanDims). Unrolled with constant indices so that the plan
// stays in the parameter bank; the outermost dim needs no division.
__device__ __forceinline__ int64_t walk_offset(int64_t i, int n, const int64_t* extent,
                                               const int64_t* stride) {
  int64_t off = 0;
  SIMT_UNROLL
  for (int d = kReducePlanDims - 1; d > 0; --d) {
    if (d < n) {
      off += (i % extent[d]) * stride[d];
      i /= extent[d];
    }
  }
  return n > 0 ? off + i * stride[0] : off;
}

__device__ __forceinline__ int64_t kept_offset(const ReducePlan& p, int64_t o) {
  return walk_offset(o, p.nk, p.k_extent, p.k_stride);
}
__device__ __forceinline__ int64_t reduced_offset(const ReducePlan& p, int64_t q) {
  return walk_offset(q, p.nr, p.r_extent, p.r_stride);
}

// Sum of x over reduced positions [q0, q1) of output base `kept`, in order, in double.
__device__ __forceinline__ double chunk_sum(const ReducePlan& p, const float* __restrict__ x,
                                            int64_t kept, int64_t q0, int64_t q1) {
  double acc = 0.0;
  for (int64_t q = q0; q < q1; ++q) acc += double(x[kept + reduced_offset(p, q)]);
  return acc;
}

// v1: one thread per output, the CPU twin's loop (chunks of kFixedChunk).
__global__ void __launch_bounds__(256)
    reduce_sum_v1(ReducePlan p, const float* __restrict__ x, float* __restrict__ y,
                  double divisor) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const int64_t chunks = (p.count + kFixedChunk - 1) / kFixedChunk;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < p.outputs; o += stride) {
    const int64_t kept = kept_offset(p, o);
    if (chunks == 1) {
      y[o] = float(chunk_sum(p, x, kept, 0, p.count) / divisor);
      continue;
    }
    double s = 0.0;
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t q1 = (c + 1) * kFixedChunk < p.count ? (c + 1) * kFixedChunk : p.count;
      s += chunk_sum(p, x, kept, c * kFixedChunk, q1);
    }
    y[o] = float(s / divisor);
  }
}

// v2, innermost dim kept: one thread per (output, chunk of kFixedChunk), the
// outputs fastest, so a warp reads 32 neighbouring floats of one reduced row
// (coalesced), and long reductions spread over chunks. With one chunk it
// writes y; otherwise the chunk sum goes to part[o * chunks + c] for
// reduce_finish. Bitwise the CPU's result.
__global__ void __launch_bounds__(256)
    reduce_sum_v2_rows(ReducePlan p, const float* __restrict__ x, float* __restrict__ y,
                       double* __restrict__ part, double divisor) {
  const int64_t chunks = (p.count + kFixedChunk - 1) / kFixedChunk;
  const int64_t items = p.outputs * chunks;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t it = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += stride) {
    const int64_t o = it % p.outputs, c = it / p.outputs;
    const int64_t q1 = (c + 1) * kFixedChunk < p.count ? (c + 1) * kFixedChunk : p.count;
    const double s = chunk_sum(p, x, kept_offset(p, o), c * kFixedChunk, q1);
    if (chunks == 1) {
      y[o] = float(s / divisor);
    } else {
      part[o * chunks + c] = s;
    }
  }
}

// Elements of one (output, chunk) segment in the block kernel.
inline constexpr int64_t kBlockChunk = 4096;

// v2, innermost dim reduced: a group of kGroup threads per (output, chunk of
// kBlockChunk) segment, 256 / kGroup segments per block. Thread g adds
// positions g, g + kGroup, ... of its segment (neighbouring threads read
// neighbouring floats of the contiguous innermost run), then the group adds
// its threads' sums by the fixed tree of GroupReduce. kGroup = 32 for short
// reductions (a warp, no barrier), 256 otherwise.
template <int kGroup>
__global__ void __launch_bounds__(256)
    reduce_sum_v2_block(ReducePlan p, const float* __restrict__ x, float* __restrict__ y,
                        double* __restrict__ part, double divisor) {
  SIMT_SHARED(double, scratch, [2 * (kGroup / 32)]);
  GroupReduce<kGroup> group(scratch);
  constexpr int kPerBlock = 256 / kGroup;
  const int g = int(threadIdx.x) % kGroup;
  // The innermost reduced dim is contiguous (stride 1): position q is
  // (q / inner_run, q % inner_run) over (the other reduced dims, that run).
  const int64_t inner_run = p.inner_run;
  const int64_t chunks = (p.count + kBlockChunk - 1) / kBlockChunk;
  const int64_t segments = p.outputs * chunks;
  for (int64_t seg = int64_t(blockIdx.x) * kPerBlock + int64_t(threadIdx.x) / kGroup;
       seg < segments; seg += int64_t(gridDim.x) * kPerBlock) {
    const int64_t o = seg / chunks, c = seg % chunks;
    const int64_t kept = kept_offset(p, o);
    const int64_t q1 = (c + 1) * kBlockChunk < p.count ? (c + 1) * kBlockChunk : p.count;
    double acc = 0.0;
    int64_t q = c * kBlockChunk + g;
    if (q < q1) {
      int64_t outer = q / inner_run, j = q % inner_run;
      int64_t base = kept + walk_offset(outer, p.nr - 1, p.r_extent, p.r_stride);
      for (;;) {
        acc += double(x[base + j]);
        q += kGroup;
        if (q >= q1) break;
        j += kGroup;
        if (j >= inner_run) {  // crossed into a later run: re-seek
          outer += j / inner_run;
          j %= inner_run;
          base = kept + walk_offset(outer, p.nr - 1, p.r_extent, p.r_stride);
        }
      }
    }
    const double s = group.sum(acc);
    if (g == 0) {
      if (chunks == 1) {
        y[o] = float(s / divisor);
      } else {
        part[o * chunks + c] = s;
      }
    }
  }
}

// Second pass of v2: one thread per output adds its chunk sums in chunk order.
__global__ void __launch_bounds__(256)
    reduce_finish(int64_t outputs, int64_t chunks, const double* __restrict__ part,
                  float* __restrict__ y, double divisor) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < outputs; o += stride) {
    double s = 0.0;
    for (int64_t c = 0; c < chunks; ++c) s += part[o * chunks + c];
    y[o] = float(s / divisor);
  }
}

// Loss totals, v1: one thread adds parts[0..n) in order (the CPU twins'
// ordered_sum and fixed_chunk_sum: bitwise their total).
__global__ void sum_partials_v1(int64_t n, const double* __restrict__ parts, double divisor,
                                float* __restrict__ out) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += parts[i];
  out[0] = float(s / divisor);
}

// Loss totals, v2: one block; thread t adds parts t, t + kBlock, ..., then
// the block tree. Fixed order for a given n.
template <int kBlock>
__global__ void __launch_bounds__(kBlock)
    sum_partials_v2(int64_t n, const double* __restrict__ parts, double divisor,
                    float* __restrict__ out) {
  SIMT_SHARED(double, scratch, [2 * (kBlock / 32)]);
  GroupReduce<kBlock> group(scratch);
  double acc = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += kBlock) acc += parts[i];
  const double s = group.sum(acc);
  if (threadIdx.x == 0) out[0] = float(s / divisor);
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
