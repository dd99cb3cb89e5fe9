#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "medtex/method/masking.h"
#include "tests/support/compare.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(Masking, PixelMaskIsTheGridUpsampledRowMajor) {
  // 2 images of 8x12 pixels in 4x4 patches: a 2x3 grid, d = 6.
  const Tensor z = test::random_float({2, 6}, 1, 0.0, 1.0);
  const Tensor pixels = method::patch_mask_to_pixels(z, 4, 8, 12);
  ASSERT_EQ(pixels.shape(), (Shape{2, 1, 8, 12}));
  const auto zv = z.to_vector<float>(), pv = pixels.to_vector<float>();
  for (int n = 0; n < 2; ++n) {
    for (int r = 0; r < 8; ++r) {
      for (int c = 0; c < 12; ++c) {
        EXPECT_EQ(pv[size_t((n * 8 + r) * 12 + c)], zv[size_t(n * 6 + (r / 4) * 3 + c / 4)]);
      }
    }
  }
  // patch 1: the mask is the image grid itself.
  EXPECT_EQ(method::patch_mask_to_pixels(z, 1, 2, 3).to_vector<float>(), zv);
}

TEST(Masking, ZeroFillAndValueFill) {
  const Tensor x = test::random_float({2, 3, 8, 8}, 2);
  std::vector<float> zv(2 * 4, 0.0f);
  zv[0] = 1.0f;   // image 0 keeps its top-left patch
  zv[7] = 0.25f;  // image 1 keeps a quarter of its bottom-right patch
  const Tensor z = Tensor::from_vector(zv, {2, 4});
  const Tensor zero = method::apply_patch_mask(x, z, 4);
  const Tensor filled = method::apply_patch_mask(x, z, 4, 0.5);
  ASSERT_EQ(zero.shape(), x.shape());
  ASSERT_EQ(filled.shape(), x.shape());
  const auto xv = x.to_vector<float>(), a = zero.to_vector<float>(), b = filled.to_vector<float>();
  for (int n = 0; n < 2; ++n) {
    for (int ch = 0; ch < 3; ++ch) {
      for (int r = 0; r < 8; ++r) {
        for (int c = 0; c < 8; ++c) {
          const size_t i = size_t(((n * 3 + ch) * 8 + r) * 8 + c);
          const float m = zv[size_t(n * 4 + (r / 4) * 2 + c / 4)];
          EXPECT_FLOAT_EQ(a[i], xv[i] * m);
          EXPECT_FLOAT_EQ(b[i], xv[i] * m + 0.5f * (1 - m));
        }
      }
    }
  }
  // Patches with z = 1 are untouched whatever the fill; z = 0 gives the fill.
  EXPECT_EQ(b[0], xv[0]);
  EXPECT_EQ(b[size_t(7)], 0.5f);  // row 0, column 7: image 0's top-right patch, dropped
}

TEST(Masking, GradcheckWithFill) {
  Tensor x = test::random_double({2, 2, 4, 4}, 3).set_requires_grad();
  Tensor z = test::random_double({2, 4}, 4, 0.0, 1.0).set_requires_grad();
  for (double fill : {0.0, -0.3}) {
    EXPECT_TRUE(test::gradcheck(
        [&](const std::vector<Tensor>& in) {
          return method::apply_patch_mask(in[0], in[1], 2, fill);
        },
        {x, z}))
        << "fill " << fill;
  }
}

TEST(Masking, PatchSizeFromShapes) {
  EXPECT_EQ(method::patch_size_for({4, 3, 64, 64}, 64), 8);
  EXPECT_EQ(method::patch_size_for({4, 3, 32, 64}, 32), 8);
  EXPECT_EQ(method::patch_size_for({1, 1, 5, 7}, 35), 1);
  EXPECT_THROW(method::patch_size_for({4, 3, 64, 64}, 63), Error);
  EXPECT_THROW(method::patch_size_for({4, 64, 64}, 64), Error);
}

TEST(Masking, ShapeErrors) {
  const Tensor x = test::random_float({2, 3, 8, 8}, 5);
  EXPECT_THROW(method::apply_patch_mask(x, Tensor::zeros({2, 5}), 4), Error);  // d
  EXPECT_THROW(method::apply_patch_mask(x, Tensor::zeros({3, 4}), 4), Error);  // batch
  EXPECT_THROW(method::apply_patch_mask(x, Tensor::zeros({2, 4}), 3), Error);  // patch
  EXPECT_THROW(
      method::apply_patch_mask(test::random_float({2, 3, 6, 6}, 5), Tensor::zeros({2, 4}), 4),
      Error);
}

}  // namespace
}  // namespace medtex
