// cross_entropy (hard labels) and cross_entropy_soft (probability targets):
// forward and backward side by side. Both fuse the log-softmax into the loss,
// which is both stabler (log of a softmax never underflows to log 0) and one
// pass cheaper than log_softmax followed by a gather.
#include "kernels/cross_entropy/cross_entropy.h"
#include "kernels/cross_entropy/cross_entropy_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

namespace {

void check_logits(const char* op, const Tensor& logits, const Tensor& other) {
  MT_CHECK(logits.ndim() == 2, op, ": expects logits [N, C], got ", logits.shape(), " (with ",
           other.shape(), ")");
  MT_CHECK(logits.size(0) > 0 && logits.size(1) > 0, op, ": empty logits ", logits.shape(),
           " (a mean over no rows or a softmax over no classes is undefined)");
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& labels) {
  check_logits("cross_entropy", logits, labels);
  const int64_t n = logits.size(0), c = logits.size(1);
  MT_CHECK(labels.ndim() == 1 && labels.size(0) == n, "cross_entropy: logits ", logits.shape(),
           " need labels [", n, "], got ", labels.shape());
  MT_CHECK(labels.device() == logits.device(), "cross_entropy: logits ", logits.str(),
           " and labels ", labels.str(), " are on different devices");
  // Every label is checked before any compute, so a bad one gets a message
  // naming the row rather than an out-of-bounds read. PyTorch's ignore_index
  // (-100) is not supported: it is reported like any other negative label.
  // On cuda the labels are checked on the device (cross_entropy_cuda.h); only
  // a bad row's label is copied back, for the message.
  if (labels.device().is_cuda()) {
    dispatch_index_type("cross_entropy", labels, [&](auto izero) {
      using I = decltype(izero);
      const int64_t bad = MT_GPU(cross_entropy_first_bad_label<I>)(n, c, labels.data<I>());
      if (bad < 0) return;
      const I value = labels.to(Device::cpu()).data<I>()[bad];
      fail("cross_entropy: label ", int64_t(value), " in row ", bad, " is out of range for ", c,
           " classes (logits ", logits.shape(), ")");
    });
  } else {
    dispatch_index("cross_entropy", labels, [&](auto izero) {
      using I = decltype(izero);
      const I* lab = labels.data<I>();
      const int64_t bad = cpu::cross_entropy_first_bad_label<I>(n, c, lab);
      MT_CHECK(bad < 0, "cross_entropy: label ", int64_t(bad < 0 ? 0 : lab[bad]), " in row ", bad,
               " is out of range for ", c, " classes (logits ", logits.shape(), ")");
    });
  }

  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor lse = Tensor::empty({n}, DType::F64, logits.device());
  dispatch(
      "cross_entropy", logits,
      [&](auto zero) {
        using T = decltype(zero);
        dispatch_index("cross_entropy", labels, [&](auto izero) {
          using I = decltype(izero);
          const double l = cpu::cross_entropy_forward<T, I>(n, c, logits.data<T>(),
                                                            labels.data<I>(), lse.data<double>());
          *loss.data<T>() = T(l);
        });
      },
      [&] {
        dispatch_index_type("cross_entropy", labels, [&](auto izero) {
          using I = decltype(izero);
          MT_GPU(cross_entropy_forward<I>)(n, c, logits.data<float>(), labels.data<I>(),
                                           lse.data<double>(), loss.data<float>(),
                                           gpu::kCrossEntropyDefault);
        });
      });

  const Tensor saved_x = logits.detach(), saved_labels = labels.detach();
  return record("cross_entropy", loss, {logits, labels},
                [saved_x, saved_labels, lse, n, c](const Tensor& dy) -> std::vector<Tensor> {
                  Tensor dx = Tensor::empty(saved_x.shape(), saved_x.dtype(), saved_x.device());
                  dispatch(
                      "cross_entropy backward", saved_x,
                      [&](auto zero) {
                        using T = decltype(zero);
                        const double scale = dy.item() / double(n);
                        dispatch_index("cross_entropy backward", saved_labels, [&](auto izero) {
                          using I = decltype(izero);
                          cpu::cross_entropy_backward<T, I>(n, c, saved_x.data<T>(),
                                                            saved_labels.data<I>(),
                                                            lse.data<double>(), scale,
                                                            dx.data<T>());
                        });
                      },
                      [&] {
                        // dloss stays on the device: scale = dloss / n is formed there.
                        dispatch_index_type("cross_entropy backward", saved_labels, [&](auto izero) {
                          using I = decltype(izero);
                          MT_GPU(cross_entropy_backward<I>)(
                              n, c, saved_x.data<float>(), saved_labels.data<I>(),
                              lse.data<double>(), dy.data<float>(), dx.data<float>(),
                              gpu::kCrossEntropyDefault);
                        });
                      });
                  return {dx, Tensor()};  // labels get no gradient
                });
}

Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target) {
  check_logits("cross_entropy_soft", logits, target);
  MT_CHECK(target.shape() == logits.shape(), "cross_entropy_soft: logits ", logits.shape(),
           " and target ", target.shape(), " differ in shape");
  check_same_kind("cross_entropy_soft", {logits, target});
  const int64_t n = logits.size(0), c = logits.size(1);

  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  Tensor lse = Tensor::empty({n}, DType::F64, logits.device());
  dispatch(
      "cross_entropy_soft", logits,
      [&](auto zero) {
        using T = decltype(zero);
        const double l = cpu::cross_entropy_soft_forward<T>(n, c, logits.data<T>(),
                                                            target.data<T>(), lse.data<double>());
        *loss.data<T>() = T(l);
      },
      [&] {
        MT_GPU(cross_entropy_soft_forward)(n, c, logits.data<float>(), target.data<float>(),
                                           lse.data<double>(), loss.data<float>(),
                                           gpu::kCrossEntropyDefault);
      });

  const Tensor saved_x = logits.detach(), saved_t = target.detach();
  const bool want_x = logits.requires_grad(), want_t = target.requires_grad();
  return record("cross_entropy_soft", loss, {logits, target},
                [saved_x, saved_t, lse, n, c, want_x, want_t](const Tensor& dy) {
                  Tensor dx, dt;
                  if (want_x)
                    dx = Tensor::empty(saved_x.shape(), saved_x.dtype(), saved_x.device());
                  if (want_t)
                    dt = Tensor::empty(saved_t.shape(), saved_t.dtype(), saved_t.device());
                  dispatch(
                      "cross_entropy_soft backward", saved_x,
                      [&](auto zero) {
                        using T = decltype(zero);
                        const double scale = dy.item() / double(n);
                        cpu::cross_entropy_soft_backward<T>(
                            n, c, saved_x.data<T>(), saved_t.data<T>(), lse.data<double>(), scale,
                            want_x ? dx.data<T>() : nullptr, want_t ? dt.data<T>() : nullptr);
                      },
                      [&] {
                        // dloss stays on the device: scale = dloss / n is formed there.
                        MT_GPU(cross_entropy_soft_backward)(
                            n, c, saved_x.data<float>(), saved_t.data<float>(), lse.data<double>(),
                            dy.data<float>(), want_x ? dx.data<float>() : nullptr,
                            want_t ? dt.data<float>() : nullptr, gpu::kCrossEntropyDefault);
                      });
                  return std::vector<Tensor>{dx, dt};
                });
}

}  // namespace medtex::ops
