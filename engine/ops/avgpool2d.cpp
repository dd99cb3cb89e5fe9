// avgpool2d: forward and backward side by side (count_include_pad = true).
#include "kernels/avgpool2d/avgpool2d.h"
#include "kernels/avgpool2d/avgpool2d_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/ops/pool_args.h"

namespace medtex::ops {

Tensor avgpool2d(const Tensor& x, int kernel, int stride, int padding) {
  const detail::PoolGeometry g = detail::check_pool_args("avgpool2d", x, kernel, stride, padding);
  const int64_t h = g.h, w = g.w;

  cpu::AvgPool2dParams p;
  p.planes = x.size(0) * x.size(1);
  p.h = h;
  p.w = w;
  p.kernel = kernel;
  p.stride = stride;
  p.padding = padding;
  p.oh = g.oh;
  p.ow = g.ow;

  Tensor y = Tensor::empty({x.size(0), x.size(1), p.oh, p.ow}, x.dtype(), x.device());
  dispatch(
      "avgpool2d", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::avgpool2d_forward<T>(p, x.data<T>(), y.data<T>());
      },
      [&] {
        MT_GPU(avgpool2d_forward)(p, x.data<float>(), y.data<float>(), gpu::kAvgPool2dDefault);
      });
  const Shape in_shape = x.shape();
  return record("avgpool2d", y, {x}, [p, in_shape](const Tensor& dy) {
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    dispatch(
        "avgpool2d backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::avgpool2d_backward<T>(p, dy.data<T>(), dx.data<T>());
        },
        [&] {
          MT_GPU(avgpool2d_backward)(p, dy.data<float>(), dx.data<float>(),
                                     gpu::kAvgPool2dDefault);
        });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace medtex::ops
