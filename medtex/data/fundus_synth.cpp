#include "medtex/data/fundus_synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <omp.h>

#include "engine/rng.h"
#include "kernels/common/error.h"
#include "kernels/common/philox.h"
#include "medtex/data/portable_math.h"

namespace medtex::data {

namespace fs = std::filesystem;

const char* lesion_name(Lesion kind) {
  switch (kind) {
    case Lesion::kNone:
      return "none";
    case Lesion::kMicroaneurysm:
      return "microaneurysm";
    case Lesion::kHaemorrhage:
      return "haemorrhage";
    case Lesion::kHardExudate:
      return "hard exudate";
    case Lesion::kCottonWool:
      return "cotton-wool spot";
    case Lesion::kNeovascular:
      return "neovascular tuft";
  }
  return "?";
}

DomainKnobs domain_preset(const std::string& name) {
  DomainKnobs k;
  k.name = name;
  if (name == "source") {
    k.gain_r = {1.00f, 0.04f};
    k.gain_g = {1.00f, 0.04f};
    k.gain_b = {1.00f, 0.05f};
    k.brightness = {1.00f, 0.08f};
    k.blur = {0.004f, 0.002f};
    k.vignetting = {0.30f, 0.08f};
    k.noise = {0.010f, 0.004f};
    k.field_of_view = {0.94f, 0.02f};
    k.resolution = 1.0f;
  } else if (name == "target") {
    k.gain_r = {0.90f, 0.04f};
    k.gain_g = {1.12f, 0.05f};
    k.gain_b = {1.15f, 0.08f};
    k.brightness = {0.88f, 0.10f};
    k.blur = {0.005f, 0.0015f};
    k.vignetting = {0.45f, 0.10f};
    k.noise = {0.018f, 0.006f};
    k.field_of_view = {0.88f, 0.03f};
    k.resolution = 0.85f;
  } else {
    fail("unknown preset '", name, "' (expected source or target)");
  }
  return k;
}

std::vector<std::string> domain_preset_names() {
  return {"source", "target"};
}

namespace {

// ---- random numbers ----------------------------------------------------------

// Words of one Philox draw, in order; element i is the same as philox_word(draw, i).
class Rng {
 public:
  Rng(uint64_t seed, uint32_t stream, uint32_t offset) : draw_{seed, stream, offset} {}

  uint32_t u32() {
    const uint64_t block = i_ >> 2;
    if (block != cached_) {
      const PhiloxCounter c = {
          {uint32_t(block), uint32_t(block >> 32), draw_.stream, draw_.offset}};
      const PhiloxKey k = {{uint32_t(draw_.seed), uint32_t(draw_.seed >> 32)}};
      words_ = philox4x32_10(c, k);
      cached_ = block;
    }
    return words_.v[i_++ & 3];
  }
  float uniform() { return uniform_open01(u32()); }  // (0, 1)
  float uniform(float lo, float hi) { return lo + (hi - lo) * uniform(); }
  float around(const Knob& k) { return uniform(k.base - k.spread, k.base + k.spread); }
  int range(int lo, int hi) {  // inclusive, by multiply-shift (bias < 2^-28)
    return lo + int((uint64_t(u32()) * uint64_t(hi - lo + 1)) >> 32);
  }
  bool chance(float p) { return uniform() < p; }
  float sign() { return (u32() & 1u) ? 1.0f : -1.0f; }
  // Irwin-Hall: the sum of 4 uniforms, scaled to unit variance. Close enough
  // to normal for jitter, and free of log/sqrt.
  float normal() {
    const float s = uniform() + uniform() + uniform() + uniform() - 2.0f;
    return s * 1.7320508f;
  }

 private:
  PhiloxDraw draw_;
  uint64_t i_ = 0;
  uint64_t cached_ = UINT64_MAX;
  PhiloxCounter words_{};
};

// One Philox stream per purpose; the image index is the draw offset, so each
// image owns 2^66 words of each stream and images never share numbers.
struct Streams {
  uint64_t seed;
  uint32_t grade, anatomy, lesions, camera, noise;
};

Streams make_streams(uint64_t seed, const DomainKnobs& knobs) {
  const Generator root = Generator(seed).fork("fundus").fork(knobs.name);
  return {seed,
          root.fork("grade").stream(),
          root.fork("anatomy").stream(),
          root.fork("lesions").stream(),
          root.fork("camera").stream(),
          root.fork("noise").stream()};
}

uint32_t check_index(int64_t index) {
  MT_CHECK(index >= 0 && index <= int64_t(UINT32_MAX), "synth: image index ", index,
           " out of range [0, 2^32)");
  return uint32_t(index);
}

int draw_grade(Rng& rng, const DomainKnobs& knobs) {
  float total = 0.0f;
  for (float w : knobs.grade_weights) total += std::max(w, 0.0f);
  MT_CHECK(total > 0.0f, "synth: preset '", knobs.name, "' has no positive grade weight");
  const float u = rng.uniform() * total;
  float acc = 0.0f;
  for (int g = 0; g < kNumGrades; ++g) {
    acc += std::max(knobs.grade_weights[g], 0.0f);
    if (u < acc) return g;
  }
  return kNumGrades - 1;
}

// ---- geometry ----------------------------------------------------------------

struct Vec2 {
  float x = 0.0f, y = 0.0f;
};
Vec2 operator+(Vec2 a, Vec2 b) {
  return {a.x + b.x, a.y + b.y};
}
Vec2 operator-(Vec2 a, Vec2 b) {
  return {a.x - b.x, a.y - b.y};
}
Vec2 operator*(float s, Vec2 a) {
  return {s * a.x, s * a.y};
}
float length(Vec2 a) {
  return std::sqrt(a.x * a.x + a.y * a.y);
}

Vec2 direction(float angle) {
  double s, c;
  portable_sincos(angle, &s, &c);
  return {float(c), float(s)};
}

float clamp01(float v) {
  return std::min(1.0f, std::max(0.0f, v));
}
// A smooth bump: 1 at t = 0, 0 with zero slope at |t| >= 1. Used where a
// Gaussian would need exp().
float bump(float t2) {  // takes t^2
  if (t2 >= 1.0f) return 0.0f;
  const float u = 1.0f - t2;
  return u * u;
}
float smoothstep(float t) {
  return t * t * (3.0f - 2.0f * t);
}

// Retina units (retina centre at 0, radius 1, y down) -> pixels.
struct Frame {
  float ox, oy;  // pixel position of the retina centre (pixel centres at i + 0.5)
  float scale;   // pixels per retina unit
  Vec2 to_px(Vec2 q) const { return {ox + scale * q.x, oy + scale * q.y}; }
};

// ---- layers --------------------------------------------------------------------

// Opacity from which a lesion pixel enters the mask: low enough that a speck
// smaller than a pixel, spread over its neighbours by anti-aliasing, is still
// marked; high enough that the faint rim of a soft spot is not.
constexpr float kMaskAlpha = 0.12f;

struct Layers {
  int S;
  std::vector<float> vessel, red, yellow, white, mask_alpha;
  std::vector<uint8_t> mask_kind;

