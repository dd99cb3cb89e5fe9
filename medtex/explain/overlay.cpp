#include "medtex/explain/overlay.h"

#include <algorithm>
#include <cmath>

#include "kernels/common/error.h"

namespace medtex::explain {
namespace {

// An overlay larger than this is a mistake (a 4096 px image with scale 4),
// not a picture anyone wants.
constexpr int64_t kMaxOverlayPixels = int64_t(1) << 26;

// Start of cell i of n along an axis of `size` pixels: floor(i * size / n).
// Cells tile the axis even when n does not divide it, and match
// metrics::lesion_patches, so the drawing and the metric agree on which
// pixels a patch holds.
int cell_start(int i, int n, int size) {
  return int(int64_t(i) * size / n);
}

// cell[p] = the cell holding pixel p, for p in [0, size).
std::vector<int> cell_of(int n, int size) {
  std::vector<int> cell(size_t(size), 0);
  for (int i = 0; i < n; ++i) {
    for (int p = cell_start(i, n, size); p < cell_start(i + 1, n, size); ++p) cell[size_t(p)] = i;
  }
  return cell;
}

// Any set pixel within distance w along one axis (a 1-d dilation); run along
// rows, then columns, it gives the (2w+1) x (2w+1) square dilation.
std::vector<uint8_t> dilate_rows(const std::vector<uint8_t>& m, int width, int height, int w) {
  std::vector<uint8_t> out(m.size(), 0);
  for (int y = 0; y < height; ++y) {
    const uint8_t* row = m.data() + size_t(y) * width;
    for (int x = 0; x < width; ++x) {
      if (!row[x]) continue;
      const int lo = std::max(0, x - w), hi = std::min(width - 1, x + w);
      std::fill(out.begin() + ptrdiff_t(size_t(y) * width + lo),
                out.begin() + ptrdiff_t(size_t(y) * width + hi + 1), uint8_t(1));
    }
  }
  return out;
}

std::vector<uint8_t> dilate_columns(const std::vector<uint8_t>& m, int width, int height, int w) {
  std::vector<uint8_t> out(m.size(), 0);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      if (!m[size_t(y) * width + x]) continue;
      for (int yy = std::max(0, y - w); yy <= std::min(height - 1, y + w); ++yy) {
        out[size_t(yy) * width + x] = 1;
      }
    }
  }
  return out;
}

}  // namespace

int overlay_scale(int width, int height, const OverlayStyle& style) {
  MT_CHECK(width > 0 && height > 0, "overlay: bad image size ", width, "x", height);
  if (style.scale > 0) return style.scale;
  const int longer = std::max(width, height);
  return std::max(1, (style.min_side + longer - 1) / longer);
}

data::Image draw_overlay(const data::Image& rgb, std::span<const float> selection, int grid_h,
                         int grid_w, std::span<const float> lesion_mask,
                         const OverlayStyle& style) {
  const int W = rgb.width, H = rgb.height, C = rgb.channels;
  MT_CHECK(W > 0 && H > 0 && (C == 1 || C == 3 || C == 4) && rgb.pixels.size() == size_t(W) * H * C,
           "overlay: bad image ", W, "x", H, "x", C);
  MT_CHECK(grid_h >= 1 && grid_w >= 1 && grid_h <= H && grid_w <= W, "overlay: a ", grid_h, "x",
           grid_w, " patch grid does not fit a ", W, "x", H, " image");
  MT_CHECK(selection.size() == size_t(grid_h) * grid_w, "overlay: selection has ", selection.size(),
           " entries for a ", grid_h, "x", grid_w, " grid");
  MT_CHECK(lesion_mask.empty() || lesion_mask.size() == size_t(W) * H, "overlay: lesion mask has ",
           lesion_mask.size(), " values for a ", W, "x", H, " image");
  MT_CHECK(style.dim >= 0 && style.dim <= 1, "overlay: dim must be in [0, 1], got ", style.dim);
  MT_CHECK(style.outline_width >= 0 && style.contour_width >= 1, "overlay: bad line widths ",
           style.outline_width, ", ", style.contour_width);
  const int s = overlay_scale(W, H, style);
  MT_CHECK(int64_t(W) * s * int64_t(H) * s <= kMaxOverlayPixels, "overlay: ", W, "x", H,
           " enlarged ", s, " times is too large");
  const int ow = W * s, oh = H * s;
  const int line = style.outline_width > 0 ? style.outline_width : std::max(1, s / 2);

  const std::vector<int> row_cell = cell_of(grid_h, H), col_cell = cell_of(grid_w, W);
  data::Image out(ow, oh, 3);
  for (int Y = 0; Y < oh; ++Y) {
    const int sy = Y / s, r = row_cell[size_t(sy)];
    const int top = s * cell_start(r, grid_h, H), bottom = s * cell_start(r + 1, grid_h, H) - 1;
    for (int X = 0; X < ow; ++X) {
      const int sx = X / s, c = col_cell[size_t(sx)];
      const uint8_t* src = rgb.at(sx, sy);
      uint8_t* dst = out.at(X, Y);
      const bool selected = selection[size_t(r) * grid_w + c] > 0.5f;
      if (!selected) {
        for (int k = 0; k < 3; ++k) {
          dst[k] = uint8_t(std::lround(float(src[C == 1 ? 0 : k]) * style.dim));
        }
        continue;
      }
      const int left = s * cell_start(c, grid_w, W), right = s * cell_start(c + 1, grid_w, W) - 1;
      const int edge = std::min(std::min(Y - top, bottom - Y), std::min(X - left, right - X));
      for (int k = 0; k < 3; ++k) dst[k] = edge < line ? style.outline[k] : src[C == 1 ? 0 : k];
    }
  }

  if (!lesion_mask.empty()) {
    std::vector<uint8_t> lesion(size_t(ow) * oh);
    for (int Y = 0; Y < oh; ++Y) {
      for (int X = 0; X < ow; ++X) {
        lesion[size_t(Y) * ow + X] = lesion_mask[size_t(Y / s) * W + X / s] != 0.0f;
      }
    }
    const std::vector<uint8_t> near = dilate_columns(
        dilate_rows(lesion, ow, oh, style.contour_width), ow, oh, style.contour_width);
    for (size_t i = 0; i < lesion.size(); ++i) {
      if (near[i] && !lesion[i])
        std::copy(style.contour.begin(), style.contour.end(), out.pixels.data() + i * 3);
    }
  }
  return out;
}

