// How a width multiplier turns a base channel count into a layer's width.
#pragma once

#include <cmath>

#include "kernels/common/error.h"

namespace medtex::models {

// round(base * width), half away from zero, and at least 1: width 0.5 gives
// ResNet-18 32..256, width 0.1 gives 6, 13, 26, 51. Rounding (not truncation)
// keeps the widths as close as possible to the requested ratio, so the stage
// ratios stay near 2 even for odd multipliers; the floor of 1 keeps tiny
// multipliers (used by tests) valid nets.
inline int scaled_width(int base, double width) {
  MT_CHECK(std::isfinite(width) && width > 0, "width multiplier must be a positive number, got ",
           width);
  const double w = std::round(double(base) * width);
  MT_CHECK(w < 1e6, "width multiplier ", width, " gives ", w, " channels from ", base,
           "; too wide");
  return w < 1.0 ? 1 : int(w);
}

}  // namespace medtex::models