  explicit Layers(int size)
      : S(size),
        vessel(size_t(size) * size, 0.0f),
        red(vessel.size(), 0.0f),
        yellow(vessel.size(), 0.0f),
        white(vessel.size(), 0.0f),
        mask_alpha(vessel.size(), 0.0f),
        mask_kind(vessel.size(), 0) {}

  std::vector<float>& layer_of(Lesion kind) {
    if (kind == Lesion::kHardExudate) return yellow;
    if (kind == Lesion::kCottonWool) return white;
    return red;
  }
  void put(Lesion kind, std::vector<float>& layer, size_t i, float a) {
    if (a > layer[i]) layer[i] = a;
    if (kind != Lesion::kNone && a >= kMaskAlpha && a > mask_alpha[i]) {
      mask_alpha[i] = a;
      mask_kind[i] = uint8_t(kind);
    }
  }
  // Calls alpha(px, py) (pixel-centre coordinates) over the pixels of a box.
  template <class F>
  void stamp(Lesion kind, std::vector<float>& layer, float x0, float y0, float x1, float y1,
             F&& alpha) {
    const int ix0 = std::max(0, int(std::floor(x0))), iy0 = std::max(0, int(std::floor(y0)));
    const int ix1 = std::min(S - 1, int(std::floor(x1))),
              iy1 = std::min(S - 1, int(std::floor(y1)));
    for (int y = iy0; y <= iy1; ++y) {
      for (int x = ix0; x <= ix1; ++x) {
        const float a = alpha(float(x) + 0.5f, float(y) + 0.5f);
        if (a > 0.0f) put(kind, layer, size_t(y) * S + x, a);
      }
    }
  }
};

// A filled disc, anti-aliased by its signed distance (in pixels) to the rim;
// `soft` gives a bump profile instead of a flat top.
void stamp_disc(Layers& L, const Frame& f, Lesion kind, Vec2 q, float r, float alpha, bool soft) {
  const Vec2 c = f.to_px(q);
  const float rp = r * f.scale;
  L.stamp(kind, L.layer_of(kind), c.x - rp - 1, c.y - rp - 1, c.x + rp + 1, c.y + rp + 1,
          [&](float px, float py) {
            const float dx = px - c.x, dy = py - c.y;
            const float d2 = dx * dx + dy * dy;
            if (soft) return alpha * bump(d2 / (rp * rp));
            return alpha * clamp01(rp - std::sqrt(d2) + 0.5f);
          });
}

// A filled ellipse with semi-axes a, b (retina units), major axis along `dir`.
void stamp_ellipse(Layers& L, const Frame& f, Lesion kind, Vec2 q, float a, float b, Vec2 dir,
                   float alpha) {
  const Vec2 c = f.to_px(q);
  const float ap = a * f.scale, bp = b * f.scale;
  const float ext = std::max(ap, bp) + 1.0f;
  L.stamp(kind, L.layer_of(kind), c.x - ext, c.y - ext, c.x + ext, c.y + ext,
          [&](float px, float py) {
            const float dx = px - c.x, dy = py - c.y;
            const float u = (dx * dir.x + dy * dir.y) / ap;
            const float v = (-dx * dir.y + dy * dir.x) / bp;
            const float rho2 = u * u + v * v;
            // Distance to the rim to first order: (1 - rho^2) / |grad rho^2|.
            const float g = 2.0f * std::sqrt(u * u / (ap * ap) + v * v / (bp * bp));
            const float dist = g > 1e-6f ? (1.0f - rho2) / g : 1.0f;
            return alpha * clamp01(dist + 0.5f);
          });
}

// Distance from p to the segment a-b, and where along it (t in [0, 1]).
float segment_distance(Vec2 p, Vec2 a, Vec2 b, float* t_out) {
  const Vec2 ab = b - a, ap = p - a;
  const float len2 = ab.x * ab.x + ab.y * ab.y;
  float t = len2 > 0.0f ? (ap.x * ab.x + ap.y * ab.y) / len2 : 0.0f;
  t = clamp01(t);
  *t_out = t;
  return length(p - (a + t * ab));
}

// A line of half-width hw0..hw1 (retina units). Lines thinner than a pixel
// cover a fraction of it, about 2 hw of its area.
void stamp_line(Layers& L, std::vector<float>& layer, Lesion kind, const Frame& f, Vec2 q0, Vec2 q1,
                float hw0, float hw1, float alpha) {
  const Vec2 a = f.to_px(q0), b = f.to_px(q1);
  const float w0 = hw0 * f.scale, w1 = hw1 * f.scale;
  const float ext = std::max(w0, w1) + 1.0f;
  L.stamp(kind, layer, std::min(a.x, b.x) - ext, std::min(a.y, b.y) - ext, std::max(a.x, b.x) + ext,
          std::max(a.y, b.y) + ext, [&](float px, float py) {
            float t;
            const float d = segment_distance({px, py}, a, b, &t);
            const float w = w0 + (w1 - w0) * t;
            return alpha * clamp01(std::min(w + 0.5f - d, 2.0f * w));
          });
}

// ---- the scene -------------------------------------------------------------------

struct Anatomy {
  float side;    // +1: optic disc on the right of the image (a right eye)
  Vec2 disc;     // optic disc centre, retina units
  float disc_r;  // optic disc radius
  Vec2 macula;
  float macula_r;
  float pigment[3];                        // fundus base colour
  float tex1, tex2;                        // texture amplitudes
  static constexpr int kG1 = 7, kG2 = 15;  // value-noise lattices over [-1.1, 1.1]^2
  float lat1[kG1 * kG1], lat2[kG2 * kG2];
};

struct Camera {
  float gain[3];
  float vignetting;
  Vec2 centre;       // retina centre, in units of half the image side
  float fov;         // retina radius, same units
  Vec2 gradient;     // uneven illumination: factor 1 + gradient . q
  float blur_sigma;  // fraction of the image side
  float noise;
};

struct Segment {
  Vec2 a, b;
  float hw0, hw1, strength;
};

Anatomy make_anatomy(Rng& r) {
  Anatomy A;
  A.side = r.sign();
  A.disc = {A.side * r.uniform(0.36f, 0.44f), r.uniform(-0.06f, 0.06f)};
  A.disc_r = r.uniform(0.105f, 0.125f);
  A.macula = {-A.side * r.uniform(0.03f, 0.10f), r.uniform(-0.04f, 0.04f)};
  A.macula_r = r.uniform(0.20f, 0.25f);
  const float tone = r.uniform(0.88f, 1.08f);  // how pigmented the fundus is
  A.pigment[0] = tone * r.uniform(0.76f, 0.84f);
  A.pigment[1] = tone * r.uniform(0.34f, 0.40f);
  A.pigment[2] = tone * r.uniform(0.14f, 0.20f);
  A.tex1 = r.uniform(0.05f, 0.09f);
  A.tex2 = r.uniform(0.025f, 0.045f);
  for (float& v : A.lat1) v = r.uniform(-1.0f, 1.0f);
  for (float& v : A.lat2) v = r.uniform(-1.0f, 1.0f);
  return A;
}

Camera make_camera(Rng& r, const DomainKnobs& k) {
  Camera C;
  const float bright = r.around(k.brightness);
  C.gain[0] = bright * r.around(k.gain_r);
  C.gain[1] = bright * r.around(k.gain_g);
  C.gain[2] = bright * r.around(k.gain_b);
  C.vignetting = std::max(0.0f, r.around(k.vignetting));
  C.fov = std::max(0.2f, r.around(k.field_of_view));
  C.centre = {r.uniform(-0.03f, 0.03f), r.uniform(-0.03f, 0.03f)};
  const Vec2 gdir = direction(r.uniform(0.0f, 2.0f * float(kPi)));
  C.gradient = r.uniform(0.0f, 0.12f) * gdir;
  C.blur_sigma = std::max(0.0f, r.around(k.blur));
  C.noise = std::max(0.0f, r.around(k.noise));
  return C;
}

// Value noise: a lattice of random values over [-1.1, 1.1]^2, interpolated
// with smoothstep weights.
float value_noise(const float* lat, int G, Vec2 q) {
  const float gx = (q.x + 1.1f) * float(G - 1) / 2.2f, gy = (q.y + 1.1f) * float(G - 1) / 2.2f;
  const float cx = std::min(std::max(gx, 0.0f), float(G - 1) - 1e-3f);
  const float cy = std::min(std::max(gy, 0.0f), float(G - 1) - 1e-3f);
  const int ix = int(cx), iy = int(cy);
  const float fx = smoothstep(cx - float(ix)), fy = smoothstep(cy - float(iy));
  const float* row0 = lat + iy * G + ix;
  const float* row1 = row0 + G;
  const float top = row0[0] + (row0[1] - row0[0]) * fx;
  const float bot = row1[0] + (row1[1] - row1[0]) * fx;
  return top + (bot - top) * fy;
}

// The vessel tree: arteries and veins leave the optic disc in four trunks
// (the temporal ones arch around the macula, the nasal ones run straighter),
// each a random walk with decaying curvature that thins and branches.
std::vector<Segment> grow_vessels(Rng& r, const Anatomy& A) {
  struct Tip {
    Vec2 p;
    float angle, hw, curvature, strength;
    int depth, steps;
  };
  std::vector<Tip> tips;
  const float s = A.side;
  const float half_pi = float(kPi) / 2.0f;
  struct Trunk {
    float angle, curvature;
  };
  const Trunk trunks[4] = {
      {-half_pi - s * 0.30f, -s * 2.2f},  // superior temporal arcade
      {half_pi + s * 0.30f, s * 2.2f},    // inferior temporal arcade
      {-half_pi + s * 0.60f, s * 0.8f},   // superior nasal
      {half_pi - s * 0.60f, -s * 0.8f},   // inferior nasal
  };
  for (const Trunk& t : trunks) {
    // A vein (wider, darker) and its artery side by side.
    tips.push_back({A.disc, t.angle + r.uniform(-0.12f, 0.12f), 0.016f,
                    t.curvature * r.uniform(0.85f, 1.15f), 0.85f, 0, 0});
    tips.push_back({A.disc, t.angle + r.uniform(-0.20f, 0.20f), 0.012f,
                    t.curvature * r.uniform(0.85f, 1.15f), 0.60f, 0, 0});
  }
  // Small vessels towards the macula.
  const float temporal = s > 0 ? float(kPi) : 0.0f;
  const int macular = r.range(2, 3);
  for (int i = 0; i < macular; ++i) {
    tips.push_back({A.disc, temporal + r.uniform(-0.45f, 0.45f), 0.007f, 0.0f, 0.55f, 2, 0});
  }
  std::vector<Segment> segs;
  constexpr float kStep = 0.035f;
  while (!tips.empty()) {
    Tip t = tips.back();
    tips.pop_back();
    for (;;) {
      t.angle += t.curvature * kStep + 0.10f * r.normal();
      t.curvature *= 0.93f;
      const Vec2 next = t.p + kStep * direction(t.angle);
      float hw1 = t.hw * 0.985f;
      if (t.depth < 3 && t.steps > 1 && r.chance(0.10f)) {
        const float child_angle = t.angle + r.sign() * r.uniform(0.45f, 0.95f);
        tips.push_back({next, child_angle, hw1 * r.uniform(0.55f, 0.75f), r.uniform(-0.8f, 0.8f),
                        t.strength, t.depth + 1, 0});
        hw1 *= 0.92f;
      }
      segs.push_back({t.p, next, t.hw, hw1, t.strength});
      t.p = next;
      t.hw = hw1;
      ++t.steps;
      if (length(t.p) > 1.02f || t.hw < 0.003f || t.steps > 80) break;
    }
  }
  return segs;
}

// A random point of the retina within radius max_rho, at least min_disc from
// the optic disc centre. Bounded retries keep it a fixed function of the stream.
Vec2 random_spot(Rng& r, const Anatomy& A, float min_rho, float max_rho, float min_disc) {
  Vec2 p;
  for (int tries = 0; tries < 64; ++tries) {
    p = {r.uniform(-max_rho, max_rho), r.uniform(-max_rho, max_rho)};
    const float rho = length(p);
    if (rho > max_rho || rho < min_rho) continue;
    if (length(p - A.disc) < min_disc) continue;
    break;
  }
  return p;
}

Vec2 random_offset(Rng& r, float radius) {
  return r.uniform(0.0f, radius) * direction(r.uniform(0.0f, 2.0f * float(kPi)));
}

struct Plan {
  int ma = 0, haem = 0, exudate = 0, cws = 0, nvd = 0, nve = 0;
  bool preretinal = false;
};

// How many lesions of each kind a grade gets (the international scale, loosely):
// the kinds that appear tell the grade, the counts make it unambiguous.
Plan plan_lesions(Rng& r, int grade) {
  Plan p;
  switch (grade) {
    case 1:
      p.ma = r.range(3, 7);
      break;
    case 2:
      p.ma = r.range(5, 10);
      p.haem = r.range(2, 4);
      p.exudate = r.range(1, 3);
      break;
    case 3:
      p.ma = r.range(8, 14);
      p.haem = r.range(8, 14);
      p.exudate = r.range(1, 4);
      p.cws = r.range(2, 4);
      break;
    case 4:
      // New vessels grow where the retina is ischaemic: a severe background.
      p.ma = r.range(8, 14);
      p.haem = r.range(6, 12);
      p.exudate = r.range(1, 4);
      p.cws = r.range(1, 3);
      p.nvd = 1;
      p.nve = r.range(0, 1);
      p.preretinal = r.chance(0.35f);
      break;
    default:
      break;
  }
  return p;
}

// A tangle of fine, tightly curling new vessels over a faint red haze.
void stamp_tuft(Layers& L, const Frame& f, Rng& r, Vec2 centre) {
  stamp_disc(L, f, Lesion::kNeovascular, centre, r.uniform(0.10f, 0.12f), 0.45f, true);
  const int loops = r.range(10, 14);
  for (int i = 0; i < loops; ++i) {
    Vec2 p = centre + random_offset(r, 0.08f);
    float angle = r.uniform(0.0f, 2.0f * float(kPi));
    const float turn = r.sign() * r.uniform(0.35f, 0.7f);
    const int steps = r.range(6, 10);
    for (int k = 0; k < steps; ++k) {
      const Vec2 next = p + 0.022f * direction(angle);
      stamp_line(L, L.red, Lesion::kNeovascular, f, p, next, 0.011f, 0.011f, 0.95f);
      p = next;
      angle += turn;
    }
  }
}

void place_lesions(Layers& L, const Frame& f, Rng& r, const Anatomy& A,
                   const std::vector<Segment>& vessels, int grade,
                   std::array<int, kNumLesionKinds>& count) {
  const Plan p = plan_lesions(r, grade);
  const float avoid_disc = A.disc_r * 1.6f;
  for (int i = 0; i < p.ma; ++i) {
    const Vec2 q = random_spot(r, A, 0.0f, 0.86f, avoid_disc);
    stamp_disc(L, f, Lesion::kMicroaneurysm, q, r.uniform(0.034f, 0.048f), r.uniform(0.85f, 0.95f),
               false);
  }
  count[int(Lesion::kMicroaneurysm)] += p.ma;
  for (int i = 0; i < p.haem; ++i) {
    const Vec2 q = random_spot(r, A, 0.0f, 0.82f, avoid_disc);
    if (r.chance(0.35f)) {
      // Flame haemorrhage: along the nerve fibres, which radiate from the disc.
      const Vec2 away = q - A.disc;
      const float len = std::max(length(away), 1e-3f);
      stamp_ellipse(L, f, Lesion::kHaemorrhage, q, r.uniform(0.08f, 0.11f),
                    r.uniform(0.025f, 0.035f), (1.0f / len) * away, 0.85f);
    } else {
      // Dot-blot haemorrhage: a few overlapping blots.
      const int blots = r.range(2, 3);
      for (int k = 0; k < blots; ++k) {
        stamp_ellipse(L, f, Lesion::kHaemorrhage, q + random_offset(r, 0.025f),
                      r.uniform(0.045f, 0.075f), r.uniform(0.040f, 0.065f),
                      direction(r.uniform(0.0f, float(kPi))), 0.9f);
      }
    }
  }
  count[int(Lesion::kHaemorrhage)] += p.haem;
  for (int i = 0; i < p.exudate; ++i) {
    // Hard exudates gather around the macula, often in rings.
    Vec2 c = r.chance(0.65f) ? A.macula + r.uniform(0.12f, 0.35f) *
                                              direction(r.uniform(0.0f, 2.0f * float(kPi)))
                             : random_spot(r, A, 0.0f, 0.8f, avoid_disc);
    const int specks = r.range(4, 9);
    for (int k = 0; k < specks; ++k) {
      stamp_disc(L, f, Lesion::kHardExudate, c + random_offset(r, 0.085f),
                 r.uniform(0.018f, 0.030f), 0.95f, false);
    }
  }
  count[int(Lesion::kHardExudate)] += p.exudate;
  for (int i = 0; i < p.cws; ++i) {
    const Vec2 c = random_spot(r, A, 0.15f, 0.70f, avoid_disc + 0.05f);
    const int blobs = r.range(2, 3);
    for (int k = 0; k < blobs; ++k) {
      stamp_disc(L, f, Lesion::kCottonWool, c + random_offset(r, 0.03f), r.uniform(0.05f, 0.08f),
                 0.85f, true);
    }
  }
  count[int(Lesion::kCottonWool)] += p.cws;
  for (int i = 0; i < p.nvd; ++i) {
    // New vessels on or at the disc (NVD).
    const Vec2 c =
        A.disc + A.disc_r * r.uniform(0.6f, 1.3f) * direction(r.uniform(0.0f, 2.0f * float(kPi)));
    stamp_tuft(L, f, r, c);
  }
  for (int i = 0; i < p.nve; ++i) {
    // New vessels elsewhere (NVE), sprouting from a vessel of the mid periphery.
    Vec2 c = random_spot(r, A, 0.35f, 0.7f, avoid_disc);
    for (int tries = 0; tries < 32 && !vessels.empty(); ++tries) {
      const Segment& s = vessels[r.range(0, int(vessels.size()) - 1)];
      const float rho = length(s.b);
      if (rho > 0.35f && rho < 0.75f) {
        c = s.b;
        break;
      }
    }
    stamp_tuft(L, f, r, c);
  }
  count[int(Lesion::kNeovascular)] += p.nvd + p.nve;
  if (p.preretinal) {
    // Preretinal (subhyaloid) haemorrhage: a large boat shape whose top is
    // flat, where the blood settles.
    const Vec2 q = random_spot(r, A, 0.25f, 0.6f, avoid_disc + 0.1f);
    const float rr = r.uniform(0.11f, 0.15f);
    const Vec2 c = f.to_px(q);
    const float rp = rr * f.scale, cut = c.y - 0.35f * rp;
    L.stamp(Lesion::kHaemorrhage, L.red, c.x - rp - 1, c.y - rp - 1, c.x + rp + 1, c.y + rp + 1,
            [&](float px, float py) {
              const float dx = px - c.x, dy = py - c.y;
              return 0.92f * clamp01(rp - std::sqrt(dx * dx + dy * dy) + 0.5f) *
                     clamp01(py - cut + 0.5f);
            });
    count[int(Lesion::kHaemorrhage)] += 1;
  }
}

// ---- camera ------------------------------------------------------------------------

// One pass of the binomial filter [1 2 1] / 4 along rows and columns (edges
// clamped). Repeated passes approach a Gaussian with variance 0.5 px^2 per
// pass, with exact rational weights instead of exp().
void binomial_pass(std::vector<float>& p, int S, std::vector<float>& tmp) {
  tmp.resize(p.size());
  for (int y = 0; y < S; ++y) {
    const float* row = p.data() + size_t(y) * S;
    float* out = tmp.data() + size_t(y) * S;
    for (int x = 0; x < S; ++x) {
      const float l = row[x > 0 ? x - 1 : 0], rr = row[x < S - 1 ? x + 1 : S - 1];
      out[x] = 0.25f * (l + rr) + 0.5f * row[x];
    }
  }
  for (int y = 0; y < S; ++y) {
    const float* up = tmp.data() + size_t(y > 0 ? y - 1 : 0) * S;
    const float* mid = tmp.data() + size_t(y) * S;
    const float* dn = tmp.data() + size_t(y < S - 1 ? y + 1 : S - 1) * S;
    float* out = p.data() + size_t(y) * S;
    for (int x = 0; x < S; ++x) out[x] = 0.25f * (up[x] + dn[x]) + 0.5f * mid[x];
  }
}

void apply_optics(std::vector<float> (&rgb)[3], int S, float resolution, float blur_sigma) {
  std::vector<float> tmp;
  if (resolution < 1.0f) {
    const int small = std::max(8, int(float(S) * resolution + 0.5f));
    if (small < S) {
      std::vector<float> lo(size_t(small) * small);
      for (auto& p : rgb) {
        resize_plane(p.data(), S, S, S, lo.data(), small, small);
        resize_plane(lo.data(), small, small, small, p.data(), S, S);
      }
    }
  }
  const float sigma_px = blur_sigma * float(S);
  const int passes = std::min(64, int(2.0f * sigma_px * sigma_px + 0.5f));
  for (auto& p : rgb) {
    for (int k = 0; k < passes; ++k) binomial_pass(p, S, tmp);
  }
}

}  // namespace

int synth_grade(uint64_t seed, int64_t index, const DomainKnobs& knobs) {
  const Streams st = make_streams(seed, knobs);
  Rng r(seed, st.grade, check_index(index));
  return draw_grade(r, knobs);
}

SynthSample render_fundus(uint64_t seed, int64_t index, int size, const DomainKnobs& knobs,
                          int grade) {
  MT_CHECK(size >= 16 && size <= 4096, "synth: image size ", size, " out of range [16, 4096]");
  MT_CHECK(grade < kNumGrades, "synth: grade ", grade, " out of range [0, ", kNumGrades, ")");
  const uint32_t offset = check_index(index);
  const Streams st = make_streams(seed, knobs);
  Rng grade_rng(seed, st.grade, offset), anat_rng(seed, st.anatomy, offset),
      lesion_rng(seed, st.lesions, offset), cam_rng(seed, st.camera, offset),
      noise_rng(seed, st.noise, offset);

  SynthSample out;
  out.grade = draw_grade(grade_rng, knobs);
  if (grade >= 0) out.grade = grade;
  const Anatomy A = make_anatomy(anat_rng);
  const std::vector<Segment> vessels = grow_vessels(anat_rng, A);
  const Camera C = make_camera(cam_rng, knobs);

  const int S = size;
  const float half = float(S) * 0.5f;
  const Frame f = {(C.centre.x + 1.0f) * half, (C.centre.y + 1.0f) * half, C.fov * half};

  Layers L(S);
  for (const Segment& s : vessels) {
    stamp_line(L, L.vessel, Lesion::kNone, f, s.a, s.b, s.hw0, s.hw1, s.strength);
  }
  place_lesions(L, f, lesion_rng, A, vessels, out.grade, out.lesion_count);

  // Compose: fundus colour x texture, macula, optic disc, vessels, lesions,
  // illumination, then the dark surround outside the field stop.
  std::vector<float> rgb[3];
  for (auto& p : rgb) p.assign(size_t(S) * S, 0.0f);
  constexpr float kVessel[3] = {0.40f, 0.66f, 0.55f};      // darkening per channel
  constexpr float kRed[3] = {0.48f, 0.80f, 0.76f};         // red lesions: darkening
  constexpr float kExudate[3] = {0.98f, 0.86f, 0.38f};     // waxy yellow
  constexpr float kCottonWool[3] = {0.90f, 0.84f, 0.72f};  // pale, fluffy
  constexpr float kDisc[3] = {0.97f, 0.80f, 0.55f};
  constexpr float kCup[3] = {1.00f, 0.93f, 0.80f};
  constexpr float kSurround[3] = {0.012f, 0.010f, 0.008f};
  const float inv_scale = 1.0f / f.scale;
  for (int y = 0; y < S; ++y) {
    for (int x = 0; x < S; ++x) {
      const size_t i = size_t(y) * S + x;
      const Vec2 q = {(float(x) + 0.5f - f.ox) * inv_scale, (float(y) + 0.5f - f.oy) * inv_scale};
      const float rho2 = q.x * q.x + q.y * q.y;
      const float rho = std::sqrt(rho2);
      const float inside = clamp01((1.0f - rho) * f.scale + 0.5f);
      float c[3] = {kSurround[0], kSurround[1], kSurround[2]};
      if (inside > 0.0f) {
        const float tex = 1.0f + A.tex1 * value_noise(A.lat1, Anatomy::kG1, q) +
                          A.tex2 * value_noise(A.lat2, Anatomy::kG2, q);
        float v[3] = {A.pigment[0] * tex, A.pigment[1] * tex, A.pigment[2] * tex};
        // Macula: darker and browner (more pigment), darkest at the fovea.
        const Vec2 dm = q - A.macula;
        const float m2 = (dm.x * dm.x + dm.y * dm.y) / (A.macula_r * A.macula_r);
        const float mac = bump(m2) + 0.6f * bump(m2 * 16.0f);
        v[0] *= 1.0f - 0.22f * mac;
        v[1] *= 1.0f - 0.32f * mac;
        v[2] *= 1.0f - 0.25f * mac;
        // Optic disc with a brighter cup; rim softened over ~1.5 px.
        const Vec2 dd = q - A.disc;
        const float td = length(dd) / A.disc_r;
        const float disc = clamp01((1.0f - td) * A.disc_r * f.scale / 1.5f + 0.5f);
        if (disc > 0.0f) {
          const float cup = bump(td * td * 4.0f);
          for (int k = 0; k < 3; ++k) {
            const float dc = (kDisc[k] + (kCup[k] - kDisc[k]) * cup) * (0.94f + 0.06f * tex);
            v[k] += (dc - v[k]) * disc;
          }
        }
        // Vessels emerge from the cup: fainter on the bright disc.
        const float ves = L.vessel[i] * (1.0f - 0.45f * disc);
        const float white = L.white[i], yellow = L.yellow[i], red = L.red[i];
        for (int k = 0; k < 3; ++k) {
          v[k] *= 1.0f - ves * kVessel[k];
          v[k] += (kCottonWool[k] - v[k]) * white;
          v[k] += (kExudate[k] - v[k]) * yellow;
          v[k] *= 1.0f - red * kRed[k];
        }
        // Illumination: fall-off towards the rim (vignetting) and an uneven
        // tilt across the field.
        float illum = 1.0f - C.vignetting * (0.35f * rho2 + 0.65f * rho2 * rho2);
        illum *= 1.0f + C.gradient.x * q.x + C.gradient.y * q.y;
        illum = std::max(illum, 0.05f);
        for (int k = 0; k < 3; ++k) c[k] = v[k] * illum * inside + c[k] * (1.0f - inside);
      }
      for (int k = 0; k < 3; ++k) rgb[k][i] = c[k] * C.gain[k];
    }
  }

  apply_optics(rgb, S, knobs.resolution, C.blur_sigma);

  // Sensor noise, then rounding to 8 bits. Each channel's noise is
  // triangular, the sum of two 16-bit uniforms minus 1 (scaled to unit
  // variance): one Philox block of four words gives a pixel's six uniforms.
  out.image = Image(S, S, 3);
  const float tri = 2.4494897f * C.noise;  // sqrt(6)
  constexpr float kU16 = 1.0f / 65536.0f;
  for (size_t i = 0; i < size_t(S) * S; ++i) {
    float u[6];
    for (int h = 0; h < 3; ++h) {
      const uint32_t w = noise_rng.u32();
      u[2 * h] = (float(w >> 16) + 0.5f) * kU16;
      u[2 * h + 1] = (float(w & 0xFFFFu) + 0.5f) * kU16;
    }
    noise_rng.u32();  // the block's fourth word: one block per pixel
    for (int k = 0; k < 3; ++k) {
      const float v = clamp01(rgb[k][i] + (u[2 * k] + u[2 * k + 1] - 1.0f) * tri);
      out.image.pixels[i * 3 + k] = uint8_t(v * 255.0f + 0.5f);
    }
  }
  out.mask = Image(S, S, 1);
  for (size_t i = 0; i < size_t(S) * S; ++i) {
    out.mask.pixels[i] = uint8_t(kMaskStep * L.mask_kind[i]);
    out.lesion_pixels += L.mask_kind[i] != 0;
  }
  return out;
}

// ---- writing a set ----------------------------------------------------------------

namespace {

std::string index_name(int64_t i, int digits) {
  std::string s = std::to_string(i);
  if (int(s.size()) < digits) s.insert(0, size_t(digits) - s.size(), '0');
  return s + ".png";
}

// 3x5 pixel digits for the preview's row labels.
constexpr uint16_t kDigits[10] = {0x7B6F, 0x2C97, 0x73E7, 0x73CF, 0x5BC9,
                                  0x79CF, 0x79EF, 0x7249, 0x7BEF, 0x7BCF};

void draw_digit(Image& img, int digit, int x0, int y0, int scale) {
  for (int r = 0; r < 5; ++r) {
    for (int c = 0; c < 3; ++c) {
      if (!((kDigits[digit] >> (14 - (r * 3 + c))) & 1)) continue;
      for (int dy = 0; dy < scale; ++dy) {
        for (int dx = 0; dx < scale; ++dx) {
          uint8_t* p = img.at(x0 + c * scale + dx, y0 + r * scale + dy);
          p[0] = p[1] = p[2] = 230;
        }
      }
    }
  }
}

// Copies src (any channels) scaled to tile x tile at (x0, y0); a grey mask is
// coloured by lesion kind.
void blit(Image& dst, const Image& src, int x0, int y0, int tile, bool mask) {
  constexpr uint8_t kColour[kNumLesionKinds][3] = {{0, 0, 0},      {255, 70, 60},   {150, 0, 10},
                                                   {255, 220, 40}, {245, 245, 245}, {230, 40, 230}};
  for (int y = 0; y < tile; ++y) {
    for (int x = 0; x < tile; ++x) {
      // Nearest pixel: crisp when enlarging, good enough when shrinking a preview.
      const int sx = int(int64_t(x) * src.width / tile), sy = int(int64_t(y) * src.height / tile);
      const uint8_t* s = src.at(sx, sy);
      uint8_t* d = dst.at(x0 + x, y0 + y);
      if (mask) {
        const int kind = std::min(kNumLesionKinds - 1, (s[0] + kMaskStep / 2) / kMaskStep);
        for (int k = 0; k < 3; ++k) d[k] = kColour[kind][k];
      } else {
        for (int k = 0; k < 3; ++k) d[k] = s[k];
      }
    }
  }
}

}  // namespace

Image preview_grid(uint64_t seed, int64_t n, int size, const DomainKnobs& knobs, int per_grade) {
  MT_CHECK(per_grade >= 1, "preview: per_grade must be positive");
  std::vector<std::vector<int64_t>> picks(kNumGrades);
  int64_t found = 0;
  for (int64_t i = 0; i < n && found < int64_t(kNumGrades) * per_grade; ++i) {
    auto& row = picks[synth_grade(seed, i, knobs)];
    if (int(row.size()) < per_grade) {
      row.push_back(i);
      ++found;
    }
  }
  // Tiles of about 128 px: small images enlarged by an integer factor.
  const int tile = size >= 96 ? std::min(size, 160) : size * ((128 + size - 1) / size);
  const int gap = 3, pair_gap = 10, label = 24;
  const int width = label + per_grade * (2 * tile + gap + pair_gap);
  const int height = kNumGrades * (tile + pair_gap) + pair_gap;
  Image grid(width, height, 3);
  for (auto& p : grid.pixels) p = 40;
  for (int g = 0; g < kNumGrades; ++g) {
    const int y0 = pair_gap + g * (tile + pair_gap);
    draw_digit(grid, g, 6, y0 + tile / 2 - 7, 3);
    for (size_t k = 0; k < picks[g].size(); ++k) {
      const SynthSample s = render_fundus(seed, picks[g][k], size, knobs);
      const int x0 = label + int(k) * (2 * tile + gap + pair_gap);
      blit(grid, s.image, x0, y0, tile, false);
      blit(grid, s.mask, x0 + tile + gap, y0, tile, true);
    }
  }
  return grid;
}

SynthSummary write_synthetic_set(const SynthOptions& opts) {
  const DomainKnobs knobs = domain_preset(opts.preset);
  MT_CHECK(opts.n >= 1 && opts.n <= int64_t(UINT32_MAX), "synth: --n ", opts.n,
           " out of range [1, 2^32)");
  MT_CHECK(opts.size >= 16 && opts.size <= 4096, "synth: --size ", opts.size,
           " out of range [16, 4096]");
  MT_CHECK(!opts.out_dir.empty(), "synth: no output folder given");
  const fs::path out(opts.out_dir);
  std::error_code ec;
  if (fs::exists(out, ec)) {
    MT_CHECK(fs::is_directory(out, ec), opts.out_dir, ": exists and is not a folder");
    if (!fs::is_empty(out, ec)) {
      MT_CHECK(opts.force, opts.out_dir, ": folder is not empty (use --force to overwrite)");
      // Only what synth writes is removed, never the folder itself.
      fs::remove_all(out / "images", ec);
      fs::remove_all(out / "masks", ec);
      fs::remove(out / "labels.csv", ec);
      fs::remove(out / "preview.png", ec);
    }
  }
  fs::create_directories(out / "images", ec);
  MT_CHECK(!ec, (out / "images").string(), ": cannot create folder (", ec.message(), ")");
  fs::create_directories(out / "masks", ec);
  MT_CHECK(!ec, (out / "masks").string(), ": cannot create folder (", ec.message(), ")");

  const int digits = std::max<int>(6, int(std::to_string(opts.n - 1).size()));
  std::vector<int> grades(size_t(opts.n), 0);
  std::vector<int64_t> lesion_px(size_t(opts.n), 0);
  std::vector<std::string> errors(size_t(opts.n));
  const auto t0 = std::chrono::steady_clock::now();
  // Each image is rendered, encoded and written by one thread from its own
  // streams, so the files do not depend on the schedule or the thread count.
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < opts.n; ++i) {
    try {
      const SynthSample s = render_fundus(opts.seed, i, opts.size, knobs);
      const std::string name = index_name(i, digits);
      write_png((out / "images" / name).string(), s.image);
      write_png((out / "masks" / name).string(), s.mask);
      grades[size_t(i)] = s.grade;
      lesion_px[size_t(i)] = s.lesion_pixels;
    } catch (const std::exception& e) {
      errors[size_t(i)] = e.what();
    }
  }
  for (const std::string& e : errors) MT_CHECK(e.empty(), e);

