// batchnorm2d: forward and backward side by side.
//
// The running statistics are buffers, not inputs of the graph: they are read
// (evaluation) or updated in place (training with update_running), and no
// gradient ever reaches them.
#include "kernels/batchnorm2d/batchnorm2d.h"
#include "kernels/batchnorm2d/batchnorm2d_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/vendor/vendor.h"

namespace medtex::ops {

namespace {
// Our kernels, or cuDNN with --kernels vendor.
gpu::BatchNorm2dVersion bn_version() {
  return vendor::active() ? gpu::BatchNorm2dVersion::kVendor : gpu::kBatchNorm2dDefault;
}
}  // namespace

namespace {

void check_channel_vector(const char* name, const Tensor& t, const Tensor& x) {
  MT_CHECK(t.ndim() == 1 && t.size(0) == x.size(1), "batchnorm2d: ", name, " ", t.shape(),
           " does not match the channels of input ", x.shape(), " (expected [", x.size(1), "])");
}

}  // namespace

Tensor batchnorm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const Tensor& running_mean, const Tensor& running_var, bool training,
                   double momentum, double eps, bool update_running) {
  MT_CHECK(x.defined() && x.ndim() == 4, "batchnorm2d: expected a 4-d input [N, C, H, W], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  MT_CHECK(weight.defined() && bias.defined(),
           "batchnorm2d: weight and bias are required (affine batch norm)");
  check_channel_vector("weight", weight, x);
  check_channel_vector("bias", bias, x);
  MT_CHECK(running_mean.defined() == running_var.defined(),
           "batchnorm2d: running_mean and running_var must be given together");
  const bool have_running = running_mean.defined();
  MT_CHECK(have_running || (training && !update_running),
           "batchnorm2d: running_mean and running_var are required ",
           training ? "to update them (update_running = true)" : "in evaluation mode");
  if (have_running) {
    check_channel_vector("running_mean", running_mean, x);
    check_channel_vector("running_var", running_var, x);
  }
  check_same_kind("batchnorm2d", {x, weight, bias, running_mean, running_var});
  MT_CHECK(eps >= 0, "batchnorm2d: eps must be >= 0, got ", eps);

  const cpu::BatchNorm2dShape s{x.size(0), x.size(1), x.size(2) * x.size(3)};
  // With one value per channel the batch variance is 0 and the unbiased one
  // undefined; PyTorch refuses this too.
  MT_CHECK(!training || s.n * s.hw > 1, "batchnorm2d: training needs more than one value per ",
           "channel, got input ", x.shape());

  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  // The mean and inverse standard deviation the forward used, for backward.
  Tensor mean = Tensor::empty({s.c}, x.dtype(), x.device());
  Tensor invstd = Tensor::empty({s.c}, x.dtype(), x.device());
  const bool update = training && update_running && have_running;
  dispatch(
      "batchnorm2d", x,
      [&](auto zero) {
        using T = decltype(zero);
        if (training) {
          cpu::batchnorm2d_forward_train<T>(s, x.data<T>(), weight.data<T>(), bias.data<T>(),
                                            momentum, eps, y.data<T>(), mean.data<T>(),
                                            invstd.data<T>(),
                                            update ? running_mean.data<T>() : nullptr,
                                            update ? running_var.data<T>() : nullptr);
        } else {
          cpu::batchnorm2d_forward_eval<T>(s, x.data<T>(), weight.data<T>(), bias.data<T>(),
                                           running_mean.data<T>(), running_var.data<T>(), eps,
                                           y.data<T>(), invstd.data<T>());
        }
      },
      [&] {
        if (training) {
          MT_GPU(batchnorm2d_forward_train)(
              s, x.data<float>(), weight.data<float>(), bias.data<float>(), momentum, eps,
              y.data<float>(), mean.data<float>(), invstd.data<float>(),
              update ? running_mean.data<float>() : nullptr,
              update ? running_var.data<float>() : nullptr, bn_version());
        } else {
          MT_GPU(batchnorm2d_forward_eval)(s, x.data<float>(), weight.data<float>(),
                                           bias.data<float>(), running_mean.data<float>(),
                                           running_var.data<float>(), eps, y.data<float>(),
                                           invstd.data<float>(), bn_version());
        }
      });
  // A copy, not a view: a later training step may update the running mean in
  // place before this backward runs.
  if (!training) mean.copy_from(running_mean.detach());

  const Tensor saved_x = x.detach();
  const Tensor saved_w = weight.detach();
  return record("batchnorm2d", y, {x, weight, bias},
                [saved_x, saved_w, mean, invstd, s, training](const Tensor& dy) {
                  Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
                  Tensor dw = Tensor::zeros({s.c}, dy.dtype(), dy.device());
                  Tensor db = Tensor::zeros({s.c}, dy.dtype(), dy.device());
                  dispatch(
                      "batchnorm2d backward", dy,
                      [&](auto zero) {
                        using T = decltype(zero);
                        cpu::batchnorm2d_backward<T>(s, training, saved_x.data<T>(),
                                                     dy.data<T>(), mean.data<T>(),
                                                     invstd.data<T>(), saved_w.data<T>(),
                                                     dx.data<T>(), dw.data<T>(), db.data<T>());
                      },
                      [&] {
                        MT_GPU(batchnorm2d_backward)(
                            s, training, saved_x.data<float>(), dy.data<float>(),
                            mean.data<float>(), invstd.data<float>(), saved_w.data<float>(),
                            dx.data<float>(), dw.data<float>(), db.data<float>(),
                            bn_version());
                      });
                  return std::vector<Tensor>{dx, dw, db};
                });
}

}  // namespace medtex::ops
