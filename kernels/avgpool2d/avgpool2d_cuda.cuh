// Average-pooling kernels (count_include_pad = true), one thread per element.
// I is the flat index type: int32_t when the tensor fits, else int64_t.
#pragma once

#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

// Output rows (or columns) whose window covers input row iy:
// o * stride - pad <= iy < o * stride - pad + k, within [0, n_out).
__device__ __forceinline__ void avgpool_covering(int iy, int k, int stride, int pad, int n_out,
                                                 int& first, int& last) {
  const int lo = iy + pad - k + 1;  // o * stride >= lo
  first = lo > 0 ? (lo + stride - 1) / stride : 0;
  last = (iy + pad) / stride;
  if (last > n_out - 1) last = n_out - 1;
}

// x: [planes, h, w] -> y: [planes, oh, ow]. The window clipped to the image
// (padding adds zeros), summed from 0 in row-major order, then divided by
// k * k: the CPU's additions in the CPU's order.
template <class I>
__global__ void avgpool2d_forward_v1(I total, int h, int w, int oh, int ow, int k, int stride,
                                     int pad, const float* __restrict__ x, float* __restrict__ y) {
  const I out_plane = I(oh) * ow;
  const I step = I(gridDim.x) * I(blockDim.x);
  const float area = float(k * k);
  for (I o = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); o < total; o += step) {
    const I q = o / out_plane;
    const int r = int(o - q * out_plane);
    const int oy = r / ow, ox = r - oy * ow;
    const int y0 = oy * stride - pad, x0 = ox * stride - pad;
    const int ys = y0 > 0 ? y0 : 0, ye = y0 + k < h ? y0 + k : h;
    const int xs = x0 > 0 ? x0 : 0, xe = x0 + k < w ? x0 + k : w;
    const float* xq = x + int64_t(q) * h * w;
    float s = 0.f;
    for (int iy = ys; iy < ye; ++iy) {
      for (int ix = xs; ix < xe; ++ix) s += xq[iy * w + ix];
    }
    y[o] = s / area;
  }
}

// dy: [planes, oh, ow] -> dx: [planes, h, w]. A gather: each input adds,
// from 0 and in output order, dy / (k * k) of the windows covering it: the
// CPU scatter's terms in the CPU scatter's order.
template <class I>
__global__ void avgpool2d_backward_v1(I total, int h, int w, int oh, int ow, int k, int stride,
                                      int pad, const float* __restrict__ dy,
                                      float* __restrict__ dx) {
  const I in_plane = I(h) * w;
  const I step = I(gridDim.x) * I(blockDim.x);
  const float area = float(k * k);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < total; i += step) {
    const I q = i / in_plane;
    const int r = int(i - q * in_plane);
    const int iy = r / w, ix = r - iy * w;
    int oy0 = 0, oy1 = 0, ox0 = 0, ox1 = 0;
    avgpool_covering(iy, k, stride, pad, oh, oy0, oy1);
    avgpool_covering(ix, k, stride, pad, ow, ox0, ox1);
    const float* dyq = dy + int64_t(q) * oh * ow;
    float g = 0.f;
    for (int oy = oy0; oy <= oy1; ++oy) {
      for (int ox = ox0; ox <= ox1; ++ox) g += dyq[oy * ow + ox] / area;
    }
    dx[i] = g;
  }
}

}  // namespace SIMT_NS
}  // namespace medtex::kern
