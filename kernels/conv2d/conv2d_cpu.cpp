// conv2d on the CPU: im2col + cpu::gemm.
//
// The batch is walked in chunks of output columns. A chunk is g whole images
// (g > 1 when an image has few output pixels, so that the GEMM is wide) or a
// piece of one image's pixels (when one image's column matrix would exceed
// kColBudget). For a chunk of L = g * len columns:
//
//   col  [C*R*S, L]  column gi*len + q = the receptive field of output pixel
//                    p0 + q of image n0 + gi (zeros where it hits the padding)
//   forward          y[K, L]      = w[K, CRS]   col[CRS, L]
//   backward-input   dcol[CRS, L] = w^T[CRS, K] dy[K, L],  then col2im adds dcol into dx
//   backward-weight  dw[K, CRS]  += dy[K, L]    col^T[L, CRS]
//
// When g == 1 the GEMM reads dy and writes y in place (an image's [K, OH*OW]
// block is already the [K, L] matrix, with row stride OH*OW); when g > 1 it
// goes through a [K, L] buffer. A 1x1 convolution with stride 1 and no
// padding has col == x, and the GEMM reads x (and writes dx) directly.
//
// Threads. Forward and backward-input give each thread a contiguous range of
// images when the batch has enough of them (one parallel region per call, no
// synchronisation inside: on 2 cores this is both faster and far less hurt by
// a busy machine than splitting every small GEMM); otherwise the GEMM and the
// copies are split inside each chunk. Backward-weight sums over the whole
// batch, so it splits the batch into a FIXED number of groups (set by the
// shapes, never by the thread count), computes each group's partial dw on one
// thread, and adds the partials to dw in group order.
//
// Determinism: each y / dx element is computed by one thread by the same
// sequence of operations whichever split is taken (a GEMM element does not
// depend on the other columns of its chunk; col2im adds the taps of a dx
// element in (piece, r, s, pixel) order, and the pieces depend on the shapes
// only); dw = ((dw + P_0) + P_1) + ... with P_i a fixed-order sum over group
// i; db uses a fixed 8-lane split. No result depends on the thread count.
#include "kernels/conv2d/conv2d.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/common/parallel.h"
#include "kernels/gemm/gemm.h"

