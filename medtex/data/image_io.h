// Image files: PNG/JPEG decode (stb_image), PNG/JPEG encode (stb_image_write),
// resizing, and conversion to the float CHW layout the nets take.
//
// Every failure throws medtex::Error with a message that starts with the
// file's name, so the program can print one line that says which file is bad.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace medtex::data {

// An 8-bit image: rows top to bottom, channels interleaved (H, W, C).
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels

  Image() = default;
  Image(int w, int h, int c) : width(w), height(h), channels(c), pixels(size_t(w) * h * c, 0) {}
  uint8_t* at(int x, int y) { return pixels.data() + (size_t(y) * width + x) * channels; }
  const uint8_t* at(int x, int y) const {
    return pixels.data() + (size_t(y) * width + x) * channels;
  }
};

// Smaller images carry no usable detail; a 1x1 or 4x4 file in a photo dataset
// is a thumbnail or a broken export, so it is reported, not silently upscaled.
inline constexpr int kMinImageSide = 8;
// Guards the allocation against a header that claims an absurd size.
inline constexpr int64_t kMaxImagePixels = int64_t(1) << 27;

// Whole-file read and write; errors name the file and the OS's reason.
std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// Decodes PNG or JPEG (stb_image also takes BMP, TGA, GIF, PSD, PNM) of any
// size to `channels` channels: grey is copied to R, G and B, alpha dropped,
// 16-bit reduced to 8. `name` prefixes every error. Detects empty input,
// a PNG without its IEND chunk or a JPEG without its end-of-image marker
// (truncated downloads, which stb_image can otherwise decode as grey rows),
// undecodable data, and images smaller than kMinImageSide.
Image decode_image(const std::vector<uint8_t>& bytes, const std::string& name, int channels = 3);
Image read_image(const std::string& path, int channels = 3);

// PNG (lossless, deterministic bytes for the same pixels) and JPEG encoders.
std::vector<uint8_t> encode_png(const Image& img);
std::vector<uint8_t> encode_jpeg(const Image& img, int quality = 90);
void write_png(const std::string& path, const Image& img);

// Resizes one float plane; src rows are src_stride floats apart.
// Along each axis: shrinking averages the exact source area that an output
// pixel covers (a box filter with fractional edge weights), so a lesion a few
// pixels wide keeps its mass instead of aliasing away; enlarging is bilinear
// with pixel centres at half-integers (align_corners = false), clamped at the
// border. Equal sizes copy. Each output is a fixed-order sum, so the result
// does not depend on threads.
void resize_plane(const float* src, int sw, int sh, int src_stride, float* dst, int dw, int dh);

// How a non-square image becomes size x size.
enum class Fit {
  kCrop,     // centre square of the shorter side (default: fundus photos have
             // black side margins, so the retina keeps its scale)
  kPad,      // whole image, letterboxed on black
  kStretch,  // whole image, aspect ratio changed
};
Fit parse_fit(const std::string& name);  // "crop", "pad", "stretch"

// img: any size, 1-4 channels -> out: float [3, size, size], values in [0, 1].
// A 1-channel image is copied to all three planes.
void image_to_chw(const Image& img, int size, Fit fit, float* out);
// A 1-channel image -> out: float [size, size]; used for masks.
void plane_to_float(const Image& img, int size, Fit fit, float* out, bool binarize);

// float [3, H, W] in [0, 1] -> 8-bit RGB, rounding to nearest.
Image chw_to_image(const float* chw, int width, int height);

}  // namespace medtex::data
