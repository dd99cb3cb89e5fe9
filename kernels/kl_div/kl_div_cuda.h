// CUDA twins of kl_div.h (float32, device pointers). Same contract, with the
// loss written to a device float (loss[0] = float(sum / batch), as the engine
// stores it) and the backward reading dloss from the device (scale = dloss /
// batch formed there), so a training step needs no host synchronisation. A
// null gradient pointer skips that output. Terms with p == 0 count 0 and
// their dp is 0 (the project's choice, see kl_div.h); a negative p gives NaN.
#pragma once

#include <cstdint>

#include "kernels/runtime/backend.h"

namespace medtex::gpu {
// Versions of the forward (the backward is one elementwise kernel, one
// thread per element per grid-stride step: nothing to reduce).
enum class KlDivVersion {
  kV1Chunk = 1,  // one thread per 4096-element chunk, chunks added in order: the CPU's order
  kV2Block = 2,  // a block tree per chunk, a one-block tree over the chunks (chunk_sum_cuda.cuh)
};
inline constexpr KlDivVersion kKlDivDefault = KlDivVersion::kV2Block;
}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // log_q, p: [n]; loss: [1]. batch = the size of dim 0 (the divisor).
  void kl_div_forward(int64_t n, int64_t batch, const float* log_q, const float* p, float* loss,
                      KlDivVersion v);
  // dloss: [1]; dlog_q, dp: [n] or null.
  void kl_div_backward(int64_t n, int64_t batch, const float* log_q, const float* p,
                       const float* dloss, float* dlog_q, float* dp);
)
