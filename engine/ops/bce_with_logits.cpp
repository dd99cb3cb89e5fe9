// bce_with_logits: binary cross-entropy of sigmoid(logits) against targets in
// [0, 1], mean over all elements (multi-label heads): forward and backward
// side by side. Taking logits rather than probabilities is what makes the
// stable formula possible.
#include "kernels/bce_with_logits/bce_with_logits.h"
#include "kernels/bce_with_logits/bce_with_logits_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets) {
  MT_CHECK(logits.shape() == targets.shape(), "bce_with_logits: logits ", logits.shape(),
           " and targets ", targets.shape(), " differ in shape");
  MT_CHECK(logits.numel() > 0, "bce_with_logits: empty logits ", logits.shape(),
           " (a mean over no elements is undefined)");
  check_same_kind("bce_with_logits", {logits, targets});
  const int64_t n = logits.numel();

  Tensor loss = Tensor::empty({}, logits.dtype(), logits.device());
  dispatch(
      "bce_with_logits", logits,
      [&](auto zero) {
        using T = decltype(zero);
        *loss.data<T>() =
            T(cpu::bce_with_logits_forward<T>(n, logits.data<T>(), targets.data<T>()));
      },
      [&] {
        MT_GPU(bce_with_logits_forward)(n, logits.data<float>(), targets.data<float>(),
                                        loss.data<float>(), gpu::kBceWithLogitsDefault);
      });

  const Tensor saved_x = logits.detach(), saved_y = targets.detach();
  const bool want_x = logits.requires_grad(), want_y = targets.requires_grad();
  return record("bce_with_logits", loss, {logits, targets},
                [saved_x, saved_y, n, want_x, want_y](const Tensor& dy) {
                  Tensor dx, dt;
                  if (want_x)
                    dx = Tensor::empty(saved_x.shape(), saved_x.dtype(), saved_x.device());
                  if (want_y)
                    dt = Tensor::empty(saved_y.shape(), saved_y.dtype(), saved_y.device());
                  dispatch(
                      "bce_with_logits backward", saved_x,
                      [&](auto zero) {
                        using T = decltype(zero);
                        const double scale = dy.item() / double(n);
                        cpu::bce_with_logits_backward<T>(n, saved_x.data<T>(), saved_y.data<T>(),
                                                         scale, want_x ? dx.data<T>() : nullptr,
                                                         want_y ? dt.data<T>() : nullptr);
                      },
                      [&] {
                        // dloss stays on the device: scale = dloss / n is formed there.
                        MT_GPU(bce_with_logits_backward)(n, saved_x.data<float>(),
                                                         saved_y.data<float>(), dy.data<float>(),
                                                         want_x ? dx.data<float>() : nullptr,
                                                         want_y ? dt.data<float>() : nullptr);
                      });
                  return std::vector<Tensor>{dx, dt};
                });
}

}  // namespace medtex::ops
