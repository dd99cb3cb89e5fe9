// Per-channel normalisation, x' = (x - mean[c]) / stddev[c]. The statistics come
// from the training split only and travel with the model (safetensors
// metadata), so evaluation uses the training numbers, never recomputed ones.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace medtex::data {

struct Normalization {
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};
  std::array<float, 3> stddev{1.0f, 1.0f, 1.0f};

  // chw: [3, plane] in place.
  void apply(float* chw, int64_t plane) const;
  // Keys "normalize.mean" and "normalize.std", each "m0,m1,m2" with 9
  // significant digits (a float survives the round trip exactly).
  std::map<std::string, std::string> to_metadata() const;
  // Throws naming the key when it is missing or malformed.
  static Normalization from_metadata(const std::map<std::string, std::string>& meta);
};

// Mean and standard deviation (population) per channel over the listed rows
// of images: float32 [N, 3, H, W]. Two passes in double, per-image partial
// sums added in row order, so the numbers do not depend on threads. A channel
// with (almost) no spread gets std 1, so that it cannot blow up.
Normalization compute_normalization(const Tensor& images, const std::vector<int64_t>& rows);

}  // namespace medtex::data