namespace medtex::cpu {

namespace {

// Largest column (or [K, L] output, or dw partials) buffer, in elements:
// 16 MiB of floats. It bounds the memory of a 224x224 teacher layer as well
// as a 64x64 one (per thread, when threads take whole images).
constexpr int64_t kColBudget = int64_t(1) << 22;
// Columns a chunk aims for when images are small: a GEMM this wide has
// several 6x8 tiles for every thread and amortises its packing of w.
constexpr int64_t kTargetCols = 1024;
// Never fewer columns than this per chunk, however large C*R*S is.
constexpr int64_t kMinCols = 64;
// Most groups the weight gradient splits the batch into. Fixed, so that the
// grouping (and with it the rounding of dw) is the same on every machine.
constexpr int64_t kMaxWeightGroups = 16;

inline int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Whether a loop of this much work should fork threads: not when small, and
// not when already inside a parallel region (a thread that owns whole images).
inline bool fork(int64_t work) {
  return work > kParallelGrain && !omp_in_parallel();
}

int64_t conv_work(const Conv2dParams& p) {
  return p.N * p.K * p.OH * p.OW * p.C * p.R * p.S;
}

struct Chunking {
  int64_t images;  // g: images per chunk
  int64_t cols;    // len: pixels of one image per chunk (OH*OW unless images == 1)
};

Chunking choose_chunking(const Conv2dParams& p) {
  const int64_t P = p.OH * p.OW;
  const int64_t rows = std::max(p.C * p.R * p.S, p.K);
  const int64_t max_cols = std::max(kMinCols, kColBudget / std::max<int64_t>(rows, 1));
  if (P > max_cols) return {1, max_cols};
  const int64_t g = std::min(ceil_div(kTargetCols, P), max_cols / P);
  return {std::clamp<int64_t>(g, 1, std::max<int64_t>(p.N, 1)), P};
}

// Calls f(n0, g, p0, len) for each chunk of images [n_begin, n_end), in
// increasing (image, pixel) order.
template <class F>
void for_each_chunk(const Conv2dParams& p, const Chunking& ch, int64_t n_begin, int64_t n_end,
                    F&& f) {
  const int64_t P = p.OH * p.OW;
  for (int64_t n0 = n_begin; n0 < n_end; n0 += ch.images) {
    const int64_t g = std::min(ch.images, n_end - n0);
    for (int64_t p0 = 0; p0 < P; p0 += ch.cols) f(n0, g, p0, std::min(ch.cols, P - p0));
  }
}

// Runs f(n_begin, n_end) over the batch: one contiguous range of images per
// thread when every thread gets a fair share, else one call over all of it.
template <class F>
void over_images(const Conv2dParams& p, F&& f) {
  const int64_t threads = num_threads();
  const bool split = fork(conv_work(p)) && threads > 1 && p.N >= threads &&
                     (p.N % threads == 0 || p.N >= 4 * threads);
  if (!split) {
    f(int64_t(0), p.N);
    return;
  }
#pragma omp parallel
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    f(p.N * t / nt, p.N * (t + 1) / nt);
  }
}

// Three scratch buffers per thread, reused across calls: a conv layer runs
// every step, and fresh multi-MiB buffers would fault in every page.
// Slot 0: columns, slot 1: [K, L] outputs or gathered dy, slot 2: dw partials.
template <class T>
T* scratch(int slot, int64_t n) {
  thread_local std::vector<T> bufs[3];
  std::vector<T>& b = bufs[slot];
  if (b.size() < size_t(n)) b.resize(size_t(n));
  return b.data();
}

// Output columns ow whose tap s lands inside the input row: [lo, hi).
// 0 <= ow*stride - pad + s < W.
struct ValidCols {
  int64_t lo, hi;
};
ValidCols valid_cols(const Conv2dParams& p, int64_t s) {
  const int64_t a = p.padding - s;            // ow*stride >= a
  const int64_t b = p.W - 1 + p.padding - s;  // ow*stride <= b
  const int64_t lo = a <= 0 ? 0 : std::min(ceil_div(a, p.stride), p.OW);
  const int64_t hi = b < 0 ? 0 : std::min(b / p.stride + 1, p.OW);
  return {lo, std::max(lo, hi)};
}

// Walks the output pixels [p0, p0 + len) of one image row segment by row
// segment: f(q, oh, ow0, ow1) covers pixels oh*OW + [ow0, ow1), whose first
// column in the chunk is q.
template <class F>
void for_each_row_segment(const Conv2dParams& p, int64_t p0, int64_t len, F&& f) {
  int64_t q = 0;
  while (q < len) {
    const int64_t pix = p0 + q, oh = pix / p.OW, ow0 = pix % p.OW;
    const int64_t ow1 = std::min(p.OW, ow0 + (len - q));
    f(q, oh, ow0, ow1);
    q += ow1 - ow0;
  }
}

// col[row, gi*len + q] for row = (c, r, s): see the top of the file.
template <class T>
void im2col(const Conv2dParams& p, const T* x, int64_t n0, int64_t g, int64_t p0, int64_t len,
            T* col) {
  const int64_t RS = p.R * p.S, CRS = p.C * RS, L = g * len;
  const int64_t st = p.stride, pad = p.padding;
#pragma omp parallel for schedule(static) if (fork(CRS * L))
  for (int64_t t = 0; t < CRS * g; ++t) {
    const int64_t row = t / g, gi = t % g;
    const int64_t c = row / RS, r = (row / p.S) % p.R, s = row % p.S;
    const T* xc = x + ((n0 + gi) * p.C + c) * p.H * p.W;
    const ValidCols v = valid_cols(p, s);
    T* dst = col + row * L + gi * len;
    for_each_row_segment(p, p0, len, [&](int64_t q, int64_t oh, int64_t ow0, int64_t ow1) {
      T* d = dst + q;  // d[ow - ow0] is the column of pixel (oh, ow)
      const int64_t iy = oh * st - pad + r;
      if (iy < 0 || iy >= p.H) {
        std::fill(d, d + (ow1 - ow0), T(0));
        return;
      }
      const int64_t lo = std::clamp(v.lo, ow0, ow1), hi = std::clamp(v.hi, lo, ow1);
      std::fill(d, d + (lo - ow0), T(0));
      const T* src = xc + iy * p.W;
      const int64_t off = s - pad;  // input column of output column ow: ow*st + off
      if (st == 1) {
        for (int64_t ow = lo; ow < hi; ++ow) d[ow - ow0] = src[ow + off];
      } else {
        for (int64_t ow = lo; ow < hi; ++ow) d[ow - ow0] = src[ow * st + off];
      }
      std::fill(d + (hi - ow0), d + (ow1 - ow0), T(0));
    });
  }
}

// dx[n0 + gi, c] += the taps of dcol that land on it. One task per (image,
// channel) plane, so no two threads touch one dx element.
template <class T>
void col2im_add(const Conv2dParams& p, const T* dcol, int64_t n0, int64_t g, int64_t p0,
                int64_t len, T* dx) {
  const int64_t RS = p.R * p.S, L = g * len;
  const int64_t st = p.stride, pad = p.padding;
#pragma omp parallel for schedule(static) if (fork(p.C * RS * L))
  for (int64_t t = 0; t < g * p.C; ++t) {
    const int64_t gi = t / p.C, c = t % p.C;
    T* dxc = dx + ((n0 + gi) * p.C + c) * p.H * p.W;
    for (int64_t r = 0; r < p.R; ++r) {
      for (int64_t s = 0; s < p.S; ++s) {
        const T* src = dcol + ((c * p.R + r) * p.S + s) * L + gi * len;
        const ValidCols v = valid_cols(p, s);
        for_each_row_segment(p, p0, len, [&](int64_t q, int64_t oh, int64_t ow0, int64_t ow1) {
          const int64_t iy = oh * st - pad + r;
          if (iy < 0 || iy >= p.H) return;
          const int64_t lo = std::clamp(v.lo, ow0, ow1), hi = std::clamp(v.hi, lo, ow1);
          const T* sq = src + q;  // sq[ow - ow0] is the tap of pixel (oh, ow)
          T* d = dxc + iy * p.W;
          const int64_t off = s - pad;
          if (st == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) d[ow + off] += sq[ow - ow0];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) d[ow * st + off] += sq[ow - ow0];
          }
        });
      }
    }
  }
}

