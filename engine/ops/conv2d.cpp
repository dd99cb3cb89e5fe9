// conv2d: forward and backward side by side.
//   y = conv(x, w) + b;  dx = conv_transpose(dy, w);  dw = corr(x, dy);  db = sum_{n,oh,ow} dy.
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv2d_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/vendor/vendor.h"

namespace medtex::ops {

namespace {
// Our kernels, or cuDNN with --kernels vendor.
gpu::Conv2dVersion conv_version(gpu::Conv2dVersion ours) {
  return vendor::active() ? gpu::Conv2dVersion::kVendor : ours;
}
}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride, int padding) {
  MT_CHECK(x.ndim() == 4, "conv2d: expects input [N, C, H, W], got ", x.shape());
  MT_CHECK(w.ndim() == 4, "conv2d: expects weight [K, C, R, S], got ", w.shape());
  MT_CHECK(x.size(1) == w.size(1), "conv2d: input ", x.shape(), " and weight ", w.shape(),
           " disagree on channels");
  MT_CHECK(!b.defined() || (b.ndim() == 1 && b.size(0) == w.size(0)), "conv2d: bias ",
           b.defined() ? shape_str(b.shape()) : "", " does not match weight ", w.shape(),
           " (expected [", w.size(0), "])");
  MT_CHECK(stride >= 1 && padding >= 0, "conv2d: stride ", stride, " and padding ", padding,
           " (need stride >= 1, padding >= 0)");
  MT_CHECK(x.size(2) + 2 * padding >= w.size(2) && x.size(3) + 2 * padding >= w.size(3),
           "conv2d: kernel ", w.shape(), " is larger than the padded input ", x.shape(),
           " (padding ", padding, ")");
  check_same_kind("conv2d", {x, w, b});
  const cpu::Conv2dParams p = cpu::Conv2dParams::make(
      x.size(0), x.size(1), x.size(2), x.size(3), w.size(0), w.size(2), w.size(3), stride, padding);

  Tensor y = Tensor::empty({p.N, p.K, p.OH, p.OW}, x.dtype(), x.device());
  dispatch(
      "conv2d", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::conv2d_forward<T>(p, x.data<T>(), w.data<T>(), b.defined() ? b.data<T>() : nullptr,
                               y.data<T>());
      },
      [&] {
        MT_GPU(conv2d_forward)(p, x.data<float>(), w.data<float>(),
                               b.defined() ? b.data<float>() : nullptr, y.data<float>(),
                               conv_version(gpu::kConv2dForwardDefault));
      });

  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  const bool need_b = b.defined() && b.requires_grad();
  // x is kept only for the weight gradient, w only for the input gradient.
  const Tensor sx = need_w ? x.detach() : Tensor(), sw = need_x ? w.detach() : Tensor();
  const Shape x_shape = x.shape(), w_shape = w.shape();
  const Shape b_shape = b.defined() ? b.shape() : Shape{};
  return record("conv2d", y, {x, w, b}, [=](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx, dw, db;
    if (need_x) dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
    // The kernels accumulate (+=) into parameter gradients: start from zero.
    if (need_b) db = Tensor::zeros(b_shape, dy.dtype(), dy.device());
    if (need_w) dw = Tensor::zeros(w_shape, dy.dtype(), dy.device());
    dispatch(
        "conv2d backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          if (need_x) cpu::conv2d_backward_input<T>(p, dy.data<T>(), sw.data<T>(), dx.data<T>());
          if (need_w || need_b) {
            cpu::conv2d_backward_weight<T>(p, need_w ? sx.data<T>() : nullptr, dy.data<T>(),
                                           need_w ? dw.data<T>() : nullptr,
                                           need_b ? db.data<T>() : nullptr);
          }
        },
        [&] {
          if (need_x) {
            MT_GPU(conv2d_backward_input)(p, dy.data<float>(), sw.data<float>(),
                                          dx.data<float>(), conv_version(gpu::kConv2dBackwardInputDefault));
          }
          if (need_w || need_b) {
            MT_GPU(conv2d_backward_weight)(p, need_w ? sx.data<float>() : nullptr,
                                           dy.data<float>(), need_w ? dw.data<float>() : nullptr,
                                           need_b ? db.data<float>() : nullptr,
                                           conv_version(gpu::kConv2dBackwardWeightDefault));
          }
        });
    return {dx, dw, db};
  });
}

}  // namespace medtex::ops
