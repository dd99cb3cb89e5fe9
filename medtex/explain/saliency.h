// Gradient saliency (Simonyan, Vedaldi and Zisserman 2014, "Deep inside
// convolutional networks"): how much an infinitesimal change of each pixel
// moves the score of the class the teacher predicts,
//   M[i, j] = max_ch | d logit_c(x) / d x[ch, i, j] |,   c = argmax logit(x),
// the maximum over colour channels as in the paper; a patch's score is the
// sum of M over its pixels. The teacher runs in eval mode, so each image's
// gradient is its own (no BatchNorm coupling across the batch).
#pragma once

#include <cstdint>

#include "engine/nn/module.h"
#include "engine/tensor.h"

namespace medtex::explain {

// One batch, pixel resolution. x: [N, C, H, W] -> M: [N, H, W] in x's dtype.
// classes: int [N] to explain another class than the prediction (undefined:
// the teacher's prediction). Needs grad mode on (not under NoGradGuard). The
// teacher's mode, parameters and .grad are left as they were.
Tensor saliency_map(nn::Module& teacher, const Tensor& x, const Tensor& classes = Tensor());

// Patch scores: saliency_map summed over each patch x patch square, batch_size
// images at a time. x: [N, C, H, W] -> float32 [N, (H / patch) * (W / patch)].
Tensor gradient_saliency(nn::Module& teacher, const Tensor& x, int patch, int64_t batch_size = 32);

}  // namespace medtex::explain
