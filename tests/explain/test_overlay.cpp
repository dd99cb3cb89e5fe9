#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor.h"
#include "kernels/common/error.h"
#include "medtex/data/fundus_synth.h"
#include "medtex/data/image_io.h"
#include "medtex/explain/overlay.h"

namespace medtex {
namespace {

using Rgb = std::array<uint8_t, 3>;

Rgb pixel(const data::Image& img, int x, int y) {
  const uint8_t* p = img.at(x, y);
  return {p[0], p[1], p[2]};
}

// W x H with every channel value a distinct multiple of 4 (so dimming by 1/4
// is exact) and never equal to the outline or contour colours.
data::Image test_image(int w, int h) {
  data::Image img(w, h, 3);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint8_t* p = img.at(x, y);
      p[0] = uint8_t(4 * (x + 1));
      p[1] = uint8_t(4 * (y + 10));
      p[2] = uint8_t(4 * (x + y + 20));
    }
  }
  return img;
}

explain::OverlayStyle exact_style() {
  explain::OverlayStyle s;
  s.dim = 0.25f;
  s.scale = 3;
  s.outline_width = 1;
  return s;
}

TEST(Overlay, SelectedKeptUnselectedDimmedOutlineOnTheInsideEdge) {
  // 8 x 6 image, 2 x 2 grid: cells span rows [0, 3), [3, 6) and columns
  // [0, 4), [4, 8). Patches 1 (top right) and 2 (bottom left) selected.
  const data::Image img = test_image(8, 6);
  const std::vector<float> sel = {0, 1, 1, 0};
  const explain::OverlayStyle st = exact_style();
  const data::Image out = explain::draw_overlay(img, sel, 2, 2, {}, st);
  ASSERT_EQ(out.width, 24);
  ASSERT_EQ(out.height, 18);
  ASSERT_EQ(out.channels, 3);
  int outline = 0, kept = 0, dimmed = 0;
  for (int Y = 0; Y < 18; ++Y) {
    for (int X = 0; X < 24; ++X) {
      const int sx = X / 3, sy = Y / 3;
      const int r = sy < 3 ? 0 : 1, c = sx < 4 ? 0 : 1;
      const Rgb src = pixel(img, sx, sy);
      const Rgb got = pixel(out, X, Y);
      if (sel[size_t(r * 2 + c)] == 0) {
        EXPECT_EQ(got, (Rgb{uint8_t(src[0] / 4), uint8_t(src[1] / 4), uint8_t(src[2] / 4)}))
            << X << "," << Y;
        ++dimmed;
        continue;
      }
      // The cell in output pixels: columns [12c, 12c + 12), rows [9r, 9r + 9).
      const bool edge = X == 12 * c || X == 12 * c + 11 || Y == 9 * r || Y == 9 * r + 8;
      if (edge) {
        EXPECT_EQ(got, st.outline) << X << "," << Y;
        ++outline;
      } else {
        EXPECT_EQ(got, src) << X << "," << Y;
        ++kept;
      }
    }
  }
  EXPECT_EQ(outline, 2 * (2 * 12 + 2 * 9 - 4));
  EXPECT_EQ(kept, 2 * 10 * 7);
  EXPECT_EQ(dimmed, 2 * 12 * 9);
}

TEST(Overlay, DefaultDimFactorRounds) {
  const data::Image img = test_image(8, 8);
  explain::OverlayStyle st;
  st.scale = 1;
  const data::Image out = explain::draw_overlay(img, std::vector<float>{0}, 1, 1, {}, st);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      for (int k = 0; k < 3; ++k) {
        const double want = std::round(img.at(x, y)[k] * 0.35);
        EXPECT_NEAR(out.at(x, y)[k], want, 0.5) << x << "," << y;
      }
    }
  }
}

