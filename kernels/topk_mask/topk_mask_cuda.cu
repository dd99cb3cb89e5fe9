// Launchers of topk_mask_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/topk_mask/topk_mask_cuda.h"

#include <cstdint>
#include <limits>

#include "kernels/runtime/gpu.h"
#include "kernels/topk_mask/topk_mask_cuda.cuh"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kRowsPerBlockV1 = 128;  // threads, one row each
constexpr int kWarpsV2 = 4;           // 128 threads, one row per warp
}  // namespace

void topk_mask(int64_t N, int64_t D, int64_t k, const float* x, float* mask, TopkMaskVersion v) {
  if (N <= 0 || D <= 0) return;
  MT_CHECK(k >= 1 && k <= D && D <= std::numeric_limits<int>::max(), "topk_mask: k = ", k,
           " out of range for x [", N, ", ", D, "]");
  if (v == TopkMaskVersion::kV1ThreadPerRow) {
    check(simt::launch(kern::topk_mask_v1, dim3(blocks_for(N, kRowsPerBlockV1)),
                       dim3(kRowsPerBlockV1), 0, stream(), N, D, k, x, mask),
          "topk_mask", "x=[", N, ", ", D, "] k=", k, " v", int(v));
    return;
  }
  check(simt::launch(kern::topk_mask_v2<kWarpsV2>, dim3(blocks_for(N, kWarpsV2)),
                     dim3(kWarpsV2 * 32), 0, stream(), N, D, k, x, mask),
        "topk_mask", "x=[", N, ", ", D, "] k=", k, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
