// maxpool2d: forward and backward side by side. The forward keeps, for each
// output, the index of the input it selected; the backward routes the
// gradient there.
#include <cstdint>
#include <limits>

#include "engine/dispatch.h"
#include "engine/ops.h"
#include "engine/ops/pool_args.h"
#include "kernels/maxpool2d/maxpool2d.h"
#include "kernels/maxpool2d/maxpool2d_cuda.h"

namespace medtex::ops {

Tensor maxpool2d(const Tensor& x, int kernel, int stride, int padding) {
  const detail::PoolGeometry g = detail::check_pool_args("maxpool2d", x, kernel, stride, padding);
  const int64_t h = g.h, w = g.w;
  MT_CHECK(h * w <= std::numeric_limits<int32_t>::max(), "maxpool2d: input ", x.shape(),
           " has planes too large for 32-bit argmax indices");

  cpu::MaxPool2dParams p;
  p.planes = x.size(0) * x.size(1);
  p.h = h;
  p.w = w;
  p.kernel = kernel;
  p.stride = stride;
  p.padding = padding;
  p.oh = g.oh;
  p.ow = g.ow;

  const Shape out_shape{x.size(0), x.size(1), p.oh, p.ow};
  Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
  // The argmax is only needed by backward; inference skips storing it.
  const bool grad = needs_grad({x});
  Tensor argmax = grad ? Tensor::empty(out_shape, DType::I32, x.device()) : Tensor();
  int32_t* const arg = grad ? argmax.data<int32_t>() : nullptr;
  dispatch(
      "maxpool2d", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::maxpool2d_forward<T>(p, x.data<T>(), y.data<T>(), arg);
      },
      [&] {
        MT_GPU(maxpool2d_forward)(p, x.data<float>(), y.data<float>(), arg, gpu::kMaxPool2dDefault);
      });
  const Shape in_shape = x.shape();
  return record("maxpool2d", y, {x}, [argmax, p, in_shape](const Tensor& dy) {
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    dispatch(
        "maxpool2d backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::maxpool2d_backward<T>(p, argmax.data<int32_t>(), dy.data<T>(), dx.data<T>());
        },
        [&] {
          MT_GPU(maxpool2d_backward)(p, argmax.data<int32_t>(), dy.data<float>(), dx.data<float>(),
                                     gpu::kMaxPool2dDefault);
        });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace medtex::ops
