// Launchers of max_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/max/max_cuda.h"

#include <cmath>
#include <cstdint>

#include "kernels/max/max_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
// Longest row a warp takes in v2 (32 elements per lane); longer rows get a block.
constexpr int64_t kWarpRowMax = 1024;
}  // namespace

void max_forward(int64_t outer, int64_t D, int64_t inner, const float* x, float* y, int64_t* idx,
                 MaxVersion v) {
  const int64_t n = outer * inner;
  if (n <= 0 || D <= 0) return;
  if (v == MaxVersion::kV1Thread || inner > 1) {
    check(simt::launch(kern::max_forward_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0, stream(),
                       outer, D, inner, x, y, idx),
          "max_forward", "x=[", outer, ", ", D, ", ", inner, "] v", int(v));
  } else if (D <= kWarpRowMax) {
    check(simt::launch(kern::max_forward_v2<32>, dim3(blocks_for(outer, kBlock / 32)), dim3(kBlock),
                       0, stream(), outer, D, x, y, idx),
          "max_forward", "x=[", outer, ", ", D, ", 1] v2 warp");
  } else {
    check(simt::launch(kern::max_forward_v2<kBlock>, dim3(blocks_for(outer, 1)), dim3(kBlock), 0,
                       stream(), outer, D, x, y, idx),
          "max_forward", "x=[", outer, ", ", D, ", 1] v2 block");
  }
}

void max_backward(int64_t outer, int64_t D, int64_t inner, const int64_t* idx, const float* dy,
                  float* dx, MaxVersion v) {
  const int64_t n = outer * inner;
  if (n <= 0 || D <= 0) return;
  if (v == MaxVersion::kV1Thread) {
    check(simt::launch(kern::max_backward_v1, dim3(blocks_for(n, kBlock)), dim3(kBlock), 0,
                       stream(), outer, D, inner, idx, dy, dx),
          "max_backward", "dx=[", outer, ", ", D, ", ", inner, "] v1");
  } else {
    check(simt::launch(kern::max_backward_v2, dim3(blocks_for(n * D, kBlock)), dim3(kBlock), 0,
                       stream(), outer, D, inner, idx, dy, dx),
          "max_backward", "dx=[", outer, ", ", D, ", ", inner, "] v2");
  }
}

}  // namespace medtex::gpu::SIMT_NS
