// Explanation metrics (DESIGN §6): does the explainer's top-k patch selection
// keep what drives the teacher, and does it land on the lesions?
//
// A patch selection is a [d] vector over the G_h x G_w patch grid, patch
// p = r * G_w + c (row-major, as the explainer's [G, G] output flattens);
// a patch counts as selected when its value is > 1/2 (the hard top-k mask is
// 0/1). A lesion mask is an [H, W] image, nonzero = lesion. Batched inputs
// are row-major with the image index first. Bad shapes and NaNs throw
// medtex::Error naming the metric.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace medtex::metrics {

// ---- agreement on masked images ---------------------------------------------

// post-hoc accuracy = (1/N) sum_n [T(x~_n) == T(x_n)]: the teacher's top-1 on
// the hard top-k-masked image x~ against its top-1 on the full image x
// (Chen et al. 2018, L2X, "post-hoc accuracy").
double post_hoc_accuracy(std::span<const int> teacher_on_masked,
                         std::span<const int> teacher_on_full);

// student fidelity = (1/N) sum_n [S(x~_n) == T(x_n)]: the student on the
// masked image against the teacher on the full one (Bang et al. 2021, VIBI,
// "fidelity" of the approximator to the black box).
double student_fidelity(std::span<const int> student_on_masked,
                        std::span<const int> teacher_on_full);

// ---- deletion and insertion (Petsiuk et al. 2018, RISE) ----------------------

// Patches by decreasing score: order[0] is the most important. Equal scores
// keep the lower index first, so the order is deterministic. scores: [d].
std::vector<int> patch_order(std::span<const float> patch_scores);

// Keep-masks [d] (1 = pixel block kept, 0 = removed) for step `count` of the
// curves: deletion removes the first `count` patches of `order` from the
// image; insertion starts from the blank image and keeps only them.
std::vector<float> deletion_keep_mask(std::span<const int> order, int count);
std::vector<float> insertion_keep_mask(std::span<const int> order, int count);

// Patches removed (or inserted) after step i of a `steps`-step curve over d
// patches: floor(i * d / steps), i = 0..steps; starts at 0, ends at d.
std::vector<int> curve_patch_counts(int num_patches, int steps);

// Normalised area under a curve y_0..y_n sampled at evenly spaced fractions
// x_i = i / n of patches removed (deletion) or inserted (insertion):
//   AUC = (1/n) sum_{i<n} (y_i + y_{i+1}) / 2   (trapezoid rule on [0, 1]).
// y is the model's confidence in the class it predicted on the full image;
// a constant curve c gives c, a straight line from 1 to 0 gives 1/2. Deletion:
// lower is better; insertion: higher is better. Needs n >= 1 (two points).
double curve_auc(std::span<const double> curve);
double curve_auc(std::span<const float> curve);
// The same with explicit, non-decreasing sample positions x (e.g. counts / d
// from curve_patch_counts when d is not a multiple of the steps), divided by
// x_n - x_0 so the result is the curve's mean height.
double curve_auc(std::span<const double> x, std::span<const double> curve);
double deletion_auc(std::span<const double> curve);
double insertion_auc(std::span<const double> curve);

// ---- localisation against lesion masks ---------------------------------------

struct PatchGrid {
  int rows = 0;  // G_h
  int cols = 0;  // G_w
  int count() const { return rows * cols; }
};

// flags[p] = 1 when patch p touches a lesion: at least one nonzero mask
// pixel in its cell. Cell (r, c) spans pixel rows floor(r H / G_h) ..
// floor((r+1) H / G_h) - 1 (and likewise columns), so cells tile the image
// even when H is not a multiple of G_h. lesion_mask: [H, W].
std::vector<uint8_t> lesion_patches(std::span<const float> lesion_mask, int height, int width,
                                    PatchGrid grid);
std::vector<uint8_t> lesion_patches(std::span<const uint8_t> lesion_mask, int height, int width,
                                    PatchGrid grid);

// Lesion precision of one image = |S intersect L| / |S|, S the selected patches, L
// the lesion patches (flags from lesion_patches); with S the hard top-k this
// is precision@k. Throws when nothing is selected. selection, flags: [d].
double lesion_precision(std::span<const float> selection, std::span<const uint8_t> lesion_flags);

// Pointing game (Zhang et al. 2016, "Top-down neural attention by excitation
// backprop"), at patch resolution: a hit when the top-1 patch (argmax of the
// scores, ties to the lower index) touches a lesion. scores, flags: [d].
bool pointing_hit(std::span<const float> patch_scores, std::span<const uint8_t> lesion_flags);

// A mean over images that skips the images a metric says nothing about (no
// lesion at all): value = sum / evaluated, NaN when no image was evaluated.
// merge() adds up batches.
struct ImageRate {
  double sum = 0.0;       // sum of per-image values (hits for the pointing game)
  int64_t evaluated = 0;  // images with at least one lesion pixel
  int64_t excluded = 0;   // images without lesions, left out and counted
  double value() const;
  void merge(const ImageRate& other);
};

// Mean lesion precision@k over the images that have lesions. On a lesion-free
// image every selection scores 0, which says nothing about localisation and
// would make the mean depend on how many healthy images the set holds, so
// those images are excluded and counted. selections: [N, d], masks: [N, H, W].
ImageRate lesion_precision_at_k(std::span<const float> selections,
                                std::span<const float> lesion_masks, int height, int width,
                                PatchGrid grid);
ImageRate lesion_precision_at_k(std::span<const float> selections,
                                std::span<const uint8_t> lesion_masks, int height, int width,
                                PatchGrid grid);

// Pointing-game accuracy = hits / images with lesions; images without lesions
// are excluded and counted. patch_scores: [N, d], masks: [N, H, W].
ImageRate pointing_game(std::span<const float> patch_scores, std::span<const float> lesion_masks,
                        int height, int width, PatchGrid grid);
ImageRate pointing_game(std::span<const float> patch_scores, std::span<const uint8_t> lesion_masks,
                        int height, int width, PatchGrid grid);

}  // namespace medtex::metrics
