#include "medtex/data/image_io.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

// Debian's libstb ships the implementations compiled (libstb.so), so only the
// declarations are included here.
#include "stb_image.h"
#include "stb_image_write.h"

#include "kernels/common/error.h"

namespace medtex::data {

namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

bool starts_with(const std::vector<uint8_t>& b, std::initializer_list<uint8_t> sig) {
  if (b.size() < sig.size()) return false;
  return std::equal(sig.begin(), sig.end(), b.begin());
}

// A PNG ends with the 12-byte IEND chunk; allow a little trailing junk after it.
bool png_has_iend(const std::vector<uint8_t>& b) {
  const size_t window = std::min<size_t>(b.size(), 256);
  const uint8_t* tail = b.data() + b.size() - window;
  for (size_t i = window; i >= 4; --i) {
    if (std::memcmp(tail + i - 4, "IEND", 4) == 0) return true;
  }
  return false;
}

// A JPEG's last marker is EOI (FF D9). Some cameras append data after it, so
// the whole file is searched from the end.
bool jpeg_has_eoi(const std::vector<uint8_t>& b) {
  for (size_t i = b.size(); i >= 2 + 2; --i) {
    if (b[i - 2] == 0xFF && b[i - 1] == 0xD9) return true;
  }
  return false;
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// One output pixel's sources along an axis: [first, first + count) with weights.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<float> weight;  // concatenated, count[o] per output o
  std::vector<int> offset;    // into weight
};

Taps make_taps(int src, int dst) {
  Taps t;
  t.first.resize(dst);
  t.count.resize(dst);
  t.offset.resize(dst);
  const double scale = double(src) / dst;
  for (int o = 0; o < dst; ++o) {
    t.offset[o] = int(t.weight.size());
    if (dst < src) {
      // Area average: output o covers source [o * scale, (o + 1) * scale).
      const double lo = o * scale, hi = (o + 1) * scale;
      const int i0 = int(std::floor(lo));
      const int i1 = std::min(src, int(std::ceil(hi)));
      t.first[o] = i0;
      t.count[o] = i1 - i0;
      for (int i = i0; i < i1; ++i) {
        const double overlap = std::min(hi, double(i + 1)) - std::max(lo, double(i));
        t.weight.push_back(float(overlap / scale));
      }
    } else {
      // Bilinear, centres at half-integers, clamped to the border pixels.
      double x = (o + 0.5) * scale - 0.5;
      x = std::clamp(x, 0.0, double(src - 1));
      const int i0 = std::min(int(std::floor(x)), src - 1);
      const double f = x - i0;
      t.first[o] = i0;
      if (i0 + 1 < src && f > 0.0) {
        t.count[o] = 2;
        t.weight.push_back(float(1.0 - f));
        t.weight.push_back(float(f));
      } else {
        t.count[o] = 1;
        t.weight.push_back(1.0f);
      }
    }
  }
  return t;
}

}  // namespace

