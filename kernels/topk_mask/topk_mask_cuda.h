// CUDA twin of topk_mask.h (float32, device pointers). Same contract: mask
// overwritten with exactly k ones per row, the CPU twin's total order (NaN
// above every number, larger first, ties to the lower index), so the mask is
// bit for bit the CPU's whatever the ties.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests. Both
// walk the order from the nearer end, min(k, D - k) picks of an argmax each,
// then mark every element on the kept side of the last pick.
enum class TopkMaskVersion {
  kV1ThreadPerRow = 1,  // one thread per row: each pick scans the row
  kV2WarpPerRow = 2,    // one warp per row: each pick a strided scan + 5-step shuffle argmax
};
inline constexpr TopkMaskVersion kTopkMaskDefault = TopkMaskVersion::kV2WarpPerRow;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
    // x, mask: [N, D] on the device; 1 <= k <= D.
    void topk_mask(int64_t N, int64_t D, int64_t k, const float* x, float* mask,
                   TopkMaskVersion v);)
