// Tensor fills from a Philox draw (kernels/common/philox.h): element i depends
// only on (draw, i), so the result is the same for any thread count.
#pragma once

#include <cstdint>

#include "kernels/common/philox.h"

namespace medtex::cpu {

// out[i] = lo + (hi - lo) * u_i, u_i in (0, 1).
template <class T>
void uniform_fill(int64_t n, const PhiloxDraw& draw, T lo, T hi, T* out);

// out[i] = mean + stddev * z_i, z_i standard normal by Box-Muller on the word
// pair (2 * (i / 2), 2 * (i / 2) + 1): element i uses the cosine branch when i
// is even and the sine branch when odd.
template <class T>
void normal_fill(int64_t n, const PhiloxDraw& draw, T mean, T stddev, T* out);

}  // namespace medtex::cpu