// buf[k, gi*P + q] = dy[n0 + gi, k, q]: g images of dy side by side.
template <class T>
void gather_images(const Conv2dParams& p, const T* dy, int64_t n0, int64_t g, T* buf) {
  const int64_t P = p.OH * p.OW, L = g * P;
#pragma omp parallel for schedule(static) if (fork(g * p.K * P))
  for (int64_t t = 0; t < g * p.K; ++t) {
    const int64_t gi = t / p.K, k = t % p.K;
    std::copy_n(dy + ((n0 + gi) * p.K + k) * P, P, buf + k * L + gi * P);
  }
}

bool is_pointwise(const Conv2dParams& p) {
  return p.R == 1 && p.S == 1 && p.stride == 1 && p.padding == 0;
}

// The column matrix of a chunk and its row stride: x itself for a pointwise
// conv of one image, else im2col into scratch slot 0.
template <class T>
const T* columns(const Conv2dParams& p, const T* x, int64_t n0, int64_t g, int64_t p0, int64_t len,
                 int64_t* ld) {
  if (is_pointwise(p) && g == 1) {
    *ld = p.OH * p.OW;
    return x + n0 * p.C * p.H * p.W + p0;
  }
  T* col = scratch<T>(0, p.C * p.R * p.S * g * len);
  im2col(p, x, n0, g, p0, len, col);
  *ld = g * len;
  return col;
}

