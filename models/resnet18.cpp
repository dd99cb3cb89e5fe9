#include "models/resnet18.h"

#include "engine/nn/init.h"
#include "engine/ops.h"
#include "models/width.h"

namespace medtex::models {

namespace {

// torchvision re-initialises every convolution after construction with
// kaiming_normal_(mode="fan_out", nonlinearity="relu"): N(0, 2 / (out * k * k)).
std::shared_ptr<nn::Conv2d> conv(int in, int out, int kernel, int stride, int padding,
                                 Generator& gen) {
  auto c = std::make_shared<nn::Conv2d>(in, out, kernel, stride, padding, /*bias=*/false, gen);
  nn::init::kaiming_normal_fan_out(c->weight, gen);
  return c;
}

std::shared_ptr<nn::Sequential> stage(int in, int out, int stride, Generator& gen) {
  auto s = std::make_shared<nn::Sequential>();
  s->push_back(std::make_shared<BasicBlock>(in, out, stride, gen));
  s->push_back(std::make_shared<BasicBlock>(out, out, 1, gen));
  return s;
}

}  // namespace

BasicBlock::BasicBlock(int in, int out, int stride, Generator& gen) {
  // Registration order is torchvision's, so named_parameters() lists the
  // tensors in the same order as PyTorch's state_dict().
  conv1 = register_module("conv1", conv(in, out, 3, stride, 1, gen));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(out));
  conv2 = register_module("conv2", conv(out, out, 3, 1, 1, gen));
  bn2 = register_module("bn2", std::make_shared<nn::BatchNorm2d>(out));
  if (stride != 1 || in != out) {
    downsample = register_module(
        "downsample",
        std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
            conv(in, out, 1, stride, 0, gen), std::make_shared<nn::BatchNorm2d>(out)}));
  }
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor y = ops::relu(bn1->forward(conv1->forward(x)));
  y = bn2->forward(conv2->forward(y));
  const Tensor shortcut = downsample ? downsample->forward(x) : x;
  return ops::relu(ops::add(y, shortcut));
}

ResNet18::ResNet18(int num_classes, double width, Generator& gen, int in_channels)
    : num_classes_(num_classes), in_channels_(in_channels) {
  MT_CHECK(num_classes > 0, "resnet18: num_classes must be positive, got ", num_classes);
  MT_CHECK(in_channels > 0, "resnet18: in_channels must be positive, got ", in_channels);
  const int base[4] = {64, 128, 256, 512};
  for (int i = 0; i < 4; ++i) widths_[i] = scaled_width(base[i], width);

  conv1 = register_module("conv1", conv(in_channels, widths_[0], 7, 2, 3, gen));
  bn1 = register_module("bn1", std::make_shared<nn::BatchNorm2d>(widths_[0]));
  layer1 = register_module("layer1", stage(widths_[0], widths_[0], 1, gen));
  layer2 = register_module("layer2", stage(widths_[0], widths_[1], 2, gen));
  layer3 = register_module("layer3", stage(widths_[1], widths_[2], 2, gen));
  layer4 = register_module("layer4", stage(widths_[2], widths_[3], 2, gen));
  fc = register_module("fc", std::make_shared<nn::Linear>(widths_[3], num_classes, true, gen));
}

Tensor ResNet18::forward(const Tensor& x) {
  return head(features(x));
}

Tensor ResNet18::features(const Tensor& x, int stage) {
  MT_CHECK(stage >= 1 && stage <= 4, "resnet18: stage must be 1..4, got ", stage);
  MT_CHECK(x.defined() && x.ndim() == 4 && x.size(1) == in_channels_,
           "resnet18: expects images [N, ", in_channels_, ", H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  Tensor h = ops::relu(bn1->forward(conv1->forward(x)));
  h = ops::maxpool2d(h, 3, 2, 1);
  nn::Sequential* stages[4] = {layer1.get(), layer2.get(), layer3.get(), layer4.get()};
  for (int s = 0; s < stage; ++s) h = stages[s]->forward(h);
  return h;
}

Tensor ResNet18::head(const Tensor& features, int stage) {
  MT_CHECK(stage >= 1 && stage <= 4, "resnet18: stage must be 1..4, got ", stage);
  MT_CHECK(features.defined() && features.ndim() == 4 && features.size(1) == widths_[stage - 1],
           "resnet18: head expects layer", stage, " features [N, ", widths_[stage - 1],
           ", h, w], got ", features.defined() ? features.str() : std::string("an undefined tensor"));
  nn::Sequential* stages[4] = {layer1.get(), layer2.get(), layer3.get(), layer4.get()};
  Tensor h = features;
  for (int s = stage; s < 4; ++s) h = stages[s]->forward(h);
  return fc->forward(ops::global_avgpool(h));
}

}  // namespace medtex::models
