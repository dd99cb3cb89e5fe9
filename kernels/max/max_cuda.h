// CUDA twins of max.h (float32 values, int64 indices, device pointers). Same
// contract: x viewed as [outer, D, inner]; ties go to the lowest index and a
// NaN beats any number (the first NaN wins). Forward overwrites y (null:
// argmax only) and idx; backward overwrites dx. The chosen element is the
// same as the CPU's under every version, so results are bitwise the CPU's.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Kernel versions, kept side by side for the benchmarks and the tests.
enum class MaxVersion {
  // Forward: one thread per output (o, i) scanning D, the CPU loop
  // (neighbouring threads read neighbouring columns when inner > 1).
  // Backward: one thread per output writing its column of dx, the CPU loop.
  kV1Thread = 1,
  // Forward with inner == 1 (max over the last dim): a warp per row, or a
  // 256-thread block per row when D > 1024; each thread scans a strided part
  // of the row and the (value, index) pairs meet in a shuffle tree whose
  // combine picks the same element as the sequential scan (it is a strict
  // total order: first NaN, else the largest value, ties to the lower
  // index). inner > 1 keeps v1's kernel: it is already coalesced.
  // Backward: one thread per dx element (a gather: coalesced writes).
  kV2Warp = 2,
};
inline constexpr MaxVersion kMaxDefault = MaxVersion::kV2Warp;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [outer, D, inner], D >= 1; y: [outer, inner] or null; idx: [outer, inner].
  void max_forward(int64_t outer, int64_t D, int64_t inner, const float* x, float* y,
                   int64_t* idx, MaxVersion v);
  // idx, dy: [outer, inner]; dx: [outer, D, inner].
  void max_backward(int64_t outer, int64_t D, int64_t inner, const int64_t* idx, const float* dy,
                    float* dx, MaxVersion v);
)
