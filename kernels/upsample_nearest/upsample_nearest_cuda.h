// CUDA twins of upsample_nearest.h (float32, device pointers). Same contract:
// forward overwrites y, backward overwrites dx with the sum of dy over each
// f x f block in row-major order. Both bitwise the CPU twin's results.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
enum class UpsampleNearestVersion {
  // Forward: one thread per output (coalesced stores; the f threads reading
  // one input share the load). Backward: one thread per input summing its
  // f x f block (a warp reads f whole rows of dy). Nothing left to coalesce:
  // no tuned version (yet).
  kV1ThreadPerElement = 1,
};
inline constexpr UpsampleNearestVersion kUpsampleNearestDefault =
    UpsampleNearestVersion::kV1ThreadPerElement;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [planes, h, w] -> y: [planes, h * f, w * f].
  void upsample_nearest_forward(int64_t planes, int64_t h, int64_t w, int f, const float* x,
                                float* y, UpsampleNearestVersion v);
  // dy: [planes, h * f, w * f] -> dx: [planes, h, w].
  void upsample_nearest_backward(int64_t planes, int64_t h, int64_t w, int f, const float* dy,
                                 float* dx, UpsampleNearestVersion v);
)