TEST(Overlay, LesionContourSurroundsTheLesion) {
  // One lesion pixel at (5, 1), inside selected patch 1; scale 3 makes it the
  // block X 15..17, Y 3..5, and the 1 px contour the ring X 14..18, Y 2..6.
  const data::Image img = test_image(8, 6);
  std::vector<float> mask(48, 0.0f);
  mask[1 * 8 + 5] = 1.0f;
  const explain::OverlayStyle st = exact_style();
  const std::vector<float> sel = {0, 1, 1, 0};
  const data::Image out = explain::draw_overlay(img, sel, 2, 2, mask, st);
  const data::Image plain = explain::draw_overlay(img, sel, 2, 2, {}, st);
  int contour = 0;
  for (int Y = 0; Y < 18; ++Y) {
    for (int X = 0; X < 24; ++X) {
      const bool in_block = X >= 15 && X <= 17 && Y >= 3 && Y <= 5;
      const bool in_ring = X >= 14 && X <= 18 && Y >= 2 && Y <= 6 && !in_block;
      if (in_ring) {
        EXPECT_EQ(pixel(out, X, Y), st.contour) << X << "," << Y;
        ++contour;
      } else {
        // Everything else, the lesion itself included, is as without a mask.
        EXPECT_EQ(pixel(out, X, Y), pixel(plain, X, Y)) << X << "," << Y;
      }
    }
  }
  EXPECT_EQ(contour, 16);
  EXPECT_EQ(pixel(out, 16, 4), pixel(img, 5, 1));  // the lesion is left visible

  // A lesion in an unselected patch is outlined at full brightness too, and a
  // wider contour reaches further.
  std::vector<float> mask2(48, 0.0f);
  mask2[4 * 8 + 6] = 1.0f;  // patch 3, unselected
  explain::OverlayStyle wide = st;
  wide.contour_width = 2;
  const data::Image out2 = explain::draw_overlay(img, sel, 2, 2, mask2, wide);
  EXPECT_EQ(pixel(out2, 18 - 2, 12 - 2), st.contour);
  EXPECT_EQ(pixel(out2, 20 + 2, 14 + 2), st.contour);
  EXPECT_NE(pixel(out2, 18 - 3, 13), st.contour);
  EXPECT_EQ(pixel(out2, 19, 13), pixel(plain, 19, 13));  // lesion pixel: dimmed as its patch
}

TEST(Overlay, GridThatDoesNotDivideTheImage) {
  // 10 px wide in 3 columns: cells [0, 3), [3, 6), [6, 10), as
  // metrics::lesion_patches counts them. Select only the last column.
  const data::Image img = test_image(10, 4);
  explain::OverlayStyle st = exact_style();
  st.scale = 2;
  const data::Image out = explain::draw_overlay(img, std::vector<float>{0, 0, 1}, 1, 3, {}, st);
  ASSERT_EQ(out.width, 20);
  EXPECT_EQ(pixel(out, 12, 3), st.outline);  // left edge of cell 2 (x = 6)
  EXPECT_EQ(pixel(out, 19, 3), st.outline);  // right edge of the image
  EXPECT_EQ(pixel(out, 13, 3), pixel(img, 6, 1));
  EXPECT_EQ(pixel(out, 11, 3)[0], img.at(5, 1)[0] / 4);  // cell 1 dimmed
}

TEST(Overlay, AutomaticScaleAndLineWidth) {
  EXPECT_EQ(explain::overlay_scale(64, 64), 4);
  EXPECT_EQ(explain::overlay_scale(100, 50), 3);
  EXPECT_EQ(explain::overlay_scale(300, 300), 1);
  explain::OverlayStyle st;
  st.scale = 5;
  EXPECT_EQ(explain::overlay_scale(64, 64, st), 5);
  // A 16 px image: auto scale 16 (to reach 256 px), so the outline is
  // 16 / 2 = 8 px wide along the inside of the selected 128 px cell.
  const data::Image img = test_image(16, 16);
  std::vector<float> sel(4, 0.0f);
  sel[0] = 1;
  const data::Image out = explain::draw_overlay(img, sel, 2, 2);  // scale 16, cells 128 px
  ASSERT_EQ(out.width, 256);
  const explain::OverlayStyle d;
  EXPECT_EQ(pixel(out, 7, 64), d.outline);  // within 8 px of the left edge
  EXPECT_EQ(pixel(out, 8, 64), pixel(img, 0, 4));
}