  std::ostringstream csv;
  csv << "path,label,mask\n";
  for (int64_t i = 0; i < opts.n; ++i) {
    const std::string name = index_name(i, digits);
    csv << "images/" << name << ',' << grades[size_t(i)] << ",masks/" << name << '\n';
  }
  const std::string text = csv.str();
  write_file((out / "labels.csv").string(), std::vector<uint8_t>(text.begin(), text.end()));
  const auto t1 = std::chrono::steady_clock::now();

  SynthSummary sum;
  sum.seconds = std::chrono::duration<double>(t1 - t0).count();
  sum.threads = omp_get_max_threads();
  std::array<double, kNumGrades> px{};
  for (int64_t i = 0; i < opts.n; ++i) {
    ++sum.per_grade[grades[size_t(i)]];
    px[grades[size_t(i)]] += double(lesion_px[size_t(i)]);
  }
  for (int g = 0; g < kNumGrades; ++g) {
    sum.mean_lesion_pixels[g] = sum.per_grade[g] > 0 ? px[g] / double(sum.per_grade[g]) : 0.0;
  }
  if (opts.preview) {
    write_png((out / "preview.png").string(), preview_grid(opts.seed, opts.n, opts.size, knobs));
  }
  return sum;
}

}  // namespace medtex::data
