// Synthetic fundus photographs with lesion ground truth: the embedded default
// dataset (DESIGN §7), since real DR archives cannot be shipped.
//
// An image is a dark surround, a retina disc with illumination fall-off and
// choroidal texture, a macula, an optic disc, a branching vessel tree, and the
// lesions of diabetic retinopathy, whose kinds and counts set the grade in the
// spirit of the international DR scale:
//   0 none; 1 mild: microaneurysms only; 2 moderate: more microaneurysms, a few
//   haemorrhages and hard exudates; 3 severe: many haemorrhages, cotton-wool
//   spots; 4 proliferative: neovascular tufts at the disc (and elsewhere),
//   sometimes a preretinal haemorrhage, on a severe background (so 3 and 4
//   differ by the new vessels alone).
// Lesions are the only thing the grade changes: anatomy and camera are drawn
// from their own random streams, so no global statistic unrelated to lesions
// tells the grade. A mask marks every lesion pixel with its kind.
//
// Determinism: image i is a pure function of (seed, preset, i, size), drawn
// from Philox streams of its own, so a set renders in parallel and gives the
// same bytes for any thread count, and a smaller set is a prefix of a larger.
// Only + - * / sqrt floor and the portable sin/cos are used (no libm
// transcendental functions), so the bytes are the same on any machine.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "medtex/data/image_io.h"

namespace medtex::data {

inline constexpr int kNumGrades = 5;

// Lesion kinds. The mask PNGs store kMaskStep * kind (0: no lesion), so a
// loader that only asks "lesion or not" reads mask > 0.
enum class Lesion : uint8_t {
  kNone = 0,
  kMicroaneurysm = 1,
  kHaemorrhage = 2,
  kHardExudate = 3,
  kCottonWool = 4,
  kNeovascular = 5,
};
inline constexpr int kNumLesionKinds = 6;
inline constexpr int kMaskStep = 50;
const char* lesion_name(Lesion kind);

// base +- spread: each image draws uniformly in the range, so the images of
// one site vary as real photographs do.
struct Knob {
  float base = 0.0f;
  float spread = 0.0f;
};

// One camera / site.
struct DomainKnobs {
  std::string name;
  Knob gain_r, gain_g, gain_b;  // colour balance: gain per channel
  Knob brightness;              // exposure: a factor on all channels
  Knob blur;                    // Gaussian sigma as a fraction of the image side
  Knob vignetting;              // illumination loss at the rim of the field (0: none)
  Knob noise;                   // sensor noise, standard deviation in [0, 1] units
  Knob field_of_view;           // retina radius as a fraction of half the image side
  // Sensor resolution relative to the output: the picture is taken at
  // size * resolution pixels and upsampled, as a low-end camera's is.
  float resolution = 1.0f;
  // Prior over grades 0..4 (need not sum to 1).
  std::array<float, kNumGrades> grade_weights = {1, 1, 1, 1, 1};
};

// "source": a desktop fundus camera of a large screening archive: wide field,
// neutral colour, sharp, little noise. "target": a small clinic's handheld
// camera: narrower field, less red (a greener, cooler balance) and darker
// exposure, softer optics at a lower sensor resolution, stronger vignetting
// and noise.
DomainKnobs domain_preset(const std::string& name);  // throws for an unknown name
std::vector<std::string> domain_preset_names();

struct SynthSample {
  Image image;  // RGB, size x size
  Image mask;   // grey, size x size: kMaskStep * Lesion
  int grade = 0;
  std::array<int, kNumLesionKinds> lesion_count{};  // lesions placed, per kind
  int64_t lesion_pixels = 0;                        // mask pixels > 0
};

// Renders image `index` of the set (seed, knobs) at size x size (16..4096).
// grade >= 0 overrides the drawn grade: the same eye through the same camera
// with that grade's lesions instead (a counterfactual; outside the lesions and
// their blur the pixels are identical).
SynthSample render_fundus(uint64_t seed, int64_t index, int size, const DomainKnobs& knobs,
                          int grade = -1);

// The grade of image `index`, without rendering it (same value render_fundus gives).
int synth_grade(uint64_t seed, int64_t index, const DomainKnobs& knobs);

// ---- writing a set (the `medtex synth` command) ---------------------------
struct SynthOptions {
  std::string out_dir;
  int64_t n = 1000;
  int size = 64;
  std::string preset = "source";
  uint64_t seed = 0;
  bool preview = false;
  bool force = false;  // allow a non-empty out_dir; replaces images/, masks/ and our files
};

struct SynthSummary {
  std::array<int64_t, kNumGrades> per_grade{};
  std::array<double, kNumGrades> mean_lesion_pixels{};
  double seconds = 0.0;  // render + encode + write, excluding the preview
  int threads = 1;
};

// Writes out_dir/images/NNNNNN.png, out_dir/masks/NNNNNN.png and
// out_dir/labels.csv (path,label,mask), and with `preview` out_dir/preview.png.
// Images are rendered in parallel (OpenMP), each from its own streams.
SynthSummary write_synthetic_set(const SynthOptions& opts);

// A picture for people: one row per grade (0 at the top), up to `per_grade`
// samples each, every image followed by its mask in colour (lesion kinds:
// microaneurysm red, haemorrhage dark red, hard exudate yellow, cotton-wool
// white, neovascular magenta). Grades with no sample stay dark.
Image preview_grid(uint64_t seed, int64_t n, int size, const DomainKnobs& knobs, int per_grade = 4);

}  // namespace medtex::data
