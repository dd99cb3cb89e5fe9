// Launchers of kl_div_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/kl_div/kl_div_cuda.h"

#include <cstdint>

#include "kernels/kl_div/kl_div_cuda.cuh"
#include "kernels/reduce/chunk_sum_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

void kl_div_forward(int64_t n, int64_t batch, const float* log_q, const float* p, float* loss,
                    KlDivVersion v) {
  if (n <= 0) return;  // the engine refuses an empty batch
  fixed_chunk_loss<kern::KlTerm>("kl_div_forward", n, log_q, p, double(batch), loss,
                                 v == KlDivVersion::kV1Chunk);
}

void kl_div_backward(int64_t n, int64_t batch, const float* log_q, const float* p,
                     const float* dloss, float* dlog_q, float* dp) {
  if (n <= 0 || (dlog_q == nullptr && dp == nullptr)) return;
  constexpr int kBlock = 256;
  check(simt::launch(kern::kl_div_backward_kernel, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                     stream(), n, double(batch), log_q, p, dloss, dlog_q, dp),
        "kl_div_backward", "n=", n, " batch=", batch);
}

}  // namespace medtex::gpu::SIMT_NS
