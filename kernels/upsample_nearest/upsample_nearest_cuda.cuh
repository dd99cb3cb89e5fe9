// Nearest-neighbour upsampling kernels, one thread per element. I is the flat
// index type: int32_t when the tensor fits (cheaper division), else int64_t.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// x: [planes, h, w] -> y: [planes, h * f, w * f], y[oy, ox] = x[oy / f, ox / f].
template <class I>
__global__ void upsample_nearest_forward_v1(I total, int h, int w, int f,
                                            const float* __restrict__ x, float* __restrict__ y) {
  const int oh = h * f, ow = w * f;
  const I out_plane = I(oh) * ow;
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < total; o += step) {
    const I q = o / out_plane;
    const int r = int(o - q * out_plane);
    const int oy = r / ow, ox = r - oy * ow;
    y[o] = x[int64_t(q) * h * w + (oy / f) * w + ox / f];
  }
}

// dy: [planes, h * f, w * f] -> dx: [planes, h, w]: each input sums its f x f
// block from 0 in row-major order, as the CPU twin does.
template <class I>
__global__ void upsample_nearest_backward_v1(I total, int h, int w, int f,
                                             const float* __restrict__ dy, float* __restrict__ dx) {
  const int ow = w * f;
  const I in_plane = I(h) * w;
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += step) {
    const I q = i / in_plane;
    const int r = int(i - q * in_plane);
    const int iy = r / w, ix = r - iy * w;
    const float* block = dy + int64_t(q) * in_plane * f * f + int64_t(iy) * f * ow + ix * f;
    float s = 0.f;
    for (int a = 0; a < f; ++a) {
      for (int b = 0; b < f; ++b) s += block[int64_t(a) * ow + b];
    }
    dx[i] = s;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
