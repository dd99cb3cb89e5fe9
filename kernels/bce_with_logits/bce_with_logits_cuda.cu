// Launchers of bce_with_logits_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/bce_with_logits/bce_with_logits_cuda.h"

#include <cstdint>

#include "kernels/bce_with_logits/bce_with_logits_cuda.cuh"
#include "kernels/reduce/chunk_sum_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

void bce_with_logits_forward(int64_t n, const float* x, const float* y, float* loss,
                             BceWithLogitsVersion v) {
  if (n <= 0) return;  // the engine refuses empty logits
  fixed_chunk_loss<kern::BceTerm>("bce_with_logits_forward", n, x, y, double(n), loss,
                                  v == BceWithLogitsVersion::kV1Chunk);
}

void bce_with_logits_backward(int64_t n, const float* x, const float* y, const float* dloss,
                              float* dx, float* dy) {
  if (n <= 0 || (dx == nullptr && dy == nullptr)) return;
  constexpr int kBlock = 256;
  check(simt::launch(kern::bce_with_logits_backward_kernel, dim3(blocks_for(n, kBlock)),
                     dim3(kBlock), 0, stream(), n, x, y, dloss, dx, dy),
        "bce_with_logits_backward", "n=", n);
}

}  // namespace medtex::gpu::SIMT_NS
