// avgpool2d: forward and backward side by side (count_include_pad = true).
#include "kernels/avgpool2d/avgpool2d.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

Tensor avgpool2d(const Tensor& x, int kernel, int stride, int padding) {
  MT_CHECK(x.defined() && x.ndim() == 4, "avgpool2d: expected a 4-d input [N, C, H, W], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  MT_CHECK(kernel >= 1 && stride >= 1 && padding >= 0, "avgpool2d: kernel ", kernel, ", stride ",
           stride, ", padding ", padding, ": kernel and stride must be >= 1, padding >= 0");
  // PyTorch's limit: with more padding, a window could lie wholly in the pad.
  MT_CHECK(2 * padding <= kernel, "avgpool2d: padding ", padding, " is more than half the kernel ",
           kernel);
  const int64_t h = x.size(2), w = x.size(3);
  MT_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel, "avgpool2d: kernel ", kernel,
           " is larger than the padded input ", x.shape(), " (padding ", padding, ")");

  cpu::AvgPool2dParams p;
  p.planes = x.size(0) * x.size(1);
  p.h = h;
  p.w = w;
  p.kernel = kernel;
  p.stride = stride;
  p.padding = padding;
  p.oh = (h + 2 * padding - kernel) / stride + 1;
  p.ow = (w + 2 * padding - kernel) / stride + 1;

  Tensor y = Tensor::empty({x.size(0), x.size(1), p.oh, p.ow}, x.dtype(), x.device());
  dispatch_float("avgpool2d", x, [&](auto zero) {
    using T = decltype(zero);
    cpu::avgpool2d_forward<T>(p, x.data<T>(), y.data<T>());
  });
  const Shape in_shape = x.shape();
  return record("avgpool2d", y, {x}, [p, in_shape](const Tensor& dy) {
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    dispatch_float("avgpool2d backward", dy, [&](auto zero) {
      using T = decltype(zero);
      cpu::avgpool2d_backward<T>(p, dy.data<T>(), dx.data<T>());
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace medtex::ops
