// Launchers of global_avgpool_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/global_avgpool/global_avgpool_cuda.h"

#include <cstdint>

#include "kernels/global_avgpool/global_avgpool_cuda.cuh"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
constexpr int kWarps = kBlock / 32;  // v2: planes per block
}  // namespace

void global_avgpool_forward(int64_t planes, int64_t hw, const float* x, float* y,
                            GlobalAvgPoolVersion v) {
  MT_CHECK(planes >= 0 && hw >= 0, "global_avgpool_forward: bad shape planes=", planes, " hw=", hw);
  if (planes == 0) return;
  if (v == GlobalAvgPoolVersion::kV2WarpPerPlane) {
    check(simt::launch(kern::global_avgpool_forward_v2, dim3(blocks_for(planes, kWarps)),
                       dim3(kBlock), 0, stream(), planes, hw, x, y),
          "global_avgpool_forward", "planes=", planes, " hw=", hw, " v2");
    return;
  }
  check(simt::launch(kern::global_avgpool_forward_v1, dim3(blocks_for(planes, kBlock)),
                     dim3(kBlock), 0, stream(), planes, hw, x, y),
        "global_avgpool_forward", "planes=", planes, " hw=", hw, " v1");
}

void global_avgpool_backward(int64_t planes, int64_t hw, const float* dy, float* dx,
                             GlobalAvgPoolVersion v) {
  MT_CHECK(planes >= 0 && hw >= 0, "global_avgpool_backward: bad shape planes=", planes,
           " hw=", hw);
  const int64_t total = planes * hw;
  if (total == 0) return;
  const bool exact = hw <= (int64_t(1) << 24);  // hw is a float exactly
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::global_avgpool_backward_v1<I>, grid, block, 0, stream(), I(total),
                        I(hw), exact, dy, dx);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "global_avgpool_backward",
        "planes=", planes, " hw=", hw, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
