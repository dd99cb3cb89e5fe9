#include "kernels/maxpool2d/maxpool2d.h"

#include <algorithm>
#include <limits>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

// Column range [lo, hi) of the outputs whose window column kx falls inside
// the image: 0 <= ox * stride - padding + kx < w.
inline void valid_outputs(int64_t kx, int64_t stride, int64_t padding, int64_t w, int64_t ow,
                          int64_t& lo, int64_t& hi) {
  const int64_t first = padding - kx;  // ox * stride >= first
  lo = first > 0 ? (first + stride - 1) / stride : 0;
  hi = std::min<int64_t>(ow, (w - 1 + padding - kx) / stride + 1);
}

// One window offset applied to a row of outputs: best[ox] = max(best[ox],
// row[ox * stride + shift]), with the winner's plane index in arg[ox].
// Strictly greater: ties keep the earlier element; v != v: a NaN wins.
// Selects, not branches (the comparison is unpredictable on real data), and
// no short-circuit ||, so the loop vectorises. Plain arguments rather than
// fields of the params struct: an int32 store could alias an int field and
// would stop the compiler hoisting it.
template <class T>
inline void sweep_argmax(int64_t lo, int64_t hi, int64_t stride, int64_t shift, int32_t base,
                         const T* row, T* best, int32_t* arg) {
  for (int64_t ox = lo; ox < hi; ++ox) {
    const T v = row[ox * stride + shift];
    const int32_t i = base + int32_t(ox) * int32_t(stride);
    const T b = best[ox];
    const bool take = (v > b) | (v != v);
    best[ox] = take ? v : b;
    const int32_t prev = arg[ox];
    arg[ox] = take ? i : prev;
  }
}

template <class T>
inline void sweep_max(int64_t lo, int64_t hi, int64_t stride, int64_t shift, const T* row,
                      T* best) {
  for (int64_t ox = lo; ox < hi; ++ox) {
    const T v = row[ox * stride + shift];
    const T b = best[ox];
    best[ox] = ((v > b) | (v != v)) ? v : b;
  }
}

template <class T>
void maxpool2d_forward(const MaxPool2dParams& p, const T* x, T* y, int32_t* argmax) {
  const int64_t h = p.h, w = p.w, oh = p.oh, ow = p.ow;
  const int64_t k = p.kernel, stride = p.stride, pad = p.padding;
  const int64_t in_plane = h * w;
  const int64_t out_plane = oh * ow;
  const int64_t work = p.planes * out_plane * k * k;
  // v1 looped window by window (per output: clip, then scan the window with
  // a branch): ~8 ns per output of a 2x2 window, one thread. This version
  // sweeps a whole output row per window offset (iy, kx), keeping the running
  // max in the output row itself: long, independent, branch-free inner loops
  // that vectorise (~4 ns with argmax, ~2 ns without; 3x3 stride 2: 13 ns ->
  // 8 ns). For each output the window is still visited in row-major order,
  // so the result, ties and NaNs included, is the same as the scan's.
#pragma omp parallel for schedule(static) if (work > kParallelGrain)
  for (int64_t q = 0; q < p.planes; ++q) {
    const T* xq = x + q * in_plane;
    for (int64_t oy = 0; oy < oh; ++oy) {
      // Clipping the window to the image is the same as padding with -inf:
      // a padded position could never win the comparison.
      const int64_t y0 = oy * stride - pad;
      const int64_t ys = std::max<int64_t>(y0, 0);
      const int64_t ye = std::min<int64_t>(y0 + k, h);
      T* best = y + q * out_plane + oy * ow;
      int32_t* arg = argmax != nullptr ? argmax + q * out_plane + oy * ow : nullptr;
      // Start from -inf at the first valid position, so a window of -inf
      // values still points at a real input, as in PyTorch.
      std::fill(best, best + ow, -std::numeric_limits<T>::infinity());
      if (arg != nullptr) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          arg[ox] = int32_t(ys * w + std::max<int64_t>(ox * stride - pad, 0));
        }
      }
      for (int64_t iy = ys; iy < ye; ++iy) {
        const T* row = xq + iy * w;
        for (int64_t kx = 0; kx < k; ++kx) {
          int64_t lo = 0, hi = 0;
          valid_outputs(kx, stride, pad, w, ow, lo, hi);
          const int64_t shift = kx - pad;
          if (arg != nullptr) {
            // 32-bit indices (the plane size is checked to fit), so the index
            // select runs in the same vector lanes as the float one.
            sweep_argmax(lo, hi, stride, shift, int32_t(iy * w + shift), row, best, arg);
          } else {
            sweep_max(lo, hi, stride, shift, row, best);
          }
        }
      }
    }
  }
}

template <class T>
void maxpool2d_backward(const MaxPool2dParams& p, const int32_t* argmax, const T* dy, T* dx) {
  const int64_t in_plane = p.h * p.w;
  const int64_t out_plane = p.oh * p.ow;
  // Overlapping windows (kernel > stride) can route several outputs to one
  // input. Scattering plane by plane, in output order, keeps each sum on one
  // thread in a fixed order: deterministic, and the order PyTorch uses.
#pragma omp parallel for schedule(static) if (p.planes * (in_plane + out_plane) > kParallelGrain)
  for (int64_t q = 0; q < p.planes; ++q) {
    T* dxq = dx + q * in_plane;
    const T* dyq = dy + q * out_plane;
    const int32_t* aq = argmax + q * out_plane;
    std::fill(dxq, dxq + in_plane, T(0));
    for (int64_t o = 0; o < out_plane; ++o) dxq[aq[o]] += dyq[o];
  }
}

template void maxpool2d_forward<float>(const MaxPool2dParams&, const float*, float*, int32_t*);
template void maxpool2d_forward<double>(const MaxPool2dParams&, const double*, double*, int32_t*);
template void maxpool2d_backward<float>(const MaxPool2dParams&, const int32_t*, const float*,
                                        float*);
template void maxpool2d_backward<double>(const MaxPool2dParams&, const int32_t*, const double*,
                                         double*);

}  // namespace medtex::cpu
