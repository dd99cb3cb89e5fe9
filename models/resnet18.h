// The teacher: torchvision's ResNet-18 topology with a width multiplier.
//
//   conv1 7x7/2 pad 3 (no bias) - bn1 - ReLU - maxpool 3x3/2 pad 1
//   layer1..layer4: two BasicBlocks each, first block strides 1, 2, 2, 2
//   global average pool - fc
//
// Widths are scaled_width(64, 128, 256, 512; width) (models/width.h), the stem
// having layer1's width, as in torchvision. Parameter and buffer names are
// torchvision's exactly ("conv1.weight", "bn1.running_mean",
// "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
// "layer2.0.downsample.1.running_var", "fc.weight", ...), so a state dict
// exported from torchvision.models.resnet18 loads by name. Initialisation is
// torchvision's too: convolutions kaiming_normal(fan_out, relu), BatchNorm
// weight 1 and bias 0, fc torch.nn.Linear's default.
#pragma once

#include <memory>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace medtex::models {

// conv3x3(stride) - bn - ReLU - conv3x3 - bn, plus the shortcut, then ReLU.
// The shortcut is the identity, or `downsample` = Sequential(conv1x1(stride),
// bn) where the stride or the width changes (torchvision's rule).
class BasicBlock : public nn::Module {
 public:
  BasicBlock(int in, int out, int stride, Generator& gen);
  Tensor forward(const Tensor& x) override;

  std::shared_ptr<nn::Conv2d> conv1, conv2;
  std::shared_ptr<nn::BatchNorm2d> bn1, bn2;
  std::shared_ptr<nn::Sequential> downsample;  // null for the identity shortcut
};

class ResNet18 : public nn::Module {
 public:
  ResNet18(int num_classes, double width, Generator& gen, int in_channels = 3);
  // x: [N, in_channels, H, W] -> logits [N, num_classes]. Any H, W >= 1 works
  // (64x64 ends layer4 at 2x2, 32x32 at 1x1). forward(x) = head(features(x)).
  Tensor forward(const Tensor& x) override;
  // The net split after a convolutional stage, for Grad-CAM
  // (medtex/explain/grad_cam.h), which needs a stage's feature maps and the
  // gradient of a logit with respect to them. stage 1..4 (layer1..layer4).
  // x: [N, in_channels, H, W] -> that stage's output [N, widths()[stage-1],
  // h, w], h ~ H / 2^(stage+1) (layer4: 2x2 at 64x64, 7x7 at 224x224; layer3:
  // 4x4 at 64x64).
  Tensor features(const Tensor& x, int stage = 4);
  // features of `stage` -> logits [N, num_classes]: the remaining stages,
  // global average pool, then fc. forward(x) = head(features(x, s), s) for
  // every s.
  Tensor head(const Tensor& features, int stage = 4);

  int num_classes() const { return num_classes_; }
  int in_channels() const { return in_channels_; }
  // The four stage widths (layer1..layer4).
  const int* widths() const { return widths_; }

  std::shared_ptr<nn::Conv2d> conv1;
  std::shared_ptr<nn::BatchNorm2d> bn1;
  std::shared_ptr<nn::Sequential> layer1, layer2, layer3, layer4;
  std::shared_ptr<nn::Linear> fc;

 private:
  int num_classes_, in_channels_;
  int widths_[4];
};

}  // namespace medtex::models
