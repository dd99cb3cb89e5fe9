// CUDA twins of bce_with_logits.h (float32, device pointers). Same contract,
// with the loss written to a device float (loss[0] = float(sum / n), as the
// engine stores it) and the backward reading dloss from the device (scale =
// dloss / n formed there), so a training step needs no host synchronisation.
// A null gradient pointer skips that output.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Versions of the forward (the backward is one elementwise kernel, one
// thread per element per grid-stride step: nothing to reduce).
enum class BceWithLogitsVersion {
  kV1Chunk = 1,  // one thread per 4096-element chunk, chunks added in order: the CPU's order
  kV2Block = 2,  // a block tree per chunk, a one-block tree over the chunks (chunk_sum_cuda.cuh)
};
inline constexpr BceWithLogitsVersion kBceWithLogitsDefault = BceWithLogitsVersion::kV2Block;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // x (logits), y (targets): [n]; loss: [1].
  void bce_with_logits_forward(int64_t n, const float* x, const float* y, float* loss,
                               BceWithLogitsVersion v);
  // dloss: [1]; dx, dy: [n] or null. dx = scale (sigmoid(x) - y), dy = -scale x.
  void bce_with_logits_backward(int64_t n, const float* x, const float* y, const float* dloss,
                                float* dx, float* dy);
)