// dy of a chunk as a [K, L] matrix and its row stride: in place for one
// image, else gathered into scratch slot 1.
template <class T>
const T* dy_matrix(const Conv2dParams& p, const T* dy, int64_t n0, int64_t g, int64_t p0,
                   int64_t* ld) {
  const int64_t P = p.OH * p.OW;
  if (g == 1) {
    *ld = P;
    return dy + n0 * p.K * P + p0;
  }
  T* buf = scratch<T>(1, p.K * g * P);
  gather_images(p, dy, n0, g, buf);
  *ld = g * P;
  return buf;
}

// dw[K, CRS] += the weight gradient of images [n_begin, n_end), summed in
// increasing (image, pixel) order (gemm with beta = 1 continues each sum).
template <class T>
void weight_grad_range(const Conv2dParams& p, const Chunking& ch, const T* x, const T* dy,
                       int64_t n_begin, int64_t n_end, T* dw) {
  const int64_t CRS = p.C * p.R * p.S;
  for_each_chunk(p, ch, n_begin, n_end, [&](int64_t n0, int64_t g, int64_t p0, int64_t len) {
    int64_t ld_col = 0, ld_dy = 0;
    const T* col = columns(p, x, n0, g, p0, len, &ld_col);
    const T* dyp = dy_matrix(p, dy, n0, g, p0, &ld_dy);
    gemm<T>(false, true, p.K, CRS, g * len, T(1), dyp, ld_dy, col, ld_col, T(1), dw, CRS);
  });
}

}  // namespace

template <class T>
void conv2d_forward(const Conv2dParams& p, const T* x, const T* w, const T* b, T* y) {
  const int64_t P = p.OH * p.OW, CRS = p.C * p.R * p.S;
  const Chunking ch = choose_chunking(p);
  over_images(p, [&](int64_t n_begin, int64_t n_end) {
    for_each_chunk(p, ch, n_begin, n_end, [&](int64_t n0, int64_t g, int64_t p0, int64_t len) {
      const int64_t L = g * len;
      int64_t ld_col = 0;
      const T* col = columns(p, x, n0, g, p0, len, &ld_col);
      if (g == 1) {
        T* yp = y + n0 * p.K * P + p0;
        gemm<T>(false, false, p.K, len, CRS, T(1), w, CRS, col, ld_col, T(0), yp, P);
        if (b != nullptr) {
#pragma omp parallel for schedule(static) if (fork(p.K * len))
          for (int64_t k = 0; k < p.K; ++k) {
            for (int64_t q = 0; q < len; ++q) yp[k * P + q] += b[k];
          }
        }
        return;
      }
      T* out = scratch<T>(1, p.K * L);
      gemm<T>(false, false, p.K, L, CRS, T(1), w, CRS, col, ld_col, T(0), out, L);
#pragma omp parallel for schedule(static) if (fork(p.K * L))
      for (int64_t t = 0; t < g * p.K; ++t) {
        const int64_t gi = t / p.K, k = t % p.K;
        const T* src = out + k * L + gi * P;
        T* dst = y + ((n0 + gi) * p.K + k) * P;
        if (b != nullptr) {
          for (int64_t q = 0; q < P; ++q) dst[q] = src[q] + b[k];
        } else {
          std::copy_n(src, P, dst);
        }
      }
    });
  });
}