TEST(Overlay, FloatAndTensorInputsMatchTheImagePath) {
  const int W = 12, H = 8;
  std::vector<float> chw(size_t(3 * W * H));
  for (size_t i = 0; i < chw.size(); ++i) chw[i] = float((i * 7) % 255) / 255.0f;
  const data::Image img = data::chw_to_image(chw.data(), W, H);
  const std::vector<float> sel = {1, 0, 0, 0, 1, 0};  // 2 x 3 grid
  std::vector<float> mask(size_t(W * H), 0.0f);
  mask[3 * W + 7] = 1;
  const data::Image a = explain::draw_overlay(img, sel, 2, 3, mask);
  const data::Image b = explain::draw_overlay(chw, W, H, sel, 2, 3, mask);
  EXPECT_EQ(a.pixels, b.pixels);

  // A batch of two: the second image is the first, reversed selection.
  std::vector<float> two = chw;
  two.insert(two.end(), chw.begin(), chw.end());
  std::vector<float> sels = sel;
  const std::vector<float> sel2 = {0, 1, 1, 1, 0, 1};
  sels.insert(sels.end(), sel2.begin(), sel2.end());
  std::vector<float> masks = mask;
  masks.insert(masks.end(), mask.begin(), mask.end());
  const auto outs = explain::draw_overlays(Tensor::from_vector(two, {2, 3, H, W}),
                                           Tensor::from_vector(sels, {2, 6}), 2, 3,
                                           Tensor::from_vector(masks, {2, 1, H, W}));
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].pixels, a.pixels);
  EXPECT_EQ(outs[1].pixels, explain::draw_overlay(img, sel2, 2, 3, mask).pixels);
  // Float64 tensors and no masks work too.
  std::vector<double> two_d(two.begin(), two.end());
  const auto outs_d = explain::draw_overlays(Tensor::from_vector(two_d, {2, 3, H, W}),
                                             Tensor::from_vector(sels, {2, 6}), 2, 3);
  EXPECT_EQ(outs_d[0].pixels, explain::draw_overlay(img, sel, 2, 3).pixels);
  EXPECT_THROW(explain::draw_overlays(Tensor::from_vector(two, {2, 3, H, W}),
                                      Tensor::from_vector(sels, {3, 4}), 2, 3),
               Error);
}

TEST(Overlay, Deterministic) {
  const data::Image img = test_image(64, 64);
  std::vector<float> sel(64, 0.0f);
  for (int p : {3, 17, 18, 40, 41, 63}) sel[size_t(p)] = 1;
  std::vector<float> mask(64 * 64, 0.0f);
  for (int i = 0; i < 64 * 64; i += 97) mask[size_t(i)] = 1;
  const data::Image a = explain::draw_overlay(img, sel, 8, 8, mask);
  const data::Image b = explain::draw_overlay(img, sel, 8, 8, mask);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_EQ(data::encode_png(a), data::encode_png(b));
}

TEST(Overlay, BadInputsThrow) {
  const data::Image img = test_image(8, 8);
  EXPECT_THROW(explain::draw_overlay(img, std::vector<float>(3), 2, 2), Error);
  EXPECT_THROW(explain::draw_overlay(img, std::vector<float>(4), 2, 2, std::vector<float>(10)),
               Error);
  EXPECT_THROW(explain::draw_overlay(img, std::vector<float>(81), 9, 9), Error);
  EXPECT_THROW(explain::draw_overlay(std::vector<float>(10), 8, 8, std::vector<float>(4), 2, 2),
               Error);
  explain::OverlayStyle st;
  st.dim = 1.5f;
  EXPECT_THROW(explain::draw_overlay(img, std::vector<float>(4), 2, 2, {}, st), Error);
  EXPECT_THROW(explain::compose_grid({}, 2), Error);
}

