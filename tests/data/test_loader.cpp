// Decoding and caching a dataset, the batch loader, augmentation and
// normalisation: the synthetic set, a folder-per-class set and a multi-label
// CSV load; bad files fail naming the CSV line and the file, or are skipped
// and counted; batches are the same bits for any thread count.
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/data/augment.h"
#include "medtex/data/fundus_synth.h"
#include "medtex/data/loader.h"
#include "medtex/data/normalize.h"
#include "tests/data/data_test_util.h"
#include "tests/support/compare.h"

namespace medtex::data {
namespace {

using test::ScratchDir;
namespace fs = std::filesystem;

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
  }
}

// A synthetic set on disk, shared by the tests of this file.
class SynthSet {
 public:
  static std::string dir() {
    static SynthSet s;
    return s.dir_.str();
  }

 private:
  SynthSet() {
    SynthOptions o;
    o.out_dir = dir_.str();
    o.n = 40;
    o.size = 48;
    o.seed = 21;
    write_synthetic_set(o);
  }
  ScratchDir dir_{"loader_synth"};
};

TEST(Loader, ReadsTheSyntheticSet) {
  const Dataset ds = open_dataset(SynthSet::dir());
  ASSERT_EQ(ds.size(), 40);
  EXPECT_TRUE(ds.has_mask_column);
  const ImageSet set = load_images(ds, {.size = 32});
  EXPECT_EQ(set.images.shape(), (Shape{40, 3, 32, 32}));
  ASSERT_TRUE(set.masks.defined());
  EXPECT_EQ(set.masks.shape(), (Shape{40, 1, 32, 32}));
  const DomainKnobs src = domain_preset("source");
  const float* m = set.masks.data<float>();
  for (int64_t r = 0; r < set.rows(); ++r) {
    EXPECT_EQ(set.labels[size_t(r)], synth_grade(21, r, src)) << "row " << r;
    double lesion = 0;
    for (int i = 0; i < 32 * 32; ++i) {
      ASSERT_GE(m[r * 1024 + i], 0.0f);
      ASSERT_LE(m[r * 1024 + i], 1.0f);
      lesion += m[r * 1024 + i];
    }
    if (set.labels[size_t(r)] == 0) {
      EXPECT_EQ(lesion, 0.0) << "grade 0 row " << r;
    } else {
      EXPECT_GT(lesion, 0.0) << "row " << r;
    }
  }
  for (float v : set.images.to_vector<float>()) {
    ASSERT_GE(v, 0.0f);
    ASSERT_LE(v, 1.0f);
  }
  // The same images decode the same at any thread count.
  set_num_threads(1);
  const ImageSet one = load_images(ds, {.size = 32});
  set_num_threads(0);
  EXPECT_TRUE(test::bitwise_equal(one.images, set.images));
}

TEST(Loader, ReadsFolderPerClass) {
  ScratchDir d("loader_folders");
  test::write_png_file(d.path() / "a" / "1.png", test::pattern_image(40, 30, 3, 1));
  test::write_png_file(d.path() / "a" / "2.png", test::pattern_image(20, 20, 1, 2));  // grey
  test::write_bytes(d.path() / "b" / "3.jpg", encode_jpeg(test::pattern_image(64, 48, 3, 3)));
  const ImageSet set = load_images(open_dataset(d.str()), {.size = 16});
  EXPECT_EQ(set.rows(), 3);
  EXPECT_FALSE(set.masks.defined());
  EXPECT_EQ(set.labels, (std::vector<int64_t>{0, 0, 1}));
  EXPECT_EQ(set.classes, (std::vector<std::string>{"a", "b"}));
  // The grey image is the same in all three planes.
  const float* g = set.images.data<float>() + 1 * 3 * 256;
  for (int i = 0; i < 256; ++i) EXPECT_EQ(g[i], g[256 + i]);
}

