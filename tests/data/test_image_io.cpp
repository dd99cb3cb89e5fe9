// Image files: decode/encode, resizing, fitting, and every kind of bad file
// giving an error that names it.
#include <string>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "medtex/data/image_io.h"
#include "tests/data/data_test_util.h"

namespace medtex::data {
namespace {

using test::ScratchDir;

// Runs f, expects a medtex::Error whose message contains every one of `parts`.
template <class F>
void expect_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos) << "message '" << msg << "' lacks '" << p << "'";
    }
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "message is not one line: " << msg;
  }
}

TEST(ImageIo, PngRoundTripRgbAndGrey) {
  ScratchDir d("io_png");
  const Image rgb = test::pattern_image(21, 13, 3, 1);
  write_png(d.str("a.png"), rgb);
  const Image back = read_image(d.str("a.png"), 3);
  EXPECT_EQ(back.width, 21);
  EXPECT_EQ(back.height, 13);
  EXPECT_EQ(back.pixels, rgb.pixels);

  // Grey becomes RGB with the value in every channel.
  const Image grey = test::pattern_image(16, 9, 1, 2);
  write_png(d.str("g.png"), grey);
  const Image g3 = read_image(d.str("g.png"), 3);
  ASSERT_EQ(g3.channels, 3);
  for (int y = 0; y < 9; ++y) {
    for (int x = 0; x < 16; ++x) {
      for (int c = 0; c < 3; ++c) ASSERT_EQ(g3.at(x, y)[c], grey.at(x, y)[0]);
    }
  }
  // And image_to_chw copies a grey image into all three planes.
  std::vector<float> chw(3 * 8 * 8);
  image_to_chw(read_image(d.str("g.png"), 1), 8, Fit::kStretch, chw.data());
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(chw[i], chw[64 + i]);
    EXPECT_EQ(chw[i], chw[128 + i]);
  }
}

TEST(ImageIo, JpegDecodes) {
  ScratchDir d("io_jpg");
  Image img(32, 24, 3);
  for (auto& p : img.pixels) p = 128;
  test::write_bytes(d.path() / "a.jpg", encode_jpeg(img, 95));
  const Image back = read_image(d.str("a.jpg"));
  EXPECT_EQ(back.width, 32);
  EXPECT_EQ(back.height, 24);
  for (uint8_t v : back.pixels) EXPECT_NEAR(v, 128, 2);  // lossy, but a flat grey survives
}

TEST(ImageIo, AreaAverageWhenShrinking) {
  // 4x4 -> 2x2: each output is the mean of its 2x2 block.
  std::vector<float> src(16);
  for (int i = 0; i < 16; ++i) src[i] = float(i);
  std::vector<float> dst(4);
  resize_plane(src.data(), 4, 4, 4, dst.data(), 2, 2);
  EXPECT_FLOAT_EQ(dst[0], (0 + 1 + 4 + 5) / 4.0f);
  EXPECT_FLOAT_EQ(dst[1], (2 + 3 + 6 + 7) / 4.0f);
  EXPECT_FLOAT_EQ(dst[2], (8 + 9 + 12 + 13) / 4.0f);
  EXPECT_FLOAT_EQ(dst[3], (10 + 11 + 14 + 15) / 4.0f);
  // 3 -> 2 along a row: fractional coverage [0, 1.5) and [1.5, 3).
  const float row[3] = {0.0f, 3.0f, 6.0f};
  float out[2];
  resize_plane(row, 3, 1, 3, out, 2, 1);
  EXPECT_FLOAT_EQ(out[0], 1.0f);  // (0 * 1 + 3 * 0.5) / 1.5
  EXPECT_FLOAT_EQ(out[1], 5.0f);  // (3 * 0.5 + 6 * 1) / 1.5
  // A single bright pixel keeps its mass (what a small lesion needs).
  std::vector<float> dot(64 * 64, 0.0f), small(16 * 16);
  dot[size_t(37) * 64 + 21] = 1.0f;
  resize_plane(dot.data(), 64, 64, 64, small.data(), 16, 16);
  double mass = 0;
  for (float v : small) mass += v;
  EXPECT_NEAR(mass * 16.0, 1.0, 1e-6);
}

TEST(ImageIo, BilinearWhenEnlarging) {
  const float row[2] = {0.0f, 4.0f};
  float out[4];
  resize_plane(row, 2, 1, 2, out, 4, 1);
  // Centres at half-integers: source x = (o + 0.5) / 2 - 0.5, clamped.
  EXPECT_FLOAT_EQ(out[0], 0.0f);
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_FLOAT_EQ(out[2], 3.0f);
  EXPECT_FLOAT_EQ(out[3], 4.0f);
  // Equal sizes copy.
  float same[2];
  resize_plane(row, 2, 1, 2, same, 2, 1);
  EXPECT_EQ(same[0], 0.0f);
  EXPECT_EQ(same[1], 4.0f);
}

