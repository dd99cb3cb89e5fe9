// Launchers of avgpool2d_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/avgpool2d/avgpool2d_cuda.h"

#include <cstdint>

#include "kernels/avgpool2d/avgpool2d_cuda.cuh"
#include "kernels/common/pool_geometry.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {
constexpr int kBlock = 256;
}  // namespace

void avgpool2d_forward(const cpu::AvgPool2dParams& p, const float* x, float* y,
                       AvgPool2dVersion v) {
  check_pool_geometry("avgpool2d_forward", p);
  const int64_t total = p.planes * p.oh * p.ow;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::avgpool2d_forward_v1<I>, grid, block, 0, stream(), I(total), int(p.h),
                        int(p.w), int(p.oh), int(p.ow), p.kernel, p.stride, p.padding, x, y);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "avgpool2d_forward",
        "planes=", p.planes, " ", p.h, "x", p.w, " -> ", p.oh, "x", p.ow, " k", p.kernel, " s",
        p.stride, " p", p.padding, " v", int(v));
}

void avgpool2d_backward(const cpu::AvgPool2dParams& p, const float* dy, float* dx,
                        AvgPool2dVersion v) {
  check_pool_geometry("avgpool2d_backward", p);
  const int64_t total = p.planes * p.h * p.w;
  if (total == 0) return;
  const dim3 grid(blocks_for(total, kBlock)), block(kBlock);
  const auto launch = [&](auto index) {
    using I = decltype(index);
    return simt::launch(kern::avgpool2d_backward_v1<I>, grid, block, 0, stream(), I(total),
                        int(p.h), int(p.w), int(p.oh), int(p.ow), p.kernel, p.stride, p.padding, dy,
                        dx);
  };
  check(total <= INT32_MAX ? launch(int32_t{}) : launch(int64_t{}), "avgpool2d_backward",
        "planes=", p.planes, " ", p.h, "x", p.w, " -> ", p.oh, "x", p.ow, " k", p.kernel, " s",
        p.stride, " p", p.padding, " v", int(v));
}

}  // namespace medtex::gpu::SIMT_NS
