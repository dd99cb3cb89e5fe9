#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/explain/patch_scores.h"
#include "medtex/explain/support.h"
#include "models/explainer.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(RandomPatchScores, DeterministicPerSeedAndUniform) {
  Generator a(7), b(7), c(8);
  const Tensor sa = explain::random_patch_scores(5, 64, a);
  const Tensor sb = explain::random_patch_scores(5, 64, b);
  const Tensor sc = explain::random_patch_scores(5, 64, c);
  EXPECT_EQ(sa.shape(), (Shape{5, 64}));
  EXPECT_EQ(sa.dtype(), DType::F32);
  EXPECT_TRUE(test::bitwise_equal(sa, sb));
  EXPECT_FALSE(test::bitwise_equal(sa, sc));
  // The generator advances: a second call gives other scores.
  EXPECT_FALSE(test::bitwise_equal(sa, explain::random_patch_scores(5, 64, a)));
  double mean = 0;
  for (float v : sa.to_vector<float>()) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LT(v, 1.0f);
    mean += v;
  }
  EXPECT_NEAR(mean / 320, 0.5, 0.05);  // 320 draws: the mean's sd is 0.016
  EXPECT_THROW(explain::random_patch_scores(2, 0, a), Error);
}

TEST(SelectTopk, KLargestWithTiesToTheLowerIndex) {
  const Tensor s = Tensor::from_vector(std::vector<float>{0.1f, 0.9f, 0.5f, 0.9f, 0.2f,  //
                                                          3, 2, 1, 0, -1},
                                       {2, 5});
  const Tensor m = explain::select_topk(s, 2);
  EXPECT_EQ(m.to_vector<float>(), (std::vector<float>{0, 1, 0, 1, 0, 1, 1, 0, 0, 0}));
  EXPECT_EQ(explain::select_topk(s, 1).to_vector<float>(),
            (std::vector<float>{0, 1, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_THROW(explain::select_topk(s, 0), Error);
  EXPECT_THROW(explain::select_topk(s, 6), Error);
}

TEST(PixelMapToPatches, SumsEachSquare) {
  // A 4x6 map in 2x2 patches: a 2x3 grid.
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[size_t(i)] = i;
  const Tensor map = Tensor::from_vector(v, {1, 4, 6});
  // Patch (r, c) holds rows 2r, 2r+1 and columns 2c, 2c+1: sum = 4 * top-left + 1 + 6 + 7.
  std::vector<double> expected;
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c) expected.push_back(4.0 * (12 * r + 2 * c) + 14);
  }
  EXPECT_EQ(explain::pixel_map_to_patches(map, 2).to_vector<double>(), expected);
  EXPECT_EQ(explain::pixel_map_to_patches(map.reshape({1, 1, 4, 6}), 2).to_vector<double>(),
            expected);
  EXPECT_EQ(explain::pixel_map_to_patches(map, 1).to_vector<double>(), v);
  EXPECT_THROW(explain::pixel_map_to_patches(map, 4), Error);  // 6 is not a multiple of 4
  EXPECT_THROW(explain::pixel_map_to_patches(Tensor::zeros({1, 2, 4, 4}), 2), Error);
}

Tensor map_of(const std::vector<double>& v, int64_t h, int64_t w) {
  return Tensor::from_vector(v, {1, h, w});
}

TEST(ResizeToGrid, AreaAverageWhereTheMapIsFiner) {
  // 4x4 -> 2x2: block means.
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[size_t(i)] = i;
  EXPECT_EQ(explain::resize_to_grid(map_of(v, 4, 4), 2, 2).to_vector<float>(),
            (std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}));
  // 3 -> 2 along rows (fractional cells: [0, 1.5) and [1.5, 3)), 1 -> 1 along columns:
  // (a + b / 2) / 1.5 and (b / 2 + c) / 1.5.
  const auto r = explain::resize_to_grid(map_of({3, 6, 9}, 3, 1), 2, 1).to_vector<float>();
  EXPECT_NEAR(r[0], (3 + 3) / 1.5, 1e-6);
  EXPECT_NEAR(r[1], (3 + 9) / 1.5, 1e-6);
  // Identity when the sizes agree, for either rule.
  for (auto up : {explain::Upsample::kNearest, explain::Upsample::kBilinear}) {
    EXPECT_EQ(explain::resize_to_grid(map_of(v, 4, 4), 4, 4, up).to_vector<float>(),
              std::vector<float>(v.begin(), v.end()));
  }
}

TEST(ResizeToGrid, NearestWhereTheMapIsCoarser) {
  // 2x2 -> 4x4: each cell becomes a 2x2 block.
  const auto g = explain::resize_to_grid(map_of({1, 2, 3, 4}, 2, 2), 4, 4).to_vector<float>();
  EXPECT_EQ(g, (std::vector<float>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
  // 3 -> 4: cell floor(i * 3 / 4) = 0, 0, 1, 2.
  EXPECT_EQ(explain::resize_to_grid(map_of({5, 6, 7}, 1, 3), 1, 4).to_vector<float>(),
            (std::vector<float>{5, 5, 6, 7}));
  // Mixed: finer along rows (4 -> 2, means), coarser along columns (1 -> 3).
  EXPECT_EQ(explain::resize_to_grid(map_of({1, 3, 5, 7}, 4, 1), 2, 3).to_vector<float>(),
            (std::vector<float>{2, 2, 2, 6, 6, 6}));
}

TEST(ResizeToGrid, BilinearWithHalfPixelCentres) {
  // PyTorch's interpolate(mode="bilinear", align_corners=False) of [a, b] to 4:
  // sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to the last cell).
  const double a = 2, b = 10;
  const auto g = explain::resize_to_grid(map_of({a, b}, 1, 2), 1, 4, explain::Upsample::kBilinear)
                     .to_vector<float>();
  const std::vector<double> expected = {a, 0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b, b};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(g[i], expected[i], 1e-6) << i;
  EXPECT_THROW(explain::resize_to_grid(map_of({1}, 1, 1), 0, 2), Error);
}

TEST(ExplainerScores, EvalModeLogitsInBatchesAndModeRestored) {
  Generator gen(3);
  models::Explainer e(8, 0.25, gen);
  const Tensor x = test::random_float({5, 3, 32, 32}, 4);
  Tensor expected;
  {
    NoGradGuard no_grad;
    e.eval();
    expected = e.forward(x);
    e.train();
  }
  const Tensor got = explain::explainer_scores(e, x, /*batch_size=*/2);
  EXPECT_EQ(got.shape(), (Shape{5, 16}));
  // Per-image convolutions: batching changes nothing beyond rounding order.
  EXPECT_TRUE(test::all_close(got, expected, 1e-6, 1e-6));
  EXPECT_FALSE(got.requires_grad());
  EXPECT_TRUE(e.is_training());
}

TEST(Rows, ViewOnTheSameStorage) {
  const Tensor t = Tensor::from_vector(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  const Tensor r = explain::rows(t, 1, 3);
  EXPECT_EQ(r.shape(), (Shape{2, 2}));
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(explain::rows(t, 4, 4).numel(), 0);
  EXPECT_THROW(explain::rows(t, 2, 5), Error);
}

}  // namespace
}  // namespace medtex
