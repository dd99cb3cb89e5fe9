// The student: four [3x3 conv pad 1 (no bias), BatchNorm, ReLU, 2x2 max pool]
// blocks of widths scaled_width(16, 32, 64, 128; width), global average pool,
// linear head.
//
// Parameter names (stable; checkpoints and the PyTorch twin in
// tools/fixtures/ops_cnn_small.py use them):
//   conv1.weight .. conv4.weight          [C_i, C_{i-1}, 3, 3]
//   bn1.* .. bn4.*                        weight, bias, running_mean, running_var,
//                                         num_batches_tracked
//   fc.weight [num_classes, C_4], fc.bias [num_classes]
// The convolutions have no bias (the BatchNorm after each one has its own).
// Initialisation is torch.nn's default for every layer.
#pragma once

#include <array>
#include <memory>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace medtex::models {

class CnnSmall : public nn::Module {
 public:
  CnnSmall(int num_classes, double width, Generator& gen, int in_channels = 3);
  // x: [N, in_channels, H, W] -> logits [N, num_classes]. H and W must be at
  // least 16 (four halvings, floor mode).
  Tensor forward(const Tensor& x) override;

  int num_classes() const { return num_classes_; }
  int in_channels() const { return in_channels_; }
  const std::array<int, 4>& widths() const { return widths_; }

  std::array<std::shared_ptr<nn::Conv2d>, 4> convs;
  std::array<std::shared_ptr<nn::BatchNorm2d>, 4> bns;
  std::shared_ptr<nn::Linear> fc;

 private:
  int num_classes_, in_channels_;
  std::array<int, 4> widths_;
};

}  // namespace medtex::models
