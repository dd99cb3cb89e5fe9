// CUDA twins of global_avgpool.h (float32, device pointers). Same contract:
// forward overwrites y with each plane's mean, backward overwrites dx with
// dy / hw spread over the plane.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
enum class GlobalAvgPoolVersion {
  // Forward: one thread per plane, the CPU's four double lanes in its order:
  // bitwise the CPU twin. Best for the nets' heads (hw = 4 or 16 values).
  kV1ThreadPerPlane = 1,
  // Forward: one warp per plane, coalesced float loads, per-lane float sums
  // and a fixed shuffle tree: for large planes. Not bitwise the CPU (float,
  // another order); within 1e-6 relative.
  kV2WarpPerPlane = 2,
};
// The backward has one kernel (one thread per dx element, a broadcast) for
// both versions: bitwise the CPU twin.
// v1 by reasoning, not yet measured: in the nets the planes are 2x2 or 4x4.
inline constexpr GlobalAvgPoolVersion kGlobalAvgPoolDefault =
    GlobalAvgPoolVersion::kV1ThreadPerPlane;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x: [planes, hw] -> y: [planes].
  void global_avgpool_forward(int64_t planes, int64_t hw, const float* x, float* y,
                              GlobalAvgPoolVersion v);
  // dy: [planes] -> dx: [planes, hw].
  void global_avgpool_backward(int64_t planes, int64_t hw, const float* dy, float* dx,
                               GlobalAvgPoolVersion v);
)