std::vector<uint8_t> read_file(const std::string& path) {
  errno = 0;
  File f(std::fopen(path.c_str(), "rb"));
  MT_CHECK(f != nullptr, path, ": cannot open (", std::strerror(errno), ")");
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const size_t got = std::fread(buf, 1, sizeof buf, f.get());
    bytes.insert(bytes.end(), buf, buf + got);
    if (got < sizeof buf) break;
  }
  MT_CHECK(!std::ferror(f.get()), path, ": read error");
  return bytes;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  errno = 0;
  File f(std::fopen(path.c_str(), "wb"));
  MT_CHECK(f != nullptr, path, ": cannot create (", std::strerror(errno), ")");
  const size_t put = bytes.empty() ? 0 : std::fwrite(bytes.data(), 1, bytes.size(), f.get());
  MT_CHECK(put == bytes.size(), path, ": write failed (", std::strerror(errno), ")");
  MT_CHECK(std::fclose(f.release()) == 0, path, ": write failed on close");
}

Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels) {
  MT_CHECK(channels >= 1 && channels <= 4, name, ": cannot decode to ", channels, " channels");
  MT_CHECK(!bytes.empty(), name, ": empty file (0 bytes)");
  MT_CHECK(bytes.size() < size_t(INT32_MAX), name, ": file too large (", bytes.size(), " bytes)");
  if (starts_with(bytes, {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) {
    MT_CHECK(png_has_iend(bytes), name, ": truncated PNG (no IEND chunk at the end)");
  } else if (starts_with(bytes, {0xFF, 0xD8})) {
    MT_CHECK(jpeg_has_eoi(bytes), name, ": truncated JPEG (no end-of-image marker)");
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = int(bytes.size());
  int w = 0, h = 0, c = 0;
  MT_CHECK(stbi_info_from_memory(data, len, &w, &h, &c), name, ": corrupt or unsupported image (",
           stbi_failure_reason(), ")");
  MT_CHECK(w >= kMinImageSide && h >= kMinImageSide, name, ": image is ", w, "x", h,
           " pixels, smaller than the minimum ", kMinImageSide, "x", kMinImageSide);
  MT_CHECK(int64_t(w) * h <= kMaxImagePixels, name, ": image is ", w, "x", h,
           " pixels, larger than the limit of ", kMaxImagePixels, " pixels");
  std::unique_ptr<stbi_uc, void (*)(void*)> px(
      stbi_load_from_memory(data, len, &w, &h, &c, channels), stbi_image_free);
  MT_CHECK(px != nullptr, name, ": corrupt image (", stbi_failure_reason(), ")");
  Image img(w, h, channels);
  std::memcpy(img.pixels.data(), px.get(), img.pixels.size());
  return img;
}

Image read_image(const std::string& path, int channels) {
  return decode_image(read_file(path), path, channels);
}

std::vector<uint8_t> encode_png(const Image& img) {
  MT_CHECK(img.width > 0 && img.height > 0 && img.channels >= 1 && img.channels <= 4,
           "encode_png: bad image ", img.width, "x", img.height, "x", img.channels);
  std::vector<uint8_t> out;
  const int ok = stbi_write_png_to_func(append_bytes, &out, img.width, img.height, img.channels,
                                        img.pixels.data(), img.width * img.channels);
  MT_CHECK(ok != 0, "encode_png: stb_image_write failed");
  return out;
}

std::vector<uint8_t> encode_jpeg(const Image& img, int quality) {
  MT_CHECK(img.width > 0 && img.height > 0 && img.channels >= 1 && img.channels <= 4,
           "encode_jpeg: bad image ", img.width, "x", img.height, "x", img.channels);
  std::vector<uint8_t> out;
  const int ok = stbi_write_jpg_to_func(append_bytes, &out, img.width, img.height, img.channels,
                                        img.pixels.data(), quality);
  MT_CHECK(ok != 0, "encode_jpeg: stb_image_write failed");
  return out;
}

void write_png(const std::string& path, const Image& img) {
  write_file(path, encode_png(img));
}

void resize_plane(const float* src, int sw, int sh, int src_stride, float* dst, int dw, int dh) {
  MT_CHECK(sw > 0 && sh > 0 && dw > 0 && dh > 0, "resize_plane: bad sizes ", sw, "x", sh, " -> ",
           dw, "x", dh);
  const Taps tx = make_taps(sw, dw), ty = make_taps(sh, dh);
  // Rows first into tmp [sh, dw], then columns.
  std::vector<float> tmp(size_t(sh) * dw);
  for (int y = 0; y < sh; ++y) {
    const float* row = src + size_t(y) * src_stride;
    float* out = tmp.data() + size_t(y) * dw;
    for (int o = 0; o < dw; ++o) {
      const float* wt = tx.weight.data() + tx.offset[o];
      const float* s = row + tx.first[o];
      float acc = 0.0f;
      for (int k = 0; k < tx.count[o]; ++k) acc += wt[k] * s[k];
      out[o] = acc;
    }
  }
  for (int o = 0; o < dh; ++o) {
    float* out = dst + size_t(o) * dw;
    std::fill(out, out + dw, 0.0f);
    const float* wt = ty.weight.data() + ty.offset[o];
    for (int k = 0; k < ty.count[o]; ++k) {
      const float* s = tmp.data() + size_t(ty.first[o] + k) * dw;
      const float w = wt[k];
      for (int x = 0; x < dw; ++x) out[x] += w * s[x];
    }
  }
}

Fit parse_fit(const std::string& name) {
  if (name == "crop") return Fit::kCrop;
  if (name == "pad") return Fit::kPad;
  if (name == "stretch") return Fit::kStretch;
  fail("unknown fit '", name, "' (expected crop, pad or stretch)");
}

namespace {

// Resizes one float plane [h, w] into out [size, size] following `fit`.
void fit_plane(const float* plane, int w, int h, int size, Fit fit, float* out) {
  if (fit == Fit::kStretch || w == h) {
    resize_plane(plane, w, h, w, out, size, size);
  } else if (fit == Fit::kCrop) {
    const int side = std::min(w, h);
    const int x0 = (w - side) / 2, y0 = (h - side) / 2;
    resize_plane(plane + size_t(y0) * w + x0, side, side, w, out, size, size);
  } else {
    // Letterbox: the longer side becomes `size`, the other keeps the aspect.
    const int rw = w >= h ? size : std::max(1, int(int64_t(size) * w / h));
    const int rh = h >= w ? size : std::max(1, int(int64_t(size) * h / w));
    std::vector<float> tmp(size_t(rw) * rh);
    resize_plane(plane, w, h, w, tmp.data(), rw, rh);
    std::fill(out, out + size_t(size) * size, 0.0f);
    const int x0 = (size - rw) / 2, y0 = (size - rh) / 2;
    for (int y = 0; y < rh; ++y) {
      std::copy(tmp.data() + size_t(y) * rw, tmp.data() + size_t(y + 1) * rw,
                out + size_t(y + y0) * size + x0);
    }
  }
}

}  // namespace

void image_to_chw(const Image& img, int size, Fit fit, float* out) {
  MT_CHECK(size > 0, "image_to_chw: size must be positive");
  const int w = img.width, h = img.height, nc = img.channels;
  std::vector<float> plane(size_t(w) * h);
  for (int c = 0; c < 3; ++c) {
    const int from = nc >= 3 ? c : 0;  // grey (and grey + alpha) fills every channel
    if (c > 0 && nc < 3) {
      std::copy(out, out + size_t(size) * size, out + size_t(c) * size * size);
      continue;
    }
    const uint8_t* p = img.pixels.data() + from;
    for (size_t i = 0; i < plane.size(); ++i) plane[i] = float(p[i * nc]) * (1.0f / 255.0f);
    fit_plane(plane.data(), w, h, size, fit, out + size_t(c) * size * size);
  }
}

void plane_to_float(const Image& img, int size, Fit fit, float* out, bool binarize) {
  const int w = img.width, h = img.height, nc = img.channels;
  std::vector<float> plane(size_t(w) * h);
  const uint8_t* p = img.pixels.data();
  for (size_t i = 0; i < plane.size(); ++i) {
    plane[i] = binarize ? (p[i * nc] != 0 ? 1.0f : 0.0f) : float(p[i * nc]) * (1.0f / 255.0f);
  }
  fit_plane(plane.data(), w, h, size, fit, out);
}

Image chw_to_image(const float* chw, int width, int height) {
  Image img(width, height, 3);
  const size_t plane = size_t(width) * height;
  for (size_t i = 0; i < plane; ++i) {
    for (int c = 0; c < 3; ++c) {
      const float v = std::clamp(chw[c * plane + i], 0.0f, 1.0f);
      img.pixels[i * 3 + c] = uint8_t(v * 255.0f + 0.5f);
    }
  }
  return img;
}

}  // namespace medtex::data
