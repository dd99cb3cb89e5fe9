#include "medtex/explain/saliency.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "medtex/explain/patch_scores.h"
#include "medtex/explain/support.h"
#include "models/explainer.h"

namespace medtex::explain {

Tensor saliency_map(nn::Module& teacher, const Tensor& x, const Tensor& classes) {
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(0) >= 1,
           "gradient saliency: expects images [N, C, H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  MT_CHECK(grad_enabled(), "gradient saliency: needs gradients, but runs under a NoGradGuard");
  EvalMode eval(teacher);
  FrozenParameters frozen(teacher);
  Tensor input = x.detach();  // a fresh leaf on the same values
  input.set_requires_grad();
  const Tensor logits = teacher.forward(input);
  const std::vector<int64_t> c = target_classes(logits, classes, "gradient saliency");
  logits.backward(class_selector(logits, c));
  const Tensor g = input.grad();
  NoGradGuard no_grad;
  // |g| = relu(g) + relu(-g), then the largest over the colour channels.
  const Tensor magnitude = ops::add(ops::relu(g), ops::relu(ops::mul_scalar(g, -1.0)));
  return ops::max(magnitude, 1);
}

Tensor gradient_saliency(nn::Module& teacher, const Tensor& x, int patch, int64_t batch_size) {
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(0) >= 1,
           "gradient saliency: expects images [N, C, H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  MT_CHECK(batch_size >= 1, "gradient saliency: batch_size must be >= 1, got ", batch_size);
  const int64_t n = x.size(0), d = models::patch_count(patch, x.size(2), x.size(3));
  std::vector<float> out;
  out.reserve(size_t(n * d));
  for (int64_t b = 0; b < n; b += batch_size) {
    const Tensor map = saliency_map(teacher, rows(x, b, std::min(n, b + batch_size)));
    const auto v = pixel_map_to_patches(map, patch).to(DType::F32).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return Tensor::from_vector(out, {n, d});
}

}  // namespace medtex::explain