TEST(Overlay, ComposeGridPlacesCellsWithSpacing) {
  std::vector<data::Image> imgs = {test_image(4, 4), test_image(2, 2), test_image(4, 3)};
  const data::Image g = explain::compose_grid(imgs, 2, 2, 255);
  // Cells 4 x 4; 2 columns, 2 rows; 2 px around and between.
  ASSERT_EQ(g.width, 2 * 4 + 3 * 2);
  ASSERT_EQ(g.height, 2 * 4 + 3 * 2);
  EXPECT_EQ(pixel(g, 0, 0), (Rgb{255, 255, 255}));
  EXPECT_EQ(pixel(g, 2, 2), pixel(imgs[0], 0, 0));
  EXPECT_EQ(pixel(g, 5, 5), pixel(imgs[0], 3, 3));
  EXPECT_EQ(pixel(g, 6, 2), (Rgb{255, 255, 255}));          // the gap
  EXPECT_EQ(pixel(g, 8 + 1, 2 + 1), pixel(imgs[1], 0, 0));  // 2 x 2 centred in its 4 x 4 cell
  EXPECT_EQ(pixel(g, 8, 2), (Rgb{255, 255, 255}));
  EXPECT_EQ(pixel(g, 2, 8), pixel(imgs[2], 0, 0));  // 4 x 3 centred: (4 - 3) / 2 = 0 rows down
  EXPECT_EQ(pixel(g, 2, 11), (Rgb{255, 255, 255}));
}

// A real example, written where a person can look at it: four synthetic
// fundus images (grades 1-4, 64 px) with their 6 most lesion-laden patches
// selected and the lesion contours drawn.
TEST(Overlay, ExampleOnSyntheticFundus) {
  const data::DomainKnobs knobs = data::domain_preset("source");
  std::vector<data::Image> overlays;
  for (int grade = 1; grade <= 4; ++grade) {
    const data::SynthSample s = data::render_fundus(3, grade, 64, knobs, grade);
    std::vector<float> mask(64 * 64);
    std::vector<std::pair<int, int>> count(64);
    for (int p = 0; p < 64; ++p) count[size_t(p)] = {0, p};
    for (int y = 0; y < 64; ++y) {
      for (int x = 0; x < 64; ++x) {
        const bool lesion = s.mask.at(x, y)[0] != 0;
        mask[size_t(y * 64 + x)] = lesion;
        count[size_t(y / 8 * 8 + x / 8)].first -= lesion;
      }
    }
    std::stable_sort(count.begin(), count.end());
    std::vector<float> sel(64, 0.0f);
    for (int k = 0; k < 6; ++k) sel[size_t(count[size_t(k)].second)] = 1;
    const data::Image o = explain::draw_overlay(s.image, sel, 8, 8, mask);
    EXPECT_EQ(o.width, 256);
    int64_t cyan = 0;
    for (size_t i = 0; i < o.pixels.size(); i += 3) {
      cyan += o.pixels[i] == 0 && o.pixels[i + 1] == 229 && o.pixels[i + 2] == 255;
    }
    EXPECT_GT(cyan, 0) << "grade " << grade << " has lesions, so a contour";
    overlays.push_back(o);
  }
  const data::Image grid = explain::compose_grid(overlays, 4);
  // Per process, so parallel runs from several build trees do not collide;
  // kept for a person to look at when MEDTEX_KEEP_EXAMPLES is set.
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("medtex_overlay_example_" + std::to_string(::getpid()) + ".png"))
                               .string();
  data::write_png(path, grid);
  EXPECT_EQ(data::read_image(path, 3).pixels, grid.pixels);
  if (std::getenv("MEDTEX_KEEP_EXAMPLES") != nullptr) {
    std::printf("[overlay] example written to %s (%dx%d)\n", path.c_str(), grid.width, grid.height);
  } else {
    std::filesystem::remove(path);
  }
}

}  // namespace
}  // namespace medtex
