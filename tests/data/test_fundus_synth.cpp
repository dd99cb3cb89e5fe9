// The synthetic fundus generator: deterministic files for any thread count,
// presets that differ, lesions that carry the grade and nothing else that does.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/data/fundus_synth.h"
#include "tests/data/data_test_util.h"

namespace medtex::data {
namespace {

using test::ScratchDir;

SynthOptions small_set(const std::string& dir, const std::string& preset, int64_t n = 30) {
  SynthOptions o;
  o.out_dir = dir;
  o.n = n;
  o.size = 48;
  o.preset = preset;
  o.seed = 7;
  return o;
}

TEST(FundusSynth, FilesAreIdenticalAcrossRunsAndThreadCounts) {
  for (const std::string preset : {"source", "target"}) {
    ScratchDir a("synth_a"), b("synth_b"), c("synth_c");
    set_num_threads(1);
    write_synthetic_set(small_set(a.str(), preset));
    write_synthetic_set(small_set(b.str(), preset));
    set_num_threads(2);
    write_synthetic_set(small_set(c.str(), preset));
    set_num_threads(0);
    const uint64_t ha = test::hash_tree(a.path());
    EXPECT_EQ(ha, test::hash_tree(b.path())) << preset << ": two runs on 1 thread differ";
    EXPECT_EQ(ha, test::hash_tree(c.path())) << preset << ": 1 and 2 threads differ";
    EXPECT_EQ(test::count_files(a.path() / "images"), 30u);
    EXPECT_EQ(test::count_files(a.path() / "masks"), 30u);
  }
}

TEST(FundusSynth, ImageDependsOnlyOnSeedIndexSizePreset) {
  const DomainKnobs src = domain_preset("source");
  const SynthSample x = render_fundus(3, 17, 64, src);
  const SynthSample y = render_fundus(3, 17, 64, src);
  EXPECT_EQ(x.image.pixels, y.image.pixels);
  EXPECT_EQ(x.mask.pixels, y.mask.pixels);
  EXPECT_NE(x.image.pixels, render_fundus(4, 17, 64, src).image.pixels) << "seed ignored";
  EXPECT_NE(x.image.pixels, render_fundus(3, 18, 64, src).image.pixels) << "index ignored";
  EXPECT_EQ(x.grade, synth_grade(3, 17, src));
  // The same scene at another size: the grade and lesion kinds do not change.
  const SynthSample big = render_fundus(3, 17, 128, src);
  EXPECT_EQ(big.grade, x.grade);
  EXPECT_EQ(big.lesion_count, x.lesion_count);
}

TEST(FundusSynth, SmallerSetIsPrefixOfLarger) {
  ScratchDir a("synth_prefix_a"), b("synth_prefix_b");
  write_synthetic_set(small_set(a.str(), "source", 10));
  write_synthetic_set(small_set(b.str(), "source", 25));
  for (int i = 0; i < 10; ++i) {
    const std::string name =
        "images/" + std::string(6 - std::to_string(i).size(), '0') + std::to_string(i) + ".png";
    EXPECT_EQ(read_file(a.str(name)), read_file(b.str(name))) << name;
  }
}

TEST(FundusSynth, PresetsDiffer) {
  const DomainKnobs src = domain_preset("source"), tgt = domain_preset("target");
  EXPECT_NE(src.field_of_view.base, tgt.field_of_view.base);
  EXPECT_LT(tgt.resolution, src.resolution);
  EXPECT_GT(tgt.blur.base, src.blur.base);
  EXPECT_GT(tgt.noise.base, src.noise.base);
  // Over many images: the target camera is darker, bluer/greener relative to
  // red, and its retina covers less of the frame.
  double mean_src[3] = {0, 0, 0}, mean_tgt[3] = {0, 0, 0};
  double lit_src = 0, lit_tgt = 0;
  const int n = 40;
  for (int i = 0; i < n; ++i) {
    const SynthSample a = render_fundus(1, i, 64, src), b = render_fundus(1, i, 64, tgt);
    for (size_t p = 0; p < a.image.pixels.size() / 3; ++p) {
      for (int c = 0; c < 3; ++c) {
        mean_src[c] += a.image.pixels[p * 3 + c];
        mean_tgt[c] += b.image.pixels[p * 3 + c];
      }
      lit_src += a.image.pixels[p * 3] > 40;
      lit_tgt += b.image.pixels[p * 3] > 40;
    }
  }
  EXPECT_GT(mean_src[0], mean_tgt[0] * 1.15) << "target should be darker in red";
  EXPECT_GT(mean_tgt[2] / mean_tgt[0], 1.2 * mean_src[2] / mean_src[0]) << "colour balance";
  EXPECT_GT(lit_src, lit_tgt * 1.1) << "target field of view should be smaller";
  EXPECT_THROW(domain_preset("nope"), Error);
}

TEST(FundusSynth, LesionsFollowTheGrade) {
  const DomainKnobs src = domain_preset("source");
  double px[kNumGrades] = {0, 0, 0, 0, 0};
  int count[kNumGrades] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 250; ++i) {
    const SynthSample s = render_fundus(11, i, 64, src);
    ++count[s.grade];
    px[s.grade] += double(s.lesion_pixels);
    int64_t nonzero = 0;
    for (uint8_t m : s.mask.pixels) {
      nonzero += m != 0;
      ASSERT_EQ(m % kMaskStep, 0) << "mask values are kMaskStep * kind";
      ASSERT_LE(m / kMaskStep, kNumLesionKinds - 1);
    }
    EXPECT_EQ(nonzero, s.lesion_pixels);
    const auto& lc = s.lesion_count;
    if (s.grade == 0) {
      EXPECT_EQ(nonzero, 0) << "grade 0 image " << i << " has lesion pixels";
    } else {
      EXPECT_GT(nonzero, 0) << "grade " << s.grade << " image " << i << " has an empty mask";
    }
    // The kinds that define each grade.
    if (s.grade == 1) {
      EXPECT_GT(lc[int(Lesion::kMicroaneurysm)], 0);
      EXPECT_EQ(lc[int(Lesion::kHaemorrhage)] + lc[int(Lesion::kHardExudate)] +
                    lc[int(Lesion::kCottonWool)] + lc[int(Lesion::kNeovascular)],
                0);
    }
    if (s.grade == 3) {
      EXPECT_GT(lc[int(Lesion::kCottonWool)], 0);
    }
    if (s.grade == 4) {
      EXPECT_GT(lc[int(Lesion::kNeovascular)], 0);
    } else {
      EXPECT_EQ(lc[int(Lesion::kNeovascular)], 0);
    }
  }
  for (int g = 0; g < kNumGrades; ++g) {
    ASSERT_GT(count[g], 20) << "grade " << g << " too rare to test";
    px[g] /= count[g];
  }
  EXPECT_EQ(px[0], 0.0);
  EXPECT_LT(px[0], px[1]);
  EXPECT_LT(px[1], px[2]);
  EXPECT_LT(px[2], px[3]);
  EXPECT_LT(px[2], px[4]);
}

// The grade must not be readable from anything but the lesions: the same eye
// rendered with another grade's lesions is bit-identical everywhere except
// within a few pixels of a lesion (the camera's blur and resampling reach).
TEST(FundusSynth, GradeChangesOnlyLesionPixels) {
  for (const std::string preset : {"source", "target"}) {
    const DomainKnobs k = domain_preset(preset);
    // How far a lesion pixel's change can travel: the binomial blur moves it
    // one pixel per pass; the target camera's lower sensor resolution
    // (0.7: area-averaged down, bilinear back up) about four more.
    const int S = 64, reach = preset == "source" ? 3 : 5;
    for (int i = 0; i < 20; ++i) {
      const SynthSample clean = render_fundus(5, i, S, k, 0);
      EXPECT_EQ(clean.lesion_pixels, 0);
      for (int g = 1; g < kNumGrades; ++g) {
        const SynthSample s = render_fundus(5, i, S, k, g);
        ASSERT_EQ(s.grade, g);
        int64_t compared = 0;
        for (int y = 0; y < S; ++y) {
          for (int x = 0; x < S; ++x) {
            bool near = false;
            for (int dy = -reach; dy <= reach && !near; ++dy) {
              for (int dx = -reach; dx <= reach && !near; ++dx) {
                const int xx = x + dx, yy = y + dy;
                if (xx >= 0 && yy >= 0 && xx < S && yy < S) near = s.mask.at(xx, yy)[0] != 0;
              }
            }
            if (near) continue;
            ++compared;
            for (int c = 0; c < 3; ++c) {
              ASSERT_EQ(s.image.at(x, y)[c], clean.image.at(x, y)[c])
                  << preset << " image " << i << " grade " << g << " pixel " << x << "," << y;
            }
          }
        }
        EXPECT_GT(compared, S * S / 3);
      }
    }
  }
}

TEST(FundusSynth, RefusesNonEmptyFolderUnlessForced) {
  ScratchDir d("synth_force");
  test::write_text(d.path() / "keep.txt", "x");
  SynthOptions o = small_set(d.str(), "source", 5);
  try {
    write_synthetic_set(o);
    FAIL() << "wrote into a non-empty folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
  }
  o.force = true;
  o.preview = true;
  const SynthSummary s = write_synthetic_set(o);
  int64_t total = 0;
  for (int64_t c : s.per_grade) total += c;
  EXPECT_EQ(total, 5);
  EXPECT_TRUE(std::filesystem::exists(d.path() / "keep.txt")) << "--force removed a foreign file";
  EXPECT_TRUE(std::filesystem::exists(d.path() / "preview.png"));
  const Image preview = read_image(d.str("preview.png"));
  EXPECT_GT(preview.width, 8 * 48);
  // labels.csv: header plus one row per image, each naming its mask.
  std::ifstream csv(d.path() / "labels.csv");
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "path,label,mask");
  int rows = 0;
  while (std::getline(csv, line)) {
    ++rows;
    EXPECT_NE(line.find(",masks/"), std::string::npos) << line;
  }
  EXPECT_EQ(rows, 5);
}

TEST(FundusSynth, RejectsBadOptions) {
  ScratchDir d("synth_bad");
  SynthOptions o = small_set(d.str("out"), "source", 5);
  o.size = 4;
  EXPECT_THROW(write_synthetic_set(o), Error);
  o.size = 48;
  o.n = 0;
  EXPECT_THROW(write_synthetic_set(o), Error);
  o.n = 5;
  o.preset = "mystery";
  EXPECT_THROW(write_synthetic_set(o), Error);
}

}  // namespace
}  // namespace medtex::data
