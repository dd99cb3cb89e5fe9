#include "models/explainer.h"

#include <string>

#include "engine/ops.h"
#include "models/width.h"

namespace medtex::models {

namespace {
bool is_power_of_two(int p) {
  return p >= 1 && (p & (p - 1)) == 0;
}
}  // namespace

int64_t patch_count(int patch, int64_t height, int64_t width) {
  MT_CHECK(is_power_of_two(patch),
           "explainer: patch must be a power of two (1, 2, 4, 8, ...), got ", patch);
  MT_CHECK(height > 0 && width > 0 && height % patch == 0 && width % patch == 0, "explainer: a ",
           height, "x", width, " image does not split into whole ", patch, "x", patch,
           " patches (its size must be a multiple of the patch)");
  return (height / patch) * (width / patch);
}

Explainer::Explainer(int patch, double width, Generator& gen, int in_channels)
    : patch_(patch), in_channels_(in_channels), channels_(scaled_width(32, width)) {
  MT_CHECK(is_power_of_two(patch),
           "explainer: patch must be a power of two (1, 2, 4, 8, ...), got ", patch);
  MT_CHECK(in_channels > 0, "explainer: in_channels must be positive, got ", in_channels);
  int in = in_channels;
  for (int p = patch, i = 1; p > 1; p /= 2, ++i) {
    convs.push_back(
        register_module("conv" + std::to_string(i),
                        std::make_shared<nn::Conv2d>(in, channels_, 3, 1, 1, true, gen)));
    in = channels_;
  }
  head = register_module("head", std::make_shared<nn::Conv2d>(in, 1, 1, 1, 0, true, gen));
}

Tensor Explainer::forward(const Tensor& x) {
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(1) == in_channels_,
           "explainer: expects images [N, ", in_channels_, ", H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  patch_count(patch_, x.size(2), x.size(3));
  Tensor h = x;
  for (const auto& c : convs) h = ops::maxpool2d(ops::relu(c->forward(h)), 2, 2);
  return ops::flatten(head->forward(h), 1);  // [N, 1, G_h, G_w] -> [N, G_h * G_w]
}

}  // namespace medtex::models