TEST(Loader, ReadsMultiLabelCsvWithBlanks) {
  ScratchDir d("loader_multi");
  for (int i = 0; i < 3; ++i) {
    test::write_png_file(d.path() / ("x" + std::to_string(i) + ".png"),
                         test::pattern_image(24, 24, 1, i));
  }
  test::write_text(d.path() / "index.csv",
                   "path,Edema,Effusion\nx0.png,1,\nx1.png,,0\nx2.png,0,1\n");
  const ImageSet set = load_images(read_csv_index(d.str("index.csv")), {.size = 16});
  ASSERT_TRUE(set.multi_label);
  EXPECT_EQ(set.targets.to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(set.known.to_vector<float>(), (std::vector<float>{1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(set.strata(), (std::vector<int64_t>{0, 2, 1}));
  Loader loader(set, {0, 1, 2}, {.batch_size = 2, .shuffle = false}, Generator(1));
  loader.start_epoch(0);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  EXPECT_EQ(b.targets.shape(), (Shape{2, 2}));
  EXPECT_EQ(b.known.to_vector<float>(), (std::vector<float>{1, 0, 0, 1}));
  EXPECT_FALSE(b.labels.defined());
}

// ---- bad image files behind a CSV: the message names the line and the file -------

// Writes a dataset whose second row is `bad` (bytes) and returns the CSV path.
std::string csv_with_bad_file(const ScratchDir& d, const std::string& name,
                              const std::vector<uint8_t>& bad) {
  test::write_png_file(d.path() / "ok.png", test::pattern_image(16, 16, 3, 0));
  test::write_bytes(d.path() / name, bad);
  test::write_text(d.path() / "labels.csv", "path,label\nok.png,0\n" + name + ",1\n");
  return d.str("labels.csv");
}

void expect_bad_file(const std::string& name, const std::vector<uint8_t>& bytes,
                     const std::string& what) {
  ScratchDir d("loader_bad");
  const std::string csv = csv_with_bad_file(d, name, bytes);
  const Dataset ds = read_csv_index(csv);
  expect_error([&] { load_images(ds, {.size = 16}); }, {csv + ":3", name, what});
  // And with skip_bad: left out, one warning naming it, counted.
  const ImageSet set = load_images(ds, {.size = 16, .skip_bad = true});
  EXPECT_EQ(set.rows(), 1);
  EXPECT_EQ(set.skipped, 1);
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_NE(set.warnings[0].find(name), std::string::npos) << set.warnings[0];
}

TEST(LoaderBad, TruncatedPng) {
  std::vector<uint8_t> png = encode_png(test::pattern_image(32, 32, 3, 1));
  png.resize(png.size() / 2);
  expect_bad_file("cut.png", png, "truncated PNG");
}

TEST(LoaderBad, CorruptJpeg) {
  std::vector<uint8_t> jpg = encode_jpeg(test::pattern_image(32, 32, 3, 2));
  for (size_t i = 2; i < 200; ++i) jpg[i] = uint8_t(i * 37);
  expect_bad_file("bad.jpg", jpg, "bad.jpg");
}

TEST(LoaderBad, ZeroByteFile) {
  expect_bad_file("zero.png", {}, "empty file");
}

TEST(LoaderBad, OnePixelImage) {
  expect_bad_file("dot.png", encode_png(test::pattern_image(1, 1, 3, 3)), "1x1");
}

TEST(LoaderBad, FileRemovedAfterIndexing) {
  ScratchDir d("loader_gone");
  const std::string csv =
      csv_with_bad_file(d, "gone.png", encode_png(test::pattern_image(16, 16, 3, 4)));
  const Dataset ds = read_csv_index(csv);
  fs::remove(d.path() / "gone.png");
  expect_error([&] { load_images(ds, {.size = 16}); }, {csv + ":3", "gone.png", "cannot open"});
}

TEST(LoaderBad, SkipBadCountsEveryFile) {
  ScratchDir d("loader_skip");
  test::write_png_file(d.path() / "ok1.png", test::pattern_image(16, 16, 3, 0));
  test::write_png_file(d.path() / "ok2.png", test::pattern_image(16, 16, 3, 1));
  test::write_bytes(d.path() / "zero.png", {});
  test::write_png_file(d.path() / "dot.png", test::pattern_image(1, 1, 3, 2));
  test::write_text(d.path() / "text.png", "not an image");
  test::write_text(d.path() / "labels.csv",
                   "path,label\nok1.png,0\nzero.png,1\ndot.png,0\nok2.png,1\ntext.png,1\n"
                   "missing.png,0\n");
  IndexOptions io;
  io.skip_bad = true;
  const Dataset ds = read_csv_index(d.str("labels.csv"), io);  // missing.png: left out here
  EXPECT_EQ(ds.warnings.size(), 1u);
  const ImageSet set = load_images(ds, {.size = 16, .skip_bad = true});
  EXPECT_EQ(set.rows(), 2);
  EXPECT_EQ(set.skipped, 3);
  EXPECT_EQ(set.warnings.size(), 4u) << "index and decoder warnings together";
  EXPECT_EQ(set.labels, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(set.sample, (std::vector<int64_t>{0, 3})) << "stable ids of the kept rows";
}

// ---- the loader ------------------------------------------------------------------------

ImageSet small_set() {
  return load_images(open_dataset(SynthSet::dir()), {.size = 24});
}

std::vector<Batch> epoch_batches(Loader& l, int64_t epoch) {
  std::vector<Batch> out;
  l.start_epoch(epoch);
  Batch b;
  while (l.next(b)) out.push_back(b);
  return out;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b,
                         const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].rows, b[i].rows) << what << ", batch " << i;
    EXPECT_TRUE(test::bitwise_equal(a[i].images, b[i].images)) << what << ", batch " << i;
    EXPECT_TRUE(test::bitwise_equal(a[i].labels, b[i].labels)) << what << ", batch " << i;
    EXPECT_TRUE(test::bitwise_equal(a[i].masks, b[i].masks)) << what << ", batch " << i;
  }
}

TEST(Loader, BatchesAreAPermutationWithLabels) {
  const ImageSet set = small_set();
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < set.rows(); ++r) rows.push_back(r);
  Loader l(set, rows, {.batch_size = 16}, Generator(5));
  EXPECT_EQ(l.batches_per_epoch(), 3);
  const std::vector<Batch> e0 = epoch_batches(l, 0);
  ASSERT_EQ(e0.size(), 3u);
  EXPECT_EQ(e0[2].images.size(0), 8) << "last batch is the remainder";
  std::multiset<int64_t> seen;
  for (const Batch& b : e0) {
    EXPECT_EQ(b.images.shape()[1], 3);
    EXPECT_EQ(b.labels.dtype(), DType::I64);
    for (size_t j = 0; j < b.rows.size(); ++j) {
      seen.insert(b.rows[j]);
      EXPECT_EQ(b.labels.data<int64_t>()[j], set.labels[size_t(b.rows[j])]);
    }
  }
  EXPECT_EQ(seen, std::multiset<int64_t>(rows.begin(), rows.end()));
  const std::vector<Batch> e1 = epoch_batches(l, 1);
  EXPECT_NE(e0[0].rows, e1[0].rows) << "each epoch a new order";
  Loader drop(set, rows, {.batch_size = 16, .drop_last = true}, Generator(5));
  EXPECT_EQ(drop.batches_per_epoch(), 2);
  Loader fixed(set, rows, {.batch_size = 16, .shuffle = false}, Generator(5));
  EXPECT_EQ(epoch_batches(fixed, 0)[0].rows[3], 3);
}

TEST(Loader, SameBitsWithPrefetchWorkersAndThreads) {
  const ImageSet set = small_set();
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < set.rows(); r += 2) rows.push_back(r);
  LoaderOptions o{.batch_size = 7, .augment = true};
  o.normalize = compute_normalization(set.images, rows);
  o.prefetch = false;
  set_num_threads(1);
  Loader ref(set, rows, o, Generator(8));
  const std::vector<Batch> a = epoch_batches(ref, 3);
  set_num_threads(2);
  o.prefetch = true;
  o.workers = 3;
  Loader par(set, rows, o, Generator(8));
  const std::vector<Batch> b = epoch_batches(par, 3);
  set_num_threads(0);
  expect_same_batches(a, b, "prefetch + 3 workers vs synchronous on 1 thread");
  // Resuming mid-epoch gives the rest of the same epoch.
  par.start_epoch(3, 1);
  Batch x;
  ASSERT_TRUE(par.next(x));
  EXPECT_EQ(x.rows, a[1].rows);
  EXPECT_TRUE(test::bitwise_equal(x.images, a[1].images));
  // A new Generator seed changes the order.
  Loader other(set, rows, o, Generator(9));
  EXPECT_NE(epoch_batches(other, 3)[0].rows, a[0].rows);
}

