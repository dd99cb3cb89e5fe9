#include "kernels/linear/linear.h"

#include "kernels/common/parallel.h"
#include "kernels/gemm/gemm.h"

namespace medtex::cpu {

template <class T>
void linear_forward(int64_t n, int64_t in, int64_t out, const T* x, const T* w, const T* b, T* y) {
  // y[n, out] = x[n, in] w^T[in, out]; w is stored [out, in], so B is transposed.
  gemm<T>(false, true, n, out, in, T(1), x, in, w, in, T(0), y, out);
  if (b == nullptr) return;
    // The bias is added after the sum (as PyTorch's addmm rounds it), one pass.
#pragma omp parallel for schedule(static) if (n * out > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    T* row = y + i * out;
    for (int64_t o = 0; o < out; ++o) row[o] += b[o];
  }
}

template <class T>
void linear_backward_input(int64_t n, int64_t in, int64_t out, const T* dy, const T* w, T* dx) {
  // dx[n, in] = dy[n, out] w[out, in].
  gemm<T>(false, false, n, in, out, T(1), dy, out, w, in, T(0), dx, in);
}

template <class T>
void linear_backward_weight(int64_t n, int64_t in, int64_t out, const T* x, const T* dy, T* dw,
                            T* db) {
  // dw[out, in] += dy^T[out, n] x[n, in]; dy is stored [n, out], so A is
  // transposed; beta = 1 continues the sum already in dw.
  if (dw != nullptr) gemm<T>(true, false, out, in, n, T(1), dy, out, x, in, T(1), dw, in);
  if (db == nullptr) return;
  // Column sums of dy: each thread owns a block of columns and walks the rows
  // in order, so every db[o] is summed over n = 0..N-1 by one thread.
  constexpr int64_t kCols = 64;
  const int64_t blocks = (out + kCols - 1) / kCols;
#pragma omp parallel for schedule(static) if (n * out > kParallelGrain)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    const int64_t o0 = blk * kCols, o1 = o0 + kCols < out ? o0 + kCols : out;
    for (int64_t i = 0; i < n; ++i) {
      const T* row = dy + i * out;
      for (int64_t o = o0; o < o1; ++o) db[o] += row[o];
    }
  }
}

template void linear_forward<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                    const float*, float*);
template void linear_forward<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                     const double*, double*);
template void linear_backward_input<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                           float*);
template void linear_backward_input<double>(int64_t, int64_t, int64_t, const double*, const double*,
                                            double*);
template void linear_backward_weight<float>(int64_t, int64_t, int64_t, const float*, const float*,
                                            float*, float*);
template void linear_backward_weight<double>(int64_t, int64_t, int64_t, const double*,
                                             const double*, double*, double*);

}  // namespace medtex::cpu
