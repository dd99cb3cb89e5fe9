// The explainer: one logit per image patch.
//
//   log2(patch) x [3x3 conv pad 1 (with bias), ReLU, 2x2 max pool], C channels
//   head: 1x1 conv C -> 1 (with bias)
//   [N, in_channels, H, W] -> [N, (H / patch) * (W / patch)]
//
// Each stage halves the resolution, so after log2(patch) stages one output
// pixel sits over one patch: with 64x64 images and 8x8 patches, three stages
// give an 8x8 grid, d = 64 logits (DESIGN §4). C = scaled_width(32, width).
// Patch logits are listed row-major over the grid (index = row * G_w + col),
// which is the order masking (medtex/method/masking.h) expects.
//
// Parameter names: conv1.weight/bias .. conv<L>.weight/bias (L = log2(patch)),
// head.weight [1, C, 1, 1], head.bias [1]. torch.nn default initialisation.
#pragma once

#include <memory>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/rng.h"

namespace medtex::models {

class Explainer : public nn::Module {
 public:
  // patch: a power of two >= 1 (1 gives the head alone: one logit per pixel).
  Explainer(int patch, double width, Generator& gen, int in_channels = 3);
  // x: [N, in_channels, H, W], H and W multiples of patch -> [N, (H/patch)*(W/patch)].
  Tensor forward(const Tensor& x) override;

  int patch() const { return patch_; }
  int in_channels() const { return in_channels_; }
  int channels() const { return channels_; }

  std::vector<std::shared_ptr<nn::Conv2d>> convs;
  std::shared_ptr<nn::Conv2d> head;

 private:
  int patch_, in_channels_, channels_;
};

// Checks that `patch` is a power of two and that an image of height x width
// splits into whole patches; fails with one clear line otherwise. Returns the
// number of patches d.
int64_t patch_count(int patch, int64_t height, int64_t width);

}  // namespace medtex::models
