#include "medtex/explain/grad_cam.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "medtex/explain/support.h"
#include "models/explainer.h"

namespace medtex::explain {

Tensor grad_cam_map(const Tensor& features, const std::function<Tensor(const Tensor&)>& head,
                    const Tensor& classes) {
  MT_CHECK(features.defined() && features.ndim() == 4 && features.size(0) >= 1,
           "grad-cam: expects feature maps [N, K, h, w], got ",
           features.defined() ? features.str() : std::string("an undefined tensor"));
  MT_CHECK(grad_enabled(), "grad-cam: needs gradients, but runs under a NoGradGuard");
  // A leaf on A's values: the gradient stops here, so the trunk below it
  // needs no graph at all.
  Tensor a = features.detach();
  a.set_requires_grad();
  const Tensor logits = head(a);
  const std::vector<int64_t> c = target_classes(logits, classes, "grad-cam");
  logits.backward(class_selector(logits, c));
  MT_CHECK(a.grad().defined(), "grad-cam: the head's logits do not depend on the feature maps");
  NoGradGuard no_grad;
  const Tensor alpha = ops::mean(a.grad(), {2, 3}, /*keepdim=*/true);  // [N, K, 1, 1]
  return ops::relu(ops::sum(ops::mul(alpha, a.detach()), {1}));        // [N, h, w]
}

Tensor grad_cam(models::ResNet18& teacher, const Tensor& x, int patch, Upsample up,
                int64_t batch_size, int stage) {
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(0) >= 1,
           "grad-cam: expects images [N, C, H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  MT_CHECK(batch_size >= 1, "grad-cam: batch_size must be >= 1, got ", batch_size);
  const int64_t n = x.size(0), d = models::patch_count(patch, x.size(2), x.size(3));
  const int64_t grid_h = x.size(2) / patch, grid_w = x.size(3) / patch;
  EvalMode eval(teacher);
  FrozenParameters frozen(teacher);
  std::vector<float> out;
  out.reserve(size_t(n * d));
  for (int64_t b = 0; b < n; b += batch_size) {
    Tensor a;
    {
      NoGradGuard no_grad;
      a = teacher.features(rows(x, b, std::min(n, b + batch_size)), stage);
    }
    const Tensor cam = grad_cam_map(a, [&](const Tensor& f) { return teacher.head(f, stage); });
    const auto v = resize_to_grid(cam, grid_h, grid_w, up).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return Tensor::from_vector(out, {n, d});
}

}  // namespace medtex::explain
