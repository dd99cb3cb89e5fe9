// Explanation overlays: a picture of which patches an explanation selected,
// for `medtex explain` and the report.
//
// On an RGB image split into a G_h x G_w patch grid (cell (r, c) spans pixel
// rows floor(r H / G_h) .. floor((r + 1) H / G_h) - 1 and likewise columns,
// as metrics::lesion_patches counts them), draw_overlay
//   1. enlarges the image by an integer factor, nearest neighbour, so a 64 px
//      fundus is big enough to see and its pixels stay exact;
//   2. darkens every unselected patch: each channel v becomes round(v * dim);
//   3. draws a band `outline_width` pixels wide in the outline colour along
//      the inside edge of each selected patch, whose other pixels are left
//      exactly as they were (so the reader sees what the explainer kept);
//   4. optionally marks the lesion mask's contour in another colour: the
//      pixels outside the lesion within `contour_width` (Chebyshev distance,
//      in enlarged pixels) of it, so the lesion itself stays visible.
// The result depends on nothing but the inputs: the same call gives the same
// bytes, so the PNG files are reproducible.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/tensor.h"
#include "medtex/data/image_io.h"

namespace medtex::explain {

struct OverlayStyle {
  // 0.35 keeps the retina's layout readable in the dark part while the kept
  // patches clearly stand out.
  float dim = 0.35f;
  // Amber-yellow and cyan: both bright, far apart in hue from each other and
  // from the red-orange of a fundus, and told apart with red-green colour
  // blindness.
  std::array<uint8_t, 3> outline{255, 214, 0};
  std::array<uint8_t, 3> contour{0, 229, 255};
  int outline_width = 0;  // enlarged pixels; 0 = max(1, scale / 2)
  int contour_width = 1;  // enlarged pixels
  int scale = 0;  // enlargement; 0 = the smallest integer taking the longer side to min_side
  int min_side = 256;
};

// The enlargement draw_overlay uses for a width x height image.
int overlay_scale(int width, int height, const OverlayStyle& style = {});

// rgb: 3 channels (a 1-channel image is read as grey), H x W.
// selection: [G_h * G_w], patch r * G_w + c, selected when > 1/2 (the hard
// top-k mask from select_topk is 0/1). lesion_mask: empty, or [H * W] with
// nonzero = lesion. Returns a 3-channel image of (W * s) x (H * s).
// Throws medtex::Error on mismatched sizes or a grid finer than the image.
data::Image draw_overlay(const data::Image& rgb, std::span<const float> selection, int grid_h,
                         int grid_w, std::span<const float> lesion_mask = {},
                         const OverlayStyle& style = {});

// The same from a float image chw: [3, H, W] with values in [0, 1] (clamped),
// the layout the nets take (before normalisation).
data::Image draw_overlay(std::span<const float> chw, int width, int height,
                         std::span<const float> selection, int grid_h, int grid_w,
                         std::span<const float> lesion_mask = {}, const OverlayStyle& style = {});

// A batch: images [N, 3, H, W] in [0, 1], selection [N, G_h * G_w] (e.g.
// select_topk's result), masks undefined or [N, H, W] / [N, 1, H, W]; float32
// or float64 tensors on the CPU. One overlay per image.
std::vector<data::Image> draw_overlays(const Tensor& images, const Tensor& selection, int grid_h,
                                       int grid_w, const Tensor& masks = Tensor(),
                                       const OverlayStyle& style = {});

// Several images in rows of `columns`, each centred in a cell the size of the
// largest, with `spacing` pixels of `background` grey between the cells and
// around the edge. 1- or 3-channel inputs; the result has 3 channels.
data::Image compose_grid(std::span<const data::Image> images, int columns, int spacing = 8,
                         uint8_t background = 255);

}  // namespace medtex::explain
