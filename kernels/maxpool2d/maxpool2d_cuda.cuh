// Max-pooling kernels, one thread per element. I is the flat index type:
// int32_t when the tensor fits (cheaper division), else int64_t.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// Output rows (or columns) whose window covers input row iy:
// o * stride - pad <= iy < o * stride - pad + k, within [0, n_out).
__device__ __forceinline__ void pool_covering(int iy, int k, int stride, int pad, int n_out,
                                              int& first, int& last) {
  const int lo = iy + pad - k + 1;  // o * stride >= lo
  first = lo > 0 ? (lo + stride - 1) / stride : 0;
  last = (iy + pad) / stride;
  if (last > n_out - 1) last = n_out - 1;
}

// x: [planes, h, w] -> y: [planes, oh, ow], argmax (or null) the same.
// The window clipped to the image (padding is -inf: it never wins), scanned
// row-major; strictly greater keeps the first maximum, v != v lets a NaN in
// (so the last of several NaNs). Starts at -inf on the first valid input,
// so an all -inf window still points at a real one, as on the CPU.
template <class I>
__global__ void maxpool2d_forward_v1(I total, int h, int w, int oh, int ow, int k, int stride,
                                     int pad, const float* __restrict__ x, float* __restrict__ y,
                                     int32_t* __restrict__ argmax) {
  const I out_plane = I(oh) * ow;
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < total; o += step) {
    const I q = o / out_plane;
    const int r = int(o - q * out_plane);
    const int oy = r / ow, ox = r - oy * ow;
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ys = y0 > 0 ? y0 : 0, ye = y0 + k < h ? y0 + k : h;
    const int xs = x0 > 0 ? x0 : 0, xe = x0 + k < w ? x0 + k : w;
    const float* xq = x + int64_t(q) * h * w;
    float best = -INFINITY;
    int32_t arg = ys * w + xs;
    for (int iy = ys; iy < ye; ++iy) {
      for (int ix = xs; ix < xe; ++ix) {
        const float v = xq[iy * w + ix];
        if ((v > best) || (v != v)) {
          best = v;
          arg = iy * w + ix;
        }
      }
    }
    y[o] = best;
    if (argmax != nullptr) argmax[o] = arg;
  }
}

// argmax, dy: [planes, oh, ow] -> dx: [planes, h, w]. A gather: each input
// adds, from 0 and in output order, dy of the covering windows that chose
// it, which is the order in which the CPU's scatter adds them.
template <class I>
__global__ void maxpool2d_backward_v1(I total, int h, int w, int oh, int ow, int k, int stride,
                                      int pad, const int32_t* __restrict__ argmax,
                                      const float* __restrict__ dy, float* __restrict__ dx) {
  const I in_plane = I(h) * w;
  const I step = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += step) {
    const I q = i / in_plane;
    const int r = int(i - q * in_plane);
    const int iy = r / w, ix = r - iy * w;
    int oy0 = 0, oy1 = 0, ox0 = 0, ox1 = 0;
    pool_covering(iy, k, stride, pad, oh, oy0, oy1);
    pool_covering(ix, k, stride, pad, ow, ox0, ox1);
    const int64_t base = int64_t(q) * oh * ow;
    float g = 0.f;
    for (int oy = oy0; oy <= oy1; ++oy) {
      for (int ox = ox0; ox <= ox1; ++ox) {
        const int64_t o = base + int64_t(oy) * ow + ox;
        if (argmax[o] == r) g += dy[o];
      }
    }
    dx[i] = g;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
