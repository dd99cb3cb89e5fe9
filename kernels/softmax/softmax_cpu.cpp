#include "kernels/softmax/softmax.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

namespace {

// Row sums are accumulated in double whatever T is: a float sum of thousands
// of exp values would lose digits the normalisation then spreads over the row.
using Acc = double;

// Work is split into tiles of up to kTile neighbouring softmax rows of one
// outer index. When inner > 1 the rows interleave in memory (row j's element d
// sits at d * inner + j), so walking d in the outer loop and the tile's rows
// in the inner loop reads contiguous memory instead of striding by `inner`.
// When inner == 1 each tile is one contiguous row (kTile = 1 below, which lets
// the compiler drop the inner loop). Each row is still reduced by one thread
// in ascending d, so the tiling never changes the rounding.
constexpr int kTile = 64;

// One tile: `w` rows starting at `base`, each of `dim` elements `stride` apart.
template <class T, bool kLog, int kW>
void forward_tile(int64_t dim, int64_t stride, int w_runtime, T inv_t, const T* x, T* y) {
  const int w = kW == 1 ? 1 : w_runtime;
  T m[kW];
  Acc sum[kW];
  for (int j = 0; j < w; ++j) {
    m[j] = -std::numeric_limits<T>::infinity();
    sum[j] = 0;
  }
  for (int64_t d = 0; d < dim; ++d) {
    const T* xr = x + d * stride;
    for (int j = 0; j < w; ++j) m[j] = std::max(m[j], xr[j] * inv_t);
  }
  // Subtracting the row maximum keeps every exponent <= 0: no overflow, and
  // the largest term is exactly 1, so the sum is >= 1 and its log is finite.
  for (int64_t d = 0; d < dim; ++d) {
    const T* xr = x + d * stride;
    T* yr = y + d * stride;
    for (int j = 0; j < w; ++j) {
      const T e = std::exp(xr[j] * inv_t - m[j]);
      if constexpr (!kLog) yr[j] = e;
      sum[j] += Acc(e);
    }
  }
  if constexpr (kLog) {
    Acc shift[kW];  // max u + log(sum): log_softmax = u - shift
    for (int j = 0; j < w; ++j) shift[j] = Acc(m[j]) + std::log(sum[j]);
    for (int64_t d = 0; d < dim; ++d) {
      const T* xr = x + d * stride;
      T* yr = y + d * stride;
      for (int j = 0; j < w; ++j) yr[j] = T(Acc(xr[j] * inv_t) - shift[j]);
    }
  } else {
    for (int j = 0; j < w; ++j) sum[j] = Acc(1) / sum[j];
    for (int64_t d = 0; d < dim; ++d) {
      T* yr = y + d * stride;
      for (int j = 0; j < w; ++j) yr[j] = T(Acc(yr[j]) * sum[j]);
    }
  }
}

// softmax: dx = (dy - <dy, y>) * y / T.   log_softmax: dx = (dy - exp(y) * sum dy) / T.
// Both follow from d softmax_i / d u_k = softmax_i (delta_ik - softmax_k) and
// u = x / T.
template <class T, bool kLog, int kW>
void backward_tile(int64_t dim, int64_t stride, int w_runtime, T inv_t, const T* y, const T* dy,
                   T* dx) {
  const int w = kW == 1 ? 1 : w_runtime;
  Acc dot[kW];
  for (int j = 0; j < w; ++j) dot[j] = 0;
  for (int64_t d = 0; d < dim; ++d) {
    const T* yr = y + d * stride;
    const T* gr = dy + d * stride;
    for (int j = 0; j < w; ++j) {
      if constexpr (kLog) {
        dot[j] += Acc(gr[j]);
      } else {
        dot[j] += Acc(gr[j]) * Acc(yr[j]);
      }
    }
  }
  const Acc it = Acc(inv_t);
  for (int64_t d = 0; d < dim; ++d) {
    const T* yr = y + d * stride;
    const T* gr = dy + d * stride;
    T* xr = dx + d * stride;
    for (int j = 0; j < w; ++j) {
      if constexpr (kLog) {
        xr[j] = T((Acc(gr[j]) - Acc(std::exp(yr[j])) * dot[j]) * it);
      } else {
        xr[j] = T((Acc(gr[j]) - dot[j]) * Acc(yr[j]) * it);
      }
    }
  }
}

// Runs `tile(offset, w)` (contiguous rows) or the tiled walk over all rows,
// in parallel over independent tiles.
template <class ContiguousRow, class StridedTile>
void for_each_tile(const SoftmaxShape& s, ContiguousRow&& row, StridedTile&& tile) {
  const int64_t work = s.outer * s.dim * s.inner;
  if (work == 0) return;
  if (s.inner == 1) {
#pragma omp parallel for schedule(static) if (work > kParallelGrain)
    for (int64_t o = 0; o < s.outer; ++o) row(o * s.dim);
    return;
  }
  const int64_t tiles_per_outer = (s.inner + kTile - 1) / kTile;
  const int64_t tasks = s.outer * tiles_per_outer;
#pragma omp parallel for schedule(static) if (work > kParallelGrain)
  for (int64_t t = 0; t < tasks; ++t) {
    const int64_t o = t / tiles_per_outer;
    const int64_t j0 = (t % tiles_per_outer) * kTile;
    const int w = int(std::min<int64_t>(kTile, s.inner - j0));
    tile(o * s.dim * s.inner + j0, w);
  }
}

template <class T, bool kLog>
void forward(const SoftmaxShape& s, T inv_t, const T* x, T* y) {
  for_each_tile(
      s, [&](int64_t off) { forward_tile<T, kLog, 1>(s.dim, 1, 1, inv_t, x + off, y + off); },
      [&](int64_t off, int w) {
        forward_tile<T, kLog, kTile>(s.dim, s.inner, w, inv_t, x + off, y + off);
      });
}

template <class T, bool kLog>
void backward(const SoftmaxShape& s, T inv_t, const T* y, const T* dy, T* dx) {
  for_each_tile(
      s,
      [&](int64_t off) {
        backward_tile<T, kLog, 1>(s.dim, 1, 1, inv_t, y + off, dy + off, dx + off);
      },
      [&](int64_t off, int w) {
        backward_tile<T, kLog, kTile>(s.dim, s.inner, w, inv_t, y + off, dy + off, dx + off);
      });
}

}  // namespace