TEST(Loader, StopsCleanlyMidEpoch) {
  const ImageSet set = small_set();
  Loader l(set, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {.batch_size = 1, .prefetch_depth = 1},
           Generator(2));
  l.start_epoch(0);
  Batch b;
  ASSERT_TRUE(l.next(b));
  l.start_epoch(1);  // abandons epoch 0 with the worker blocked on a full queue
  int n = 0;
  while (l.next(b)) ++n;
  EXPECT_EQ(n, 10);
  Loader unstarted(set, {0}, {}, Generator(2));
  EXPECT_THROW(unstarted.next(b), Error);
  EXPECT_THROW(Loader(set, {99}, {}, Generator(2)), Error);
}

// ---- augmentation -----------------------------------------------------------------------

// The geometric options on (they are off by default, see below).
AugmentOptions with_geometry() {
  AugmentOptions o;
  o.rotate_deg = 10.0f;
  o.scale_min = 0.9f;
  o.scale_max = 1.1f;
  o.translate = 0.05f;
  return o;
}

TEST(Augment, ParametersArePureFunctionsWithinRanges) {
  const AugmentOptions o = with_geometry();
  const PhiloxDraw d{7, 3, 0};
  int flips = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    const AugmentParams p = draw_augment(o, d, i), q = draw_augment(o, d, i);
    EXPECT_EQ(p.angle, q.angle);
    EXPECT_EQ(p.scale, q.scale);
    EXPECT_LE(std::fabs(p.angle), o.rotate_deg * 3.1415927f / 180.0f);
    EXPECT_GE(p.scale, o.scale_min);
    EXPECT_LE(p.scale, o.scale_max);
    EXPECT_LE(std::fabs(p.tx), o.translate);
    EXPECT_LE(std::fabs(p.brightness - 1.0f), o.brightness);
    EXPECT_FALSE(p.vflip);
    flips += p.hflip;
  }
  EXPECT_NEAR(flips / 2000.0, 0.5, 0.05);
  EXPECT_NE(draw_augment(o, d, 1).angle, draw_augment(o, d, 2).angle);
  EXPECT_NE(draw_augment(o, d, 1).angle, draw_augment(o, PhiloxDraw{7, 3, 1}, 1).angle)
      << "another epoch, other parameters";
}