TEST(ImageIo, FitModes) {
  // A 40x20 grey image, left half 0 and right half 255.
  Image wide(40, 20, 1);
  for (int y = 0; y < 20; ++y) {
    for (int x = 20; x < 40; ++x) wide.at(x, y)[0] = 255;
  }
  const int S = 10;
  std::vector<float> crop(3 * S * S), pad(3 * S * S), stretch(3 * S * S);
  image_to_chw(wide, S, Fit::kCrop, crop.data());
  image_to_chw(wide, S, Fit::kPad, pad.data());
  image_to_chw(wide, S, Fit::kStretch, stretch.data());
  // Crop keeps the centre 20x20: half dark, half bright.
  EXPECT_FLOAT_EQ(crop[0], 0.0f);
  EXPECT_FLOAT_EQ(crop[S - 1], 1.0f);
  // Pad: the image becomes 10x5 in the middle rows, black above and below.
  EXPECT_FLOAT_EQ(pad[0 * S + S - 1], 0.0f);              // top row is padding
  EXPECT_FLOAT_EQ(pad[size_t(S / 2) * S + S - 1], 1.0f);  // middle row, right: image
  // Stretch: right half bright.
  EXPECT_FLOAT_EQ(stretch[size_t(9) * S + 9], 1.0f);
  EXPECT_FLOAT_EQ(stretch[0], 0.0f);
  EXPECT_EQ(parse_fit("pad"), Fit::kPad);
  EXPECT_THROW(parse_fit("zoom"), Error);
}

TEST(ImageIo, MissingFileNamesIt) {
  ScratchDir d("io_missing");
  const std::string p = d.str("nope.png");
  expect_error([&] { read_image(p); }, {p, "cannot open"});
}

TEST(ImageIo, ZeroByteFileNamesIt) {
  ScratchDir d("io_empty");
  test::write_text(d.path() / "empty.png", "");
  expect_error([&] { read_image(d.str("empty.png")); }, {d.str("empty.png"), "empty file"});
}

TEST(ImageIo, TruncatedPngNamesIt) {
  ScratchDir d("io_trunc");
  std::vector<uint8_t> png = encode_png(test::pattern_image(32, 32, 3, 3));
  png.resize(png.size() / 2);
  test::write_bytes(d.path() / "half.png", png);
  expect_error([&] { read_image(d.str("half.png")); }, {d.str("half.png"), "truncated PNG"});
}

TEST(ImageIo, CorruptPngNamesIt) {
  // Intact ends, damaged image data in between.
  ScratchDir d("io_corrupt_png");
  std::vector<uint8_t> png = encode_png(test::pattern_image(32, 32, 3, 4));
  for (size_t i = 40; i < png.size() - 20; ++i) png[i] ^= 0x5A;
  test::write_bytes(d.path() / "bad.png", png);
  expect_error([&] { read_image(d.str("bad.png")); }, {d.str("bad.png"), "corrupt"});
}

TEST(ImageIo, CorruptJpegNamesIt) {
  ScratchDir d("io_corrupt_jpg");
  std::vector<uint8_t> jpg = encode_jpeg(test::pattern_image(32, 32, 3, 5));
  // Keep the start (FF D8) and end (FF D9) markers, wreck the headers.
  for (size_t i = 2; i < 200; ++i) jpg[i] = uint8_t(i * 37);
  test::write_bytes(d.path() / "bad.jpg", jpg);
  expect_error([&] { read_image(d.str("bad.jpg")); }, {d.str("bad.jpg")});
}

TEST(ImageIo, TruncatedJpegNamesIt) {
  ScratchDir d("io_trunc_jpg");
  std::vector<uint8_t> jpg = encode_jpeg(test::pattern_image(64, 64, 3, 6));
  jpg.resize(jpg.size() * 2 / 3);
  test::write_bytes(d.path() / "cut.jpg", jpg);
  expect_error([&] { read_image(d.str("cut.jpg")); }, {d.str("cut.jpg"), "truncated JPEG"});
}

TEST(ImageIo, TinyImageNamesIt) {
  ScratchDir d("io_tiny");
  test::write_png_file(d.path() / "dot.png", test::pattern_image(1, 1, 3, 7));
  expect_error([&] { read_image(d.str("dot.png")); }, {d.str("dot.png"), "1x1"});
}

TEST(ImageIo, NotAnImageNamesIt) {
  ScratchDir d("io_text");
  test::write_text(d.path() / "notes.png", "these are not pixels");
  expect_error([&] { read_image(d.str("notes.png")); },
               {d.str("notes.png"), "corrupt or unsupported"});
}

}  // namespace
}  // namespace medtex::data
