// Explanation metrics on hand-built curves, patch scores and tiny masks.
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/metrics/explanation.h"

namespace medtex::metrics {
namespace {

TEST(MetricsExplanation, PostHocAccuracyAndFidelity) {
  const std::vector<int> teacher_full = {0, 1, 1, 2};
  EXPECT_DOUBLE_EQ(post_hoc_accuracy(std::vector<int>{0, 1, 2, 2}, teacher_full), 0.75);
  EXPECT_DOUBLE_EQ(student_fidelity(std::vector<int>{2, 2, 1, 0}, teacher_full), 0.25);
  EXPECT_THROW(post_hoc_accuracy(std::vector<int>{0}, teacher_full), Error);
  EXPECT_THROW(student_fidelity(std::vector<int>{}, std::vector<int>{}), Error);
}

TEST(MetricsExplanation, PatchOrderIsDescendingAndStable) {
  EXPECT_EQ(patch_order(std::vector<float>{0.1f, 0.9f, 0.5f, 0.9f, -1.f}),
            (std::vector<int>{1, 3, 2, 0, 4}));
  EXPECT_THROW(patch_order(std::vector<float>{0.1f, NAN}), Error);
}

TEST(MetricsExplanation, KeepMasksFollowTheOrder) {
  const std::vector<int> order = {2, 0, 3, 1};
  EXPECT_EQ(deletion_keep_mask(order, 0), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_EQ(deletion_keep_mask(order, 2), (std::vector<float>{0, 1, 0, 1}));
  EXPECT_EQ(insertion_keep_mask(order, 1), (std::vector<float>{0, 0, 1, 0}));
  EXPECT_EQ(insertion_keep_mask(order, 4), (std::vector<float>{1, 1, 1, 1}));
  EXPECT_THROW(deletion_keep_mask(order, 5), Error);
  EXPECT_THROW(insertion_keep_mask(std::vector<int>{0, 0, 1}, 1), Error);  // not a permutation
  EXPECT_EQ(curve_patch_counts(10, 4), (std::vector<int>{0, 2, 5, 7, 10}));
  EXPECT_EQ(curve_patch_counts(64, 16).back(), 64);
}

TEST(MetricsExplanation, CurveAucOnSimpleCurves) {
  // Constant c -> c; the straight line 1 -> 0 -> 1/2 at any sampling.
  EXPECT_DOUBLE_EQ(curve_auc(std::vector<double>{0.7, 0.7, 0.7, 0.7}), 0.7);
  EXPECT_DOUBLE_EQ(deletion_auc(std::vector<double>{1.0, 0.75, 0.5, 0.25, 0.0}), 0.5);
  EXPECT_DOUBLE_EQ(insertion_auc(std::vector<double>{0.0, 1.0}), 0.5);
  // A step: confidence gone after the first of 4 steps: one trapezoid of
  // width 1/4 and mean height 1/2 -> 1/8. Insertion's mirror image: 7/8.
  EXPECT_DOUBLE_EQ(deletion_auc(std::vector<double>{1, 0, 0, 0, 0}), 0.125);
  EXPECT_DOUBLE_EQ(insertion_auc(std::vector<double>{0, 1, 1, 1, 1}), 0.875);
  EXPECT_DOUBLE_EQ(curve_auc(std::vector<float>{0.f, 0.5f, 1.f}), 0.5);
  EXPECT_THROW(curve_auc(std::vector<double>{1.0}), Error);
  EXPECT_THROW(curve_auc(std::vector<double>{1.0, NAN}), Error);
}

TEST(MetricsExplanation, CurveAucWithExplicitPositions) {
  // x = {0, 1/2, 1}, y = {1, 1, 0}: 1/2 * 1 + 1/2 * 1/2 = 3/4.
  EXPECT_DOUBLE_EQ(curve_auc(std::vector<double>{0, 0.5, 1}, std::vector<double>{1, 1, 0}), 0.75);
  // Uneven steps: x = {0, 0.2, 1}, y = {1, 0, 0}: 0.2 * 1/2 = 0.1.
  EXPECT_NEAR(curve_auc(std::vector<double>{0, 0.2, 1}, std::vector<double>{1, 0, 0}), 0.1, 1e-15);
  // Normalised by the x range: the same line over [0, 10] is still 1/2.
  EXPECT_DOUBLE_EQ(curve_auc(std::vector<double>{0, 10}, std::vector<double>{1, 0}), 0.5);
  EXPECT_THROW(curve_auc(std::vector<double>{0, 1, 0.5}, std::vector<double>{1, 1, 1}), Error);
  EXPECT_THROW(curve_auc(std::vector<double>{0.5, 0.5}, std::vector<double>{1, 1}), Error);
}

// 4 x 4 mask on a 2 x 2 grid: patch p = r * 2 + c covers rows 2r..2r+1,
// columns 2c..2c+1.
std::vector<float> mask_4x4(std::initializer_list<std::pair<int, int>> lesion_pixels) {
  std::vector<float> m(16, 0.f);
  for (auto [y, x] : lesion_pixels) m[size_t(y * 4 + x)] = 1.f;
  return m;
}

TEST(MetricsExplanation, LesionPatchesOnTinyMasks) {
  const PatchGrid g{2, 2};
  EXPECT_EQ(lesion_patches(mask_4x4({{0, 3}}), 4, 4, g), (std::vector<uint8_t>{0, 1, 0, 0}));
  EXPECT_EQ(lesion_patches(mask_4x4({{3, 0}, {1, 1}}), 4, 4, g),
            (std::vector<uint8_t>{1, 0, 1, 0}));
  EXPECT_EQ(lesion_patches(mask_4x4({}), 4, 4, g), (std::vector<uint8_t>{0, 0, 0, 0}));
  // 5 x 5 on 2 x 2: cell edges floor(5/2) = 2, so rows/columns 0-1 and 2-4.
  std::vector<uint8_t> m5(25, 0);
  m5[2 * 5 + 2] = 255;  // pixel (2, 2) is in patch (1, 1)
  EXPECT_EQ(lesion_patches(m5, 5, 5, g), (std::vector<uint8_t>{0, 0, 0, 1}));
  m5[2 * 5 + 2] = 0;
  m5[1 * 5 + 4] = 1;  // pixel (1, 4) is in patch (0, 1)
  EXPECT_EQ(lesion_patches(m5, 5, 5, g), (std::vector<uint8_t>{0, 1, 0, 0}));
  // Non-square grid: 1 x 4 on a 2 x 4 mask, pixel (1, 2) -> patch 2.
  std::vector<uint8_t> m24(8, 0);
  m24[1 * 4 + 2] = 1;
  EXPECT_EQ(lesion_patches(m24, 2, 4, PatchGrid{1, 4}), (std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_THROW(lesion_patches(m5, 4, 4, g), Error);                 // 25 pixels, not 16
  EXPECT_THROW(lesion_patches(m24, 2, 4, PatchGrid{3, 1}), Error);  // grid taller than mask
}

TEST(MetricsExplanation, PrecisionAndPointingPerImage) {
  const std::vector<uint8_t> flags = {0, 1, 0, 1};
  EXPECT_DOUBLE_EQ(lesion_precision(std::vector<float>{1, 1, 0, 0}, flags), 0.5);
  EXPECT_DOUBLE_EQ(lesion_precision(std::vector<float>{0, 1, 0, 1}, flags), 1.0);
  EXPECT_DOUBLE_EQ(lesion_precision(std::vector<float>{1, 0, 1, 0}, flags), 0.0);
  // Values <= 1/2 are not selected (a relaxed mask thresholded at 1/2).
  EXPECT_DOUBLE_EQ(lesion_precision(std::vector<float>{0.9f, 0.5f, 0.2f, 0.6f}, flags), 0.5);
  EXPECT_THROW(lesion_precision(std::vector<float>{0, 0, 0, 0}, flags), Error);
  // Top-1 tie between patches 1 and 2 goes to patch 1.
  const std::vector<float> scores = {0.1f, 0.9f, 0.9f, 0.3f};
  EXPECT_FALSE(pointing_hit(scores, std::vector<uint8_t>{0, 0, 1, 0}));
  EXPECT_TRUE(pointing_hit(scores, std::vector<uint8_t>{0, 1, 0, 0}));
}

TEST(MetricsExplanation, BatchesExcludeLesionFreeImages) {
  const PatchGrid g{2, 2};
  // Image 0: lesion in patch 1; image 1: none; image 2: lesions in patches 0 and 3.
  std::vector<float> masks;
  for (const auto& m : {mask_4x4({{0, 2}}), mask_4x4({}), mask_4x4({{0, 0}, {3, 3}})}) {
    masks.insert(masks.end(), m.begin(), m.end());
  }
  const std::vector<float> selections = {1, 1, 0, 0,   // 1 of 2 on a lesion -> 1/2
                                         1, 1, 0, 0,   // excluded
                                         1, 0, 0, 1};  // 2 of 2 -> 1
  const ImageRate p = lesion_precision_at_k(selections, masks, 4, 4, g);
  EXPECT_EQ(p.evaluated, 2);
  EXPECT_EQ(p.excluded, 1);
  EXPECT_DOUBLE_EQ(p.value(), 0.75);

  const std::vector<float> scores = {0.9f, 0.1f, 0.0f, 0.0f,   // top-1 patch 0: miss
                                     0.0f, 0.0f, 0.0f, 1.0f,   // excluded
                                     0.0f, 0.0f, 0.2f, 0.7f};  // top-1 patch 3: hit
  const ImageRate pg = pointing_game(scores, masks, 4, 4, g);
  EXPECT_EQ(pg.evaluated, 2);
  EXPECT_EQ(pg.excluded, 1);
  EXPECT_DOUBLE_EQ(pg.sum, 1.0);
  EXPECT_DOUBLE_EQ(pg.value(), 0.5);

  // uint8 masks give the same, and batches merge.
  const std::vector<uint8_t> masks8(masks.begin(), masks.end());
  ImageRate merged = pointing_game(scores, masks8, 4, 4, g);
  merged.merge(pg);
  EXPECT_EQ(merged.evaluated, 4);
  EXPECT_EQ(merged.excluded, 2);
  EXPECT_DOUBLE_EQ(merged.value(), 0.5);
  EXPECT_DOUBLE_EQ(lesion_precision_at_k(selections, masks8, 4, 4, g).value(), 0.75);

  // Only lesion-free images: nothing evaluated, the value is undefined.
  const ImageRate none = pointing_game(std::vector<float>{1, 0, 0, 0}, mask_4x4({}), 4, 4, g);
  EXPECT_EQ(none.excluded, 1);
  EXPECT_TRUE(std::isnan(none.value()));
  // 12 patch values are 3 images, but only 2 masks.
  EXPECT_THROW(pointing_game(scores, std::vector<float>(32, 0.f), 4, 4, g), Error);
}

}  // namespace
}  // namespace medtex::metrics
