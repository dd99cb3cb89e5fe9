#include "kernels/upsample_nearest/upsample_nearest.h"

#include <algorithm>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

// Both directions work on one input row at a time (rows = planes * h): an
// input row owns f whole output rows, so rows are independent units of work
// and all memory is walked contiguously.

template <class T>
void upsample_nearest_forward(int64_t planes, int64_t h, int64_t w, int f, const T* x, T* y) {
  const int64_t rows = planes * h;
  const int64_t ow = w * f;
#pragma omp parallel for schedule(static) if (rows * ow * f > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * w;
    T* first = y + r * f * ow;  // output rows r*f .. r*f + f-1 (same plane)
    for (int64_t ix = 0; ix < w; ++ix) std::fill(first + ix * f, first + (ix + 1) * f, xr[ix]);
    for (int k = 1; k < f; ++k) std::copy(first, first + ow, first + k * ow);
  }
}

template <class T>
void upsample_nearest_backward(int64_t planes, int64_t h, int64_t w, int f, const T* dy, T* dx) {
  const int64_t rows = planes * h;
  const int64_t ow = w * f;
#pragma omp parallel for schedule(static) if (rows * ow * f > kParallelGrain)
  for (int64_t r = 0; r < rows; ++r) {
    T* dxr = dx + r * w;
    std::fill(dxr, dxr + w, T(0));
    // Block row by block row: each dx element still receives its f * f terms
    // in row-major block order, the order PyTorch's CPU backward adds them.
    for (int k = 0; k < f; ++k) {
      const T* dyr = dy + (r * f + k) * ow;
      for (int64_t ix = 0; ix < w; ++ix) {
        T s = dxr[ix];
        for (int j = 0; j < f; ++j) s += dyr[ix * f + j];
        dxr[ix] = s;
      }
    }
  }
}

template void upsample_nearest_forward<float>(int64_t, int64_t, int64_t, int, const float*, float*);
template void upsample_nearest_forward<double>(int64_t, int64_t, int64_t, int, const double*,
                                               double*);
template void upsample_nearest_backward<float>(int64_t, int64_t, int64_t, int, const float*,
                                               float*);
template void upsample_nearest_backward<double>(int64_t, int64_t, int64_t, int, const double*,
                                                double*);

}  // namespace medtex::cpu
