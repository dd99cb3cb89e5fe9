// Patch scores: what every explanation method produces, so that all of them
// are judged by the same metrics (medtex/explain/evaluate.h).
//
// A score tensor is [N, d] over the same G_h x G_w grid of patch x patch
// squares the explainer scores (models/explainer.h): G_h = H / patch,
// G_w = W / patch, d = G_h * G_w, patch index r * G_w + c (row-major).
// Higher means more important. The methods:
//   random            random_patch_scores (here)
//   the explainer     explainer_scores (here): its patch logits
//   gradient saliency gradient_saliency (saliency.h)
//   Grad-CAM          grad_cam (grad_cam.h)
//   L2X / VIBI        the explainer trained with MedtexConfig::l2x()
//                     (medtex/method/objective.h), scored by explainer_scores
// and select_topk turns any of them into the hard k-patch selection.
#pragma once

#include <cstdint>

#include "engine/nn/module.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace medtex::explain {

// float32 [n, d], i.i.d. U[0, 1) from gen's next draw: the same generator
// state gives the same scores. Ties have probability ~0, so the selection is a
// uniformly random k-subset.
Tensor random_patch_scores(int64_t n, int64_t d, Generator& gen);

// The explainer's patch logits e = E(x), in eval mode and without a graph,
// batch_size images at a time. x: [N, C, H, W] -> float32 [N, d].
Tensor explainer_scores(nn::Module& explainer, const Tensor& x, int64_t batch_size = 64);

// The hard top-k selection: float [N, d] with 1 at the k largest scores of
// each row (ties to the lower index; ops::topk_mask), in the scores' dtype.
Tensor select_topk(const Tensor& scores, int k);

// A pixel map [N, H, W] or [N, 1, H, W] -> [N, d], the sum of each
// patch x patch square (H and W multiples of patch).
Tensor pixel_map_to_patches(const Tensor& pixel_map, int patch);

// How a coarse map (fewer cells than the grid along an axis) is enlarged.
enum class Upsample {
  // Grid cell i takes map cell floor(i * h / G) (PyTorch's "nearest"); each
  // map cell covers a block of G / h equal scores when G is a multiple of h.
  kNearest,
  // Bilinear with half-pixel centres (PyTorch's align_corners = False; what
  // Selvaraju et al. use to bring the map to the image): ranks the patches
  // inside one map cell by their distance to its neighbours instead of
  // leaving them tied.
  kBilinear,
};

// A map [N, h, w] (or [N, 1, h, w]) -> float32 [N, G_h * G_w], each axis on
// its own: where the map has at least as many cells as the grid (h >= G_h),
// grid cell i is the area-weighted average of the map over the interval
// [i h / G_h, (i + 1) h / G_h) (exact block means when G_h divides h);
// where it has fewer, `up` decides.
Tensor resize_to_grid(const Tensor& map, int64_t grid_h, int64_t grid_w,
                      Upsample up = Upsample::kNearest);

}  // namespace medtex::explain