template <class T>
void softmax_forward(const SoftmaxShape& s, T inv_temperature, const T* x, T* y) {
  forward<T, false>(s, inv_temperature, x, y);
}

template <class T>
void log_softmax_forward(const SoftmaxShape& s, T inv_temperature, const T* x, T* y) {
  forward<T, true>(s, inv_temperature, x, y);
}

template <class T>
void softmax_backward(const SoftmaxShape& s, T inv_temperature, const T* y, const T* dy, T* dx) {
  backward<T, false>(s, inv_temperature, y, dy, dx);
}

template <class T>
void log_softmax_backward(const SoftmaxShape& s, T inv_temperature, const T* y, const T* dy,
                          T* dx) {
  backward<T, true>(s, inv_temperature, y, dy, dx);
}

#define MEDTEX_SOFTMAX_INSTANTIATE(T)                                                \
  template void softmax_forward<T>(const SoftmaxShape&, T, const T*, T*);            \
  template void log_softmax_forward<T>(const SoftmaxShape&, T, const T*, T*);        \
  template void softmax_backward<T>(const SoftmaxShape&, T, const T*, const T*, T*); \
  template void log_softmax_backward<T>(const SoftmaxShape&, T, const T*, const T*, T*);
MEDTEX_SOFTMAX_INSTANTIATE(float)
MEDTEX_SOFTMAX_INSTANTIATE(double)
#undef MEDTEX_SOFTMAX_INSTANTIATE

}  // namespace medtex::cpu
