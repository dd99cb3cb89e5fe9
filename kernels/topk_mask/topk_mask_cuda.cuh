// Hard top-k mask kernels.
//
// Why selection by successive argmax: in the strict total order of the CPU
// twin, the k best of a row are exactly the elements at or before the k-th
// best, P. P is found by k argmax rounds, each over the elements strictly
// after the previous pick, so no scratch space and no sort is needed, and the
// answer is unique (no tie is left to the reduction order). When k > D / 2 it
// is cheaper to walk from the other end: Q, the (D - k)-th worst, and the
// kept elements are those strictly before Q (all of them when k == D).
// Rows here are short (the explainer: D = 64 patches, k = 8).
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// The CPU twin's order: does (a, i) rank before (b, j)?
__device__ __forceinline__ bool topk_before(float a, int64_t i, float b, int64_t j) {
  const bool na = a != a, nb = b != b;
  if (na != nb) return na;
  if (!na && a != b) return a > b;
  return i < j;
}

// The order the picks are made in: best first, or worst first.
__device__ __forceinline__ bool topk_walk_before(bool best_first, float a, int64_t i, float b,
                                                 int64_t j) {
  return best_first ? topk_before(a, i, b, j) : topk_before(b, j, a, i);
}

// Is element (v, j) kept, given the last pick (pv, pi) of a walk of `picks`?
__device__ __forceinline__ bool topk_kept(bool best_first, int64_t picks, float v, int64_t j,
                                          float pv, int64_t pi) {
  if (best_first) return j == pi || topk_before(v, j, pv, pi);
  return picks == 0 || topk_before(v, j, pv, pi);
}

// v1: one thread per row; each of the min(k, D - k) picks scans the row.
// x, mask: [N, D]
__global__ void topk_mask_v1(int64_t N, int64_t D, int64_t k, const float* __restrict__ x,
                             float* __restrict__ mask) {
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  const bool best_first = k <= D - k;
  const int64_t picks = best_first ? k : D - k;
  for (int64_t n = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; n < N; n += stride) {
    const float* row = x + n * D;
    float pv = 0.f;
    int64_t pi = -1;  // no pick yet
    for (int64_t r = 0; r < picks; ++r) {
      float bv = 0.f;
      int64_t bi = -1;
      for (int64_t j = 0; j < D; ++j) {
        const float v = row[j];
        if (pi >= 0 && !topk_walk_before(best_first, pv, pi, v, j)) continue;  // already picked
        if (bi < 0 || topk_walk_before(best_first, v, j, bv, bi)) bv = v, bi = j;
      }
      pv = bv, pi = bi;
    }
    float* out = mask + n * D;
    for (int64_t j = 0; j < D; ++j)
      out[j] = topk_kept(best_first, picks, row[j], j, pv, pi) ? 1.f : 0.f;
  }
}

// v2: one warp per row (kWarps rows per block). Each pick: every lane scans
// its strided share of the elements after the previous pick, then a
// butterfly of shuffles leaves the warp's argmax in every lane (unique, as
// the order is total, so the shuffle order cannot change it). No shared
// memory, no block barrier.
// x, mask: [N, D]
template <int kWarps>
__global__ void __launch_bounds__(kWarps * 32)
    topk_mask_v2(int64_t N, int64_t D, int64_t k, const float* __restrict__ x,
                 float* __restrict__ mask) {
  const int lane = int(threadIdx.x) % 32;
  const int64_t warp = int64_t(blockIdx.x) * kWarps + int64_t(threadIdx.x) / 32;
  const int64_t warps = int64_t(gridDim.x) * kWarps;
  const bool best_first = k <= D - k;
  const int64_t picks = best_first ? k : D - k;
  for (int64_t n = warp; n < N; n += warps) {  // uniform across the warp
    const float* row = x + n * D;
    float pv = 0.f;
    int pi = -1;  // 32-bit indices (D < 2^31, checked by the launcher): one shuffle each
    for (int64_t r = 0; r < picks; ++r) {
      float bv = 0.f;
      int bi = -1;
      for (int j = lane; j < D; j += 32) {
        const float v = row[j];
        if (pi >= 0 && !topk_walk_before(best_first, pv, pi, v, j)) continue;
        if (bi < 0 || topk_walk_before(best_first, v, j, bv, bi)) bv = v, bi = j;
      }
      SIMT_UNROLL
      for (int off = 16; off > 0; off /= 2) {
        const float ov = __shfl_xor_sync(0xffffffffu, bv, off);
        const int oi = __shfl_xor_sync(0xffffffffu, bi, off);
        if (oi >= 0 && (bi < 0 || topk_walk_before(best_first, ov, oi, bv, bi))) bv = ov, bi = oi;
      }
      pv = bv, pi = bi;
    }
    float* out = mask + n * D;
    for (int j = lane; j < D; j += 32)
      out[j] = topk_kept(best_first, picks, row[j], j, pv, pi) ? 1.f : 0.f;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
