// Nearest-neighbour upsampling by an integer factor f: each input pixel
// becomes an f x f block (MED-TEX spreads a patch mask over its pixels).
//
// Forward overwrites y; backward overwrites dx (an input gradient: nothing
// accumulates across calls).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [planes, h, w] -> y: [planes, h * f, w * f], y[oy, ox] = x[oy / f, ox / f].
template <class T>
void upsample_nearest_forward(int64_t planes, int64_t h, int64_t w, int f, const T* x, T* y);

// dy: [planes, h * f, w * f] -> dx: [planes, h, w], dx[iy, ix] = the sum of
// dy over its f x f block, added in row-major order within the block.
template <class T>
void upsample_nearest_backward(int64_t planes, int64_t h, int64_t w, int f, const T* dy, T* dx);

}  // namespace medtex::cpu
