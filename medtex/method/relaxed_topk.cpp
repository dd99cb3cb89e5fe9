#include "medtex/method/relaxed_topk.h"

#include <cmath>

#include "engine/ops.h"

namespace medtex::method {

namespace {
void check_logits(const char* op, const Tensor& logits, int k) {
  MT_CHECK(logits.defined() && logits.ndim() == 2 && logits.size(1) > 0, op,
           ": expects patch logits [N, d], got ",
           logits.defined() ? logits.str() : std::string("an undefined tensor"));
  MT_CHECK(k >= 1 && k <= logits.size(1), op, ": k = ", k, " out of range [1, ", logits.size(1),
           "] for logits ", logits.shape());
}
}  // namespace

Tensor gumbel_noise(int k, const Tensor& logits, Generator& gen) {
  check_logits("gumbel_noise", logits, k);
  return ops::gumbel({k, logits.size(0), logits.size(1)}, gen, logits.dtype(), logits.device());
}

Tensor relaxed_topk_from_noise(const Tensor& logits, const Tensor& noise, double tau) {
  MT_CHECK(logits.defined() && logits.ndim() == 2,
           "relaxed_topk: expects patch logits [N, d], got ",
           logits.defined() ? logits.str() : std::string("an undefined tensor"));
  const int64_t n = logits.size(0), d = logits.size(1);
  MT_CHECK(noise.defined() && noise.ndim() == 3 && noise.size(1) == n && noise.size(2) == d &&
               noise.size(0) >= 1 && noise.size(0) <= d,
           "relaxed_topk: noise must be [k, N, d] = [k, ", n, ", ", d, "] with 1 <= k <= ", d,
           ", got ", noise.defined() ? noise.str() : std::string("an undefined tensor"));
  MT_CHECK(std::isfinite(tau) && tau > 0, "relaxed_topk: tau must be a positive number, got ", tau);
  // [1, N, d] + [k, N, d]: one perturbed copy of the logits per sample.
  const Tensor perturbed = ops::add(ops::reshape(logits, {1, n, d}), noise);
  const Tensor samples = ops::softmax(perturbed, -1, tau);  // k relaxed one-hots
  return ops::max(samples, 0);                              // relaxed k-hot [N, d]
}

Tensor relaxed_topk(const Tensor& logits, int k, double tau, Generator& gen) {
  check_logits("relaxed_topk", logits, k);
  return relaxed_topk_from_noise(logits, gumbel_noise(k, logits, gen), tau);
}

Tensor hard_topk(const Tensor& logits, int k) {
  check_logits("hard_topk", logits, k);
  return ops::topk_mask(logits, k);
}

}  // namespace medtex::method