template <class T>
void conv2d_backward_input(const Conv2dParams& p, const T* dy, const T* w, T* dx) {
  const int64_t CRS = p.C * p.R * p.S, HW = p.H * p.W;
  const Chunking ch = choose_chunking(p);
  // Pointwise with one image per chunk: the GEMM writes every dx element.
  const bool direct = is_pointwise(p) && ch.images == 1;
  over_images(p, [&](int64_t n_begin, int64_t n_end) {
    if (!direct) {
      const int64_t n = (n_end - n_begin) * p.C * HW;
      T* d = dx + n_begin * p.C * HW;
#pragma omp parallel for schedule(static) if (fork(n))
      for (int64_t i = 0; i < n; ++i) d[i] = T(0);
    }
    for_each_chunk(p, ch, n_begin, n_end, [&](int64_t n0, int64_t g, int64_t p0, int64_t len) {
      const int64_t L = g * len;
      int64_t ld_dy = 0;
      const T* dyp = dy_matrix(p, dy, n0, g, p0, &ld_dy);
      if (direct) {
        gemm<T>(true, false, CRS, len, p.K, T(1), w, CRS, dyp, ld_dy, T(0), dx + n0 * p.C * HW + p0,
                HW);
        return;
      }
      T* dcol = scratch<T>(0, CRS * L);
      gemm<T>(true, false, CRS, L, p.K, T(1), w, CRS, dyp, ld_dy, T(0), dcol, L);
      col2im_add(p, dcol, n0, g, p0, len, dx);
    });
  });
}

template <class T>
void conv2d_backward_weight(const Conv2dParams& p, const T* x, const T* dy, T* dw, T* db) {
  const int64_t P = p.OH * p.OW, KCRS = p.K * p.C * p.R * p.S;
  const Chunking ch = choose_chunking(p);
  // Groups of images for the partial sums: as many as the batch and the
  // memory budget allow, up to kMaxWeightGroups; shapes only decide.
  const int64_t groups =
      std::clamp<int64_t>(kColBudget / std::max<int64_t>(KCRS, 1), 1,
                          std::min<int64_t>(std::max<int64_t>(p.N, 1), kMaxWeightGroups));
  // Which of the two sums is taken depends on the shapes alone (never on the
  // thread count or the calling context), and so do the bits of dw.
  if (dw != nullptr && (groups == 1 || conv_work(p) <= kParallelGrain)) {
    // One chain of GEMMs into dw; the GEMM splits its tiles across threads.
    weight_grad_range(p, ch, x, dy, 0, p.N, dw);
  } else if (dw != nullptr) {
    T* partial = scratch<T>(2, groups * KCRS);
#pragma omp parallel for schedule(static) if (!omp_in_parallel())
    for (int64_t gi = 0; gi < groups; ++gi) {
      T* part = partial + gi * KCRS;
      std::fill(part, part + KCRS, T(0));
      weight_grad_range(p, ch, x, dy, p.N * gi / groups, p.N * (gi + 1) / groups, part);
    }
#pragma omp parallel for schedule(static) if (fork(groups * KCRS))
    for (int64_t i = 0; i < KCRS; ++i) {
      T s = dw[i];
      for (int64_t gi = 0; gi < groups; ++gi) s += partial[gi * KCRS + i];
      dw[i] = s;
    }
  }
  if (db == nullptr) return;
    // db[k] += sum over (n, pixel) of dy[n, k, pixel], in 8 fixed lanes (pixel
    // mod 8) so the adds vectorise; the lanes are combined in a fixed tree.
#pragma omp parallel for schedule(static) if (fork(p.N * p.K * P))
  for (int64_t k = 0; k < p.K; ++k) {
    T lane[8] = {};
    for (int64_t n = 0; n < p.N; ++n) {
      const T* src = dy + (n * p.K + k) * P;
      int64_t q = 0;
      for (; q + 8 <= P; q += 8) {
        for (int j = 0; j < 8; ++j) lane[j] += src[q + j];
      }
      for (int j = 0; q < P; ++q, ++j) lane[j] += src[q];
    }
    db[k] +=
        ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
  }
}

template void conv2d_forward<float>(const Conv2dParams&, const float*, const float*, const float*,
                                    float*);
template void conv2d_forward<double>(const Conv2dParams&, const double*, const double*,
                                     const double*, double*);
template void conv2d_backward_input<float>(const Conv2dParams&, const float*, const float*, float*);
template void conv2d_backward_input<double>(const Conv2dParams&, const double*, const double*,
                                            double*);
template void conv2d_backward_weight<float>(const Conv2dParams&, const float*, const float*, float*,
                                            float*);
template void conv2d_backward_weight<double>(const Conv2dParams&, const double*, const double*,
                                             double*, double*);

}  // namespace medtex::cpu
