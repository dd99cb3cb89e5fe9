#include "medtex/data/augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "medtex/data/portable_math.h"

namespace medtex::data {

AugmentOptions no_augmentation() {
  AugmentOptions o;
  o.hflip = o.vflip = 0.0f;
  o.rotate_deg = 0.0f;
  o.scale_min = o.scale_max = 1.0f;
  o.translate = 0.0f;
  o.brightness = o.contrast = o.saturation = 0.0f;
  return o;
}

AugmentParams draw_augment(const AugmentOptions& o, const PhiloxDraw& draw, int64_t sample) {
  const uint64_t base = uint64_t(sample) * 16;
  int k = 0;
  auto u = [&]() { return uniform_open01(philox_word(draw, base + uint64_t(k++))); };
  auto sym = [&](float r) { return (2.0f * u() - 1.0f) * r; };
  AugmentParams p;
  p.hflip = u() < o.hflip;
  p.vflip = u() < o.vflip;
  p.angle = sym(o.rotate_deg) * float(kPi / 180.0);
  p.scale = o.scale_min + (o.scale_max - o.scale_min) * u();
  p.tx = sym(o.translate);
  p.ty = sym(o.translate);
  p.brightness = 1.0f + sym(o.brightness);
  p.contrast = 1.0f + sym(o.contrast);
  p.saturation = 1.0f + sym(o.saturation);
  return p;
}

namespace {

float sample_bilinear(const float* plane, int S, float x, float y) {
  // x, y in pixel units with centres at integers; zero outside.
  const float fx = std::floor(x), fy = std::floor(y);
  const int x0 = int(fx), y0 = int(fy);
  const float ax = x - fx, ay = y - fy;
  auto at = [&](int xx, int yy) -> float {
    return (xx < 0 || yy < 0 || xx >= S || yy >= S) ? 0.0f : plane[size_t(yy) * S + xx];
  };
  const float top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * ax;
  const float bot = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * ax;
  return top + (bot - top) * ay;
}

}  // namespace

void augment_image(const float* src, const float* src_mask, int S, const AugmentParams& p,
                   float* dst, float* dst_mask) {
  const size_t plane = size_t(S) * S;
  const bool identity_geometry =
      !p.hflip && !p.vflip && p.angle == 0.0f && p.scale == 1.0f && p.tx == 0.0f && p.ty == 0.0f;
  if (identity_geometry) {
    std::memcpy(dst, src, 3 * plane * sizeof(float));
    if (dst_mask && src_mask) std::memcpy(dst_mask, src_mask, plane * sizeof(float));
  } else {
    // Forward map about the centre: flip, zoom, rotate, shift. Each output
    // pixel takes the source at the inverse map of its centre.
    double sd, cd;
    portable_sincos(double(p.angle), &sd, &cd);
    const float s = float(sd), c = float(cd);
    const float half = 0.5f * float(S);
    const float inv_scale = 1.0f / p.scale;
    for (int y = 0; y < S; ++y) {
      for (int x = 0; x < S; ++x) {
        const float u = float(x) + 0.5f - half - p.tx * float(S);
        const float v = float(y) + 0.5f - half - p.ty * float(S);
        float su = (c * u + s * v) * inv_scale;  // rotate by -angle, unzoom
        float sv = (-s * u + c * v) * inv_scale;
        if (p.hflip) su = -su;
        if (p.vflip) sv = -sv;
        const float sx = su + half - 0.5f, sy = sv + half - 0.5f;
        const size_t i = size_t(y) * S + x;
        for (int ch = 0; ch < 3; ++ch)
          dst[ch * plane + i] = sample_bilinear(src + ch * plane, S, sx, sy);
        if (dst_mask && src_mask) dst_mask[i] = sample_bilinear(src_mask, S, sx, sy);
      }
    }
  }
  if (p.brightness == 1.0f && p.contrast == 1.0f && p.saturation == 1.0f) return;
  float* r = dst;
  float* g = dst + plane;
  float* b = dst + 2 * plane;
  // Mean grey after brightness, summed in a fixed order (one thread per image).
  double grey_sum = 0.0;
  for (size_t i = 0; i < plane; ++i) grey_sum += 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
  const float mean = float(grey_sum / double(plane)) * p.brightness;
  for (size_t i = 0; i < plane; ++i) {
    float cr = r[i] * p.brightness, cg = g[i] * p.brightness, cb = b[i] * p.brightness;
    const float grey = 0.299f * cr + 0.587f * cg + 0.114f * cb;
    cr = grey + (cr - grey) * p.saturation;
    cg = grey + (cg - grey) * p.saturation;
    cb = grey + (cb - grey) * p.saturation;
    r[i] = std::clamp(mean + (cr - mean) * p.contrast, 0.0f, 1.0f);
    g[i] = std::clamp(mean + (cg - mean) * p.contrast, 0.0f, 1.0f);
    b[i] = std::clamp(mean + (cb - mean) * p.contrast, 0.0f, 1.0f);
  }
}

}  // namespace medtex::data