data::Image draw_overlay(std::span<const float> chw, int width, int height,
                         std::span<const float> selection, int grid_h, int grid_w,
                         std::span<const float> lesion_mask, const OverlayStyle& style) {
  MT_CHECK(width > 0 && height > 0 && chw.size() == size_t(3) * width * height,
           "overlay: ", chw.size(), " values are not a [3, ", height, ", ", width, "] image");
  return draw_overlay(data::chw_to_image(chw.data(), width, height), selection, grid_h, grid_w,
                      lesion_mask, style);
}

std::vector<data::Image> draw_overlays(const Tensor& images, const Tensor& selection, int grid_h,
                                       int grid_w, const Tensor& masks, const OverlayStyle& style) {
  MT_CHECK(images.defined() && images.ndim() == 4 && images.size(1) == 3, "overlay: images ",
           images.defined() ? images.str() : std::string("(undefined)"), " are not [N, 3, H, W]");
  const int64_t n = images.size(0), H = images.size(2), W = images.size(3);
  const int64_t d = int64_t(grid_h) * grid_w;
  MT_CHECK(selection.defined() && selection.ndim() == 2 && selection.size(0) == n &&
               selection.size(1) == d,
           "overlay: selection ",
           selection.defined() ? selection.str() : std::string("(undefined)"), " is not [", n, ", ",
           d, "] for ", n, " images on a ", grid_h, "x", grid_w, " grid");
  if (masks.defined()) {
    const bool ok =
        (masks.ndim() == 3 && masks.size(0) == n && masks.size(1) == H && masks.size(2) == W) ||
        (masks.ndim() == 4 && masks.size(0) == n && masks.size(1) == 1 && masks.size(2) == H &&
         masks.size(3) == W);
    MT_CHECK(ok, "overlay: masks ", masks.str(), " are not [", n, ", ", H, ", ", W, "]");
  }
  const std::vector<float> px = images.to(DType::F32).to_vector<float>();
  const std::vector<float> sel = selection.to(DType::F32).to_vector<float>();
  const std::vector<float> mk =
      masks.defined() ? masks.to(DType::F32).to_vector<float>() : std::vector<float>();
  const size_t image_size = size_t(3 * H * W), plane = size_t(H * W);
  std::vector<data::Image> out;
  out.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const std::span<const float> m =
        mk.empty() ? std::span<const float>()
                   : std::span<const float>(mk).subspan(size_t(i) * plane, plane);
    out.push_back(draw_overlay(
        std::span<const float>(px).subspan(size_t(i) * image_size, image_size), int(W), int(H),
        std::span<const float>(sel).subspan(size_t(i * d), size_t(d)), grid_h, grid_w, m, style));
  }
  return out;
}

data::Image compose_grid(std::span<const data::Image> images, int columns, int spacing,
                         uint8_t background) {
  MT_CHECK(!images.empty(), "compose_grid: no images");
  MT_CHECK(columns >= 1 && spacing >= 0, "compose_grid: bad layout, ", columns, " columns, ",
           spacing, " px spacing");
  int cw = 0, ch = 0;
  for (const data::Image& im : images) {
    MT_CHECK(im.width > 0 && im.height > 0 && (im.channels == 1 || im.channels == 3),
             "compose_grid: image ", im.width, "x", im.height, "x", im.channels,
             " is not grey or RGB");
    cw = std::max(cw, im.width);
    ch = std::max(ch, im.height);
  }
  const int n = int(images.size());
  const int cols = std::min(columns, n), rows = (n + cols - 1) / cols;
  const int64_t gw = int64_t(cols) * cw + int64_t(cols + 1) * spacing;
  const int64_t gh = int64_t(rows) * ch + int64_t(rows + 1) * spacing;
  MT_CHECK(gw * gh <= kMaxOverlayPixels, "compose_grid: ", gw, "x", gh, " is too large");
  data::Image out(int(gw), int(gh), 3);
  std::fill(out.pixels.begin(), out.pixels.end(), background);
  for (int i = 0; i < n; ++i) {
    const data::Image& im = images[size_t(i)];
    const int x0 = spacing + (i % cols) * (cw + spacing) + (cw - im.width) / 2;
    const int y0 = spacing + (i / cols) * (ch + spacing) + (ch - im.height) / 2;
    for (int y = 0; y < im.height; ++y) {
      for (int x = 0; x < im.width; ++x) {
        const uint8_t* src = im.at(x, y);
        uint8_t* dst = out.at(x0 + x, y0 + y);
        for (int k = 0; k < 3; ++k) dst[k] = src[im.channels == 1 ? 0 : k];
      }
    }
  }
  return out;
}

}  // namespace medtex::explain
