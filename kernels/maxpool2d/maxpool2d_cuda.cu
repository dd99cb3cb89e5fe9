// Launchers of maxpool2d_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/maxpool2d/maxpool2d_cuda.h"

#include <cstdint>

#include "kernels/maxpool2d/maxpool2d_cuda.cuh"
#include "kernels/common/pool_geometry.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
}  // namespace

void maxpool2d_forward(const cpu::MaxPool2dParams& p, const float* x, float* y, int32_t* argmax,
                       MaxPool2dVersion v) {
  check_pool_geometry("maxpool2d_forward", p);
  const int64_t total = p.planes * p.oh * p.ow;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::maxpool2d_forward_v1<I>, grid, block, 0, stream(), I(total), int(p.h),
                        int(p.w), int(p.oh), int(p.ow), p.kernel, p.stride, p.padding, x, y,
                        argmax);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "maxpool2d_forward",
        "planes=", p.planes, " ", p.h, "x", p.w, " -> ", p.oh, "x", p.ow, " k", p.kernel, " s",
        p.stride, " p", p.padding, " v", int(v));
}

void maxpool2d_backward(const cpu::MaxPool2dParams& p, const int32_t* argmax, const float* dy,
                        float* dx, MaxPool2dVersion v) {
  check_pool_geometry("maxpool2d_backward", p);
  const int64_t total = p.planes * p.h * p.w;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::maxpool2d_backward_v1<I>, grid, block, 0, stream(), I(total),
                        int(p.h), int(p.w), int(p.oh), int(p.ow), p.kernel, p.stride, p.padding,
                        argmax, dy, dx);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "maxpool2d_backward",
        "planes=", p.planes, " ", p.h, "x", p.w, " -> ", p.oh, "x", p.ow, " k", p.kernel, " s",
        p.stride, " p", p.padding, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