// By default nothing is resampled: flips and colour only, so a one-pixel
// lesion stays one pixel.
TEST(Augment, DefaultsMoveWholePixelsOnly) {
  const AugmentOptions o;
  for (int64_t i = 0; i < 200; ++i) {
    const AugmentParams p = draw_augment(o, PhiloxDraw{7, 3, 0}, i);
    ASSERT_EQ(p.angle, 0.0f);
    ASSERT_EQ(p.scale, 1.0f);
    ASSERT_EQ(p.tx, 0.0f);
    ASSERT_EQ(p.ty, 0.0f);
  }
}

TEST(Augment, IdentityCopiesAndFlipMirrorsExactly) {
  const int S = 9;
  std::vector<float> src(3 * S * S), dst(3 * S * S), mask(S * S), dmask(S * S);
  for (size_t i = 0; i < src.size(); ++i) src[i] = float((i * 37) % 101) / 100.0f;
  for (int i = 0; i < S * S; ++i) mask[i] = src[i];
  augment_image(src.data(), mask.data(), S, AugmentParams{}, dst.data(), dmask.data());
  EXPECT_EQ(dst, src);
  AugmentParams flip;
  flip.hflip = true;
  augment_image(src.data(), mask.data(), S, flip, dst.data(), dmask.data());
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < S; ++y) {
      for (int x = 0; x < S; ++x) {
        ASSERT_EQ(dst[(c * S + y) * S + x], src[(c * S + y) * S + (S - 1 - x)]);
      }
    }
  }
  // The mask follows the geometry: it was a copy of plane 0 and stays one.
  AugmentParams warp;
  warp.angle = 0.2f;
  warp.scale = 1.1f;
  warp.tx = 0.05f;
  augment_image(src.data(), mask.data(), S, warp, dst.data(), dmask.data());
  for (int i = 0; i < S * S; ++i) ASSERT_EQ(dmask[i], dst[i]);
}

