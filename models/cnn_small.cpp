#include "models/cnn_small.h"

#include <string>

#include "engine/ops.h"
#include "models/width.h"

namespace medtex::models {

CnnSmall::CnnSmall(int num_classes, double width, Generator& gen, int in_channels)
    : num_classes_(num_classes), in_channels_(in_channels) {
  MT_CHECK(num_classes > 0, "cnn-small: num_classes must be positive, got ", num_classes);
  MT_CHECK(in_channels > 0, "cnn-small: in_channels must be positive, got ", in_channels);
  const int base[4] = {16, 32, 64, 128};
  int in = in_channels;
  for (int i = 0; i < 4; ++i) {
    widths_[size_t(i)] = scaled_width(base[i], width);
    const std::string id = std::to_string(i + 1);
    convs[size_t(i)] = register_module(
        "conv" + id, std::make_shared<nn::Conv2d>(in, widths_[size_t(i)], 3, 1, 1, false, gen));
    bns[size_t(i)] =
        register_module("bn" + id, std::make_shared<nn::BatchNorm2d>(widths_[size_t(i)]));
    in = widths_[size_t(i)];
  }
  fc = register_module("fc", std::make_shared<nn::Linear>(in, num_classes, true, gen));
}

Tensor CnnSmall::forward(const Tensor& x) {
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(1) == in_channels_,
           "cnn-small: expects images [N, ", in_channels_, ", H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  MT_CHECK(x.size(2) >= 16 && x.size(3) >= 16, "cnn-small: images ", x.shape(),
           " are smaller than 16x16; four 2x2 poolings need at least that");
  Tensor h = x;
  for (size_t i = 0; i < 4; ++i) {
    h = ops::maxpool2d(ops::relu(bns[i]->forward(convs[i]->forward(h))), 2, 2);
  }
  return fc->forward(ops::global_avgpool(h));
}

}  // namespace medtex::models
