#include "kernels/cross_entropy/cross_entropy.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

namespace {

// log sum_c exp(x[c]) of one row, in double, shifted by the row maximum so
// that no exp overflows (logits of +-80 in float would otherwise reach inf).
template <class T>
double row_logsumexp(int64_t c, const T* x) {
  double m = double(x[0]);
  for (int64_t k = 1; k < c; ++k) m = std::max(m, double(x[k]));
  double s = 0;
  for (int64_t k = 0; k < c; ++k) s += std::exp(double(x[k]) - m);
  return m + std::log(s);
}

// Sum of the per-row values in row order: the rounding is the same for any
// thread count because the rows themselves were computed independently.
double ordered_sum(const std::vector<double>& rows) {
  double s = 0;
  for (double r : rows) s += r;
  return s;
}

}  // namespace

template <class I>
int64_t cross_entropy_first_bad_label(int64_t n, int64_t c, const I* labels) {
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i] < 0 || int64_t(labels[i]) >= c) return i;
  }
  return -1;
}

template <class T, class I>
double cross_entropy_forward(int64_t n, int64_t c, const T* logits, const I* labels, double* lse) {
  std::vector<double> rows(static_cast<size_t>(n));
#pragma omp parallel for schedule(static) if (n * c > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T* x = logits + i * c;
    lse[i] = row_logsumexp(c, x);
    // -log softmax[label] = lse - x[label]; never negative up to rounding.
    rows[size_t(i)] = lse[i] - double(x[labels[i]]);
  }
  return ordered_sum(rows) / double(n);
}

template <class T, class I>
void cross_entropy_backward(int64_t n, int64_t c, const T* logits, const I* labels,
                            const double* lse, double scale, T* dlogits) {
#pragma omp parallel for schedule(static) if (n * c > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T* x = logits + i * c;
    T* dx = dlogits + i * c;
    for (int64_t k = 0; k < c; ++k) dx[k] = T(scale * std::exp(double(x[k]) - lse[i]));
    const int64_t y = int64_t(labels[i]);
    dx[y] = T(scale * (std::exp(double(x[y]) - lse[i]) - 1.0));
  }
}

template <class T>
double cross_entropy_soft_forward(int64_t n, int64_t c, const T* logits, const T* target,
                                  double* lse) {
  std::vector<double> rows(static_cast<size_t>(n));
#pragma omp parallel for schedule(static) if (n * c > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T* x = logits + i * c;
    const T* t = target + i * c;
    lse[i] = row_logsumexp(c, x);
    double s = 0;
    for (int64_t k = 0; k < c; ++k) s += double(t[k]) * (lse[i] - double(x[k]));
    rows[size_t(i)] = s;
  }
  return ordered_sum(rows) / double(n);
}

template <class T>
void cross_entropy_soft_backward(int64_t n, int64_t c, const T* logits, const T* target,
                                 const double* lse, double scale, T* dlogits, T* dtarget) {
#pragma omp parallel for schedule(static) if (n * c > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const T* x = logits + i * c;
    const T* t = target + i * c;
    if (dlogits) {
      // d/dx_c of -sum_k t_k (x_k - lse) = -t_c + (sum_k t_k) softmax_c: the
      // target need not sum to one (a partial label, a masked row).
      double tsum = 0;
      for (int64_t k = 0; k < c; ++k) tsum += double(t[k]);
      T* dx = dlogits + i * c;
      for (int64_t k = 0; k < c; ++k) {
        dx[k] = T(scale * (std::exp(double(x[k]) - lse[i]) * tsum - double(t[k])));
      }
    }
    if (dtarget) {
      T* dt = dtarget + i * c;
      for (int64_t k = 0; k < c; ++k) dt[k] = T(scale * (lse[i] - double(x[k])));
    }
  }
}

template int64_t cross_entropy_first_bad_label<int32_t>(int64_t, int64_t, const int32_t*);
template int64_t cross_entropy_first_bad_label<int64_t>(int64_t, int64_t, const int64_t*);

#define MEDTEX_CE_INSTANTIATE(T, I)                                                               \
  template double cross_entropy_forward<T, I>(int64_t, int64_t, const T*, const I*, double*);     \
  template void cross_entropy_backward<T, I>(int64_t, int64_t, const T*, const I*, const double*, \
                                             double, T*);
MEDTEX_CE_INSTANTIATE(float, int32_t)
MEDTEX_CE_INSTANTIATE(float, int64_t)
MEDTEX_CE_INSTANTIATE(double, int32_t)
MEDTEX_CE_INSTANTIATE(double, int64_t)
#undef MEDTEX_CE_INSTANTIATE

#define MEDTEX_CE_SOFT_INSTANTIATE(T)                                                           \
  template double cross_entropy_soft_forward<T>(int64_t, int64_t, const T*, const T*, double*); \
  template void cross_entropy_soft_backward<T>(int64_t, int64_t, const T*, const T*,            \
                                               const double*, double, T*, T*);
MEDTEX_CE_SOFT_INSTANTIATE(float)
MEDTEX_CE_SOFT_INSTANTIATE(double)
#undef MEDTEX_CE_SOFT_INSTANTIATE

}  // namespace medtex::cpu