TEST(Augment, SameBitsForAnyThreadCount) {
  const ImageSet set = small_set();
  const int S = set.size;
  const int64_t n = set.rows(), plane = 3 * int64_t(S) * S;
  const AugmentOptions o = with_geometry();
  auto run = [&](int threads) {
    std::vector<float> out(size_t(n * plane));
    const float* src = set.images.data<float>();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      const AugmentParams p = draw_augment(o, PhiloxDraw{11, 4, 2}, i);
      augment_image(src + i * plane, nullptr, S, p, out.data() + i * plane, nullptr);
    }
    return out;
  };
  const std::vector<float> one = run(1);
  EXPECT_EQ(one, run(2));
  EXPECT_EQ(one, run(3));
  EXPECT_NE(std::vector<float>(one.begin(), one.begin() + plane),
            std::vector<float>(set.images.data<float>(), set.images.data<float>() + plane))
      << "augmentation changed nothing";
}

// ---- normalisation -------------------------------------------------------------------------

TEST(Normalize, StatisticsOfAKnownSet) {
  // Three 2x2 images; channel c of image k holds the constant value v[k][c].
  const float v[3][3] = {{0.2f, 0.5f, 0.0f}, {0.6f, 0.5f, 1.0f}, {9.0f, 9.0f, 9.0f}};
  Tensor images = Tensor::empty({3, 3, 2, 2});
  for (int k = 0; k < 3; ++k) {
    for (int c = 0; c < 3; ++c) {
      for (int i = 0; i < 4; ++i) images.data<float>()[(k * 3 + c) * 4 + i] = v[k][c];
    }
  }
  // Only rows 0 and 1 (the training split) count; row 2 would spoil everything.
  const Normalization n = compute_normalization(images, {0, 1});
  EXPECT_FLOAT_EQ(n.mean[0], 0.4f);
  EXPECT_FLOAT_EQ(n.stddev[0], 0.2f);
  EXPECT_FLOAT_EQ(n.mean[1], 0.5f);
  EXPECT_FLOAT_EQ(n.stddev[1], 1.0f) << "no spread: std 1, not a division by zero";
  EXPECT_FLOAT_EQ(n.mean[2], 0.5f);
  EXPECT_FLOAT_EQ(n.stddev[2], 0.5f);
  std::vector<float> px = {0.6f, 0.6f, 0.6f, 0.6f, 0.5f, 0.5f, 0.5f, 0.5f, 0, 0, 0, 0};
  n.apply(px.data(), 4);
  EXPECT_NEAR(px[0], 1.0f, 1e-6);
  EXPECT_NEAR(px[4], 0.0f, 1e-6);
  EXPECT_NEAR(px[8], -1.0f, 1e-6);
}

TEST(Normalize, MetadataRoundTripIsExact) {
  Normalization n;
  n.mean = {0.123456789f, 0.3f, 1e-7f};
  n.stddev = {0.2f, 0.25f, 0.333333343f};
  const auto meta = n.to_metadata();
  EXPECT_EQ(meta.size(), 2u);
  const Normalization back = Normalization::from_metadata(meta);
  EXPECT_EQ(back.mean, n.mean);
  EXPECT_EQ(back.stddev, n.stddev);
  EXPECT_THROW(Normalization::from_metadata({}), Error);
  EXPECT_THROW(
      Normalization::from_metadata({{"normalize.mean", "1,2"}, {"normalize.std", "1,1,1"}}), Error);
  EXPECT_THROW(
      Normalization::from_metadata({{"normalize.mean", "1,2,3"}, {"normalize.std", "1,0,1"}}),
      Error);
}

}  // namespace
}  // namespace medtex::data
