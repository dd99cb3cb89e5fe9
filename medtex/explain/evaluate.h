// One evaluation for every explanation method (DESIGN §6): given the patch
// scores a method gave a set of images, how well does its top-k selection
// keep what drives the teacher, and does it land on the lesions?
//
//   post-hoc accuracy   teacher on x~ (the hard top-k masked image) agrees
//                       with the teacher on x (Chen et al. 2018)
//   student fidelity    the student on x~ agrees with the teacher on x
//                       (Bang et al. 2021); only with a student. The
//                       student sees x~ in its own normalisation
//                       (EvaluateOptions::student_images), as in training
//   lesion reliance     does the ground truth hold what drives the teacher?
//                       (a property of the data and the teacher, the same
//                       for every method: lesion_reliance below)
//   deletion AUC        the teacher's softmax probability of the class it
//                       predicts on x, as patches are removed in the order of
//                       the scores (most important first); lower is better
//   insertion AUC       the same as patches are put back into the blank
//                       image, most important first; higher is better
//                       (Petsiuk et al. 2018)
//   lesion precision@k  share of the k selected patches touching a lesion,
//                       over images with lesions
//   pointing game       the top-1 patch touches a lesion, over images with
//                       lesions (Zhang et al. 2016)
//
// The curves: after step i = 0..steps, floor(i d / steps) patches are removed
// (inserted) (metrics::curve_patch_counts); 16 steps, i.e. every d/16 patches
// (every 4 of 64), clamped to d when d < 16. Removed pixels take the value
// `fill`, as in training (medtex/method/masking.h), so the "blank" image of
// insertion is the all-fill image, not a blurred one as in RISE. Each image's
// curve is integrated by the trapezoid rule over the fraction of patches
// (metrics::curve_auc) and the AUCs are averaged over images; the mean curves
// are returned too.
//
// Nets run in eval mode (restored after) under NoGradGuard, batch_size images
// at a time. Cost: 2 * steps + 1 teacher passes per image (full, top-k
// masked, blank, and the steps - 1 inner points of each curve), plus one
// student pass; fewer steps make it proportionally cheaper.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "engine/nn/module.h"
#include "engine/tensor.h"
#include "medtex/metrics/explanation.h"

namespace medtex::explain {

struct EvaluateOptions {
  int k = 8;                // patches kept by the hard top-k (MedtexConfig::k)
  int steps = 16;           // points of the deletion / insertion curves, minus one
  int64_t batch_size = 64;  // images per forward pass
  double fill = 0.0;        // value of removed pixels (MedtexConfig::fill)
  // The same images as the student sees them (its normalisation), masked
  // with the same selection; undefined: the teacher's images.
  Tensor student_images;
  // How the student's BatchNorm layers normalise x~: with the statistics of
  // the masked batch itself (true), as MED-TEX trains the student on masked
  // images (DESIGN §5), or with its running statistics (false), which come
  // from full images. Measured on the demo's student at n = 200: fidelity
  // 0.52 with batch statistics, 0.13 with the running ones. The running
  // statistics are never updated either way.
  bool student_batch_statistics = true;
};

struct ExplanationEval {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int64_t images = 0;
  int64_t patches = 0;  // d
  int k = 0;
  int steps = 0;  // after clamping to d
  double post_hoc_accuracy = kNaN;
  bool has_student = false;
  double student_fidelity = kNaN;       // NaN without a student
  double deletion_auc = kNaN;           // mean over images; lower is better
  double insertion_auc = kNaN;          // mean over images; higher is better
  std::vector<double> curve_fraction;   // [steps + 1]: patches removed / inserted, over d
  std::vector<double> deletion_curve;   // [steps + 1]: mean probability over images
  std::vector<double> insertion_curve;  // [steps + 1]
  bool has_masks = false;
  metrics::ImageRate lesion_precision;  // precision@k over images with lesions
  metrics::ImageRate pointing_game;     // hits over images with lesions
};

// teacher: images -> logits [N, C]. student: nullptr for none. images:
// [N, C, H, W]. lesion_masks: undefined for none, else [N, H', W'] or
// [N, 1, H', W'] (nonzero = lesion; H', W' need not equal H, W: the patch grid
// is laid over the mask by metrics::lesion_patches). patch_scores: [N, d] on
// the grid of the explainer (d = (H / p) (W / p) for a power of two p).
ExplanationEval evaluate_explanations(nn::Module& teacher, nn::Module* student,
                                      const Tensor& images, const Tensor& lesion_masks,
                                      const Tensor& patch_scores,
                                      const EvaluateOptions& options = {});

// How much the teacher's call rests on the lesions, over images with lesions
// (images without are excluded and counted in ImageRate::excluded): the share
// whose prediction is unchanged when only the patches touching a lesion are
// kept (the rest set to fill), and when exactly those patches are removed. A
// teacher that reads the lesions keeps its call in the first case and loses it
// in the second; both masked images are unlike any training image, so
// neither number is clean on its own. images: [N, C, H, W] in the teacher's
// normalisation; lesion_masks: [N, H', W'] or [N, 1, H', W']; `patch` px grid.
struct LesionReliance {
  metrics::ImageRate kept;     // lesion patches only: same prediction
  metrics::ImageRate removed;  // lesion patches removed: same prediction
};
LesionReliance lesion_reliance(nn::Module& teacher, const Tensor& images,
                               const Tensor& lesion_masks, int patch, double fill = 0.0,
                               int64_t batch_size = 64);

}  // namespace medtex::explain
