// kl_div(log_q, p) = KL(p || q) in PyTorch's "batchmean" form: forward and
// backward side by side. Distillation calls it as
// kl_div(log_softmax(s, -1, T), softmax(t, -1, T)): the student's log
// probabilities first, the teacher's probabilities second.
#include "kernels/kl_div/kl_div.h"
#include "kernels/kl_div/kl_div_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

Tensor kl_div(const Tensor& log_q, const Tensor& p) {
  MT_CHECK(log_q.shape() == p.shape(), "kl_div: log_q ", log_q.shape(), " and p ", p.shape(),
           " differ in shape");
  MT_CHECK(log_q.ndim() >= 1 && log_q.size(0) > 0, "kl_div: expects a batch dim of size > 0 ",
           "(batchmean divides by it), got log_q ", log_q.shape());
  check_same_kind("kl_div", {log_q, p});
  const int64_t n = log_q.numel(), batch = log_q.size(0);

  Tensor loss = Tensor::empty({}, log_q.dtype(), log_q.device());
  dispatch(
      "kl_div", log_q,
      [&](auto zero) {
        using T = decltype(zero);
        *loss.data<T>() = T(cpu::kl_div_forward<T>(n, batch, log_q.data<T>(), p.data<T>()));
      },
      [&] {
        MT_GPU(kl_div_forward)(n, batch, log_q.data<float>(), p.data<float>(), loss.data<float>(),
                               gpu::kKlDivDefault);
      });

  const Tensor saved_lq = log_q.detach(), saved_p = p.detach();
  const bool want_lq = log_q.requires_grad(), want_p = p.requires_grad();
  return record("kl_div", loss, {log_q, p},
                [saved_lq, saved_p, n, batch, want_lq, want_p](const Tensor& dy) {
                  Tensor dlq, dp;
                  if (want_lq)
                    dlq = Tensor::empty(saved_lq.shape(), saved_lq.dtype(), saved_lq.device());
                  if (want_p)
                    dp = Tensor::empty(saved_p.shape(), saved_p.dtype(), saved_p.device());
                  dispatch(
                      "kl_div backward", saved_lq,
                      [&](auto zero) {
                        using T = decltype(zero);
                        const double scale = dy.item() / double(batch);
                        cpu::kl_div_backward<T>(n, saved_lq.data<T>(), saved_p.data<T>(), scale,
                                                want_lq ? dlq.data<T>() : nullptr,
                                                want_p ? dp.data<T>() : nullptr);
                      },
                      [&] {
                        // dloss stays on the device: scale = dloss / batch is formed there.
                        MT_GPU(kl_div_backward)(n, batch, saved_lq.data<float>(),
                                                saved_p.data<float>(), dy.data<float>(),
                                                want_lq ? dlq.data<float>() : nullptr,
                                                want_p ? dp.data<float>() : nullptr);
                      });
                  return std::vector<Tensor>{dlq, dp};
                });
}

}  // namespace medtex::ops
