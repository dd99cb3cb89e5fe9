// Launchers of upsample_nearest_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/upsample_nearest/upsample_nearest_cuda.h"

#include <cstdint>

#include "kernels/runtime/gpu.h"
#include "kernels/upsample_nearest/upsample_nearest_cuda.cuh"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;

void check_shape(const char* op, int64_t planes, int64_t h, int64_t w, int f) {
  MT_CHECK(planes >= 0 && h >= 0 && w >= 0 && f >= 1 && h * f * w * f <= INT32_MAX, op,
           ": bad shape planes=", planes, " ", h, "x", w, " factor ", f,
           " (an output plane must have at most 2^31 - 1 values)");
}
}  // namespace

void upsample_nearest_forward(int64_t planes, int64_t h, int64_t w, int f, const float* x, float* y,
                              UpsampleNearestVersion v) {
  check_shape("upsample_nearest_forward", planes, h, w, f);
  const int64_t total = planes * h * f * w * f;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::upsample_nearest_forward_v1<I>, grid, block, 0, stream(), I(total),
                        int(h), int(w), f, x, y);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "upsample_nearest_forward",
        "planes=", planes, " ", h, "x", w, " factor ", f, " v", int(v));
}

void upsample_nearest_backward(int64_t planes, int64_t h, int64_t w, int f, const float* dy,
                               float* dx, UpsampleNearestVersion v) {
  check_shape("upsample_nearest_backward", planes, h, w, f);
  const int64_t total = planes * h * w;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::upsample_nearest_backward_v1<I>, grid, block, 0, stream(), I(total),
                        int(h), int(w), f, dy, dx);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "upsample_nearest_backward",
        "planes=", planes, " ", h, "x", w, " factor ", f, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
