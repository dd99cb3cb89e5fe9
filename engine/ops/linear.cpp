// linear: forward and backward side by side.
//   y = x w^T + b;  dx = dy w;  dw = dy^T x;  db = sum_n dy.
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/linear/linear.h"
#include "kernels/linear/linear_cuda.h"
#include "kernels/vendor/vendor.h"

namespace medtex::ops {

namespace {
// The GEMM under linear on the GPU: ours, or cuBLAS with --kernels vendor.
gpu::GemmVersion gemm_version() {
  return vendor::active() ? gpu::GemmVersion::kVendor : gpu::kGemmDefault;
}
}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b) {
  MT_CHECK(x.ndim() == 2, "linear: expects input [N, IN], got ", x.shape());
  MT_CHECK(w.ndim() == 2, "linear: expects weight [OUT, IN], got ", w.shape());
  MT_CHECK(x.size(1) == w.size(1), "linear: input ", x.shape(), " and weight ", w.shape(),
           " disagree on features");
  MT_CHECK(!b.defined() || (b.ndim() == 1 && b.size(0) == w.size(0)), "linear: bias ",
           b.defined() ? shape_str(b.shape()) : "", " does not match weight ", w.shape(),
           " (expected [", w.size(0), "])");
  check_same_kind("linear", {x, w, b});
  const int64_t n = x.size(0), in = x.size(1), out = w.size(0);

  Tensor y = Tensor::empty({n, out}, x.dtype(), x.device());
  dispatch(
      "linear", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::linear_forward<T>(n, in, out, x.data<T>(), w.data<T>(),
                               b.defined() ? b.data<T>() : nullptr, y.data<T>());
      },
      [&] {
        MT_GPU(linear_forward)(n, in, out, x.data<float>(), w.data<float>(),
                               b.defined() ? b.data<float>() : nullptr, y.data<float>(),
                               gemm_version());
      });

  const bool need_x = x.requires_grad(), need_w = w.requires_grad();
  const bool need_b = b.defined() && b.requires_grad();
  // x is kept only for the weight gradient, w only for the input gradient.
  const Tensor sx = need_w ? x.detach() : Tensor(), sw = need_x ? w.detach() : Tensor();
  const Shape x_shape = x.shape(), w_shape = w.shape();
  const Shape b_shape = b.defined() ? b.shape() : Shape{};
  return record("linear", y, {x, w, b}, [=](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx, dw, db;
    dispatch(
        "linear backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          if (need_x) {
            dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
            cpu::linear_backward_input<T>(n, in, out, dy.data<T>(), sw.data<T>(), dx.data<T>());
          }
          // The kernels accumulate (+=) into parameter gradients: start from zero.
          if (need_w) dw = Tensor::zeros(w_shape, dy.dtype(), dy.device());
          if (need_b) db = Tensor::zeros(b_shape, dy.dtype(), dy.device());
          if (need_w || need_b) {
            cpu::linear_backward_weight<T>(n, in, out, need_w ? sx.data<T>() : nullptr,
                                           dy.data<T>(), need_w ? dw.data<T>() : nullptr,
                                           need_b ? db.data<T>() : nullptr);
          }
        },
        [&] {
          if (need_x) {
            dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
            MT_GPU(linear_backward_input)(n, in, out, dy.data<float>(), sw.data<float>(),
                                          dx.data<float>(), gemm_version());
          }
          // The kernels accumulate (+=) into parameter gradients: start from zero.
          if (need_w) dw = Tensor::zeros(w_shape, dy.dtype(), dy.device());
          if (need_b) db = Tensor::zeros(b_shape, dy.dtype(), dy.device());
          if (need_w || need_b) {
            MT_GPU(linear_backward_weight)(n, in, out, need_w ? sx.data<float>() : nullptr,
                                           dy.data<float>(), need_w ? dw.data<float>() : nullptr,
                                           need_b ? db.data<float>() : nullptr,
                                           gemm_version());
          }
        });
    return {dx, dw, db};
  });
}

}  // namespace medtex::ops
