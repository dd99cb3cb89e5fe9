#include "kernels/batchnorm2d/batchnorm2d.h"

#include <cmath>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

namespace {

// Calls f(k, lane) for every flat offset k of channel c, plane by plane, with
// lane = position mod 4. Callers keep one partial sum per lane: four
// independent add chains overlap in the pipeline, and since the lanes and the
// order of combining them (total()) are fixed, so is the rounding.
template <class F>
inline void for_channel(const BatchNorm2dShape& s, int64_t c, F&& f) {
  for (int64_t n = 0; n < s.n; ++n) {
    const int64_t base = (n * s.c + c) * s.hw;
    int64_t i = 0;
    for (; i + 4 <= s.hw; i += 4) {
      f(base + i, 0);
      f(base + i + 1, 1);
      f(base + i + 2, 2);
      f(base + i + 3, 3);
    }
    for (; i < s.hw; ++i) f(base + i, int(i & 3));
  }
}

inline double total(const double (&lanes)[4]) {
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

}  // namespace

template <class T>
void batchnorm2d_forward_train(const BatchNorm2dShape& s, const T* x, const T* weight,
                               const T* bias, double momentum, double eps, T* y, T* save_mean,
                               T* save_invstd, T* running_mean, T* running_var) {
  const int64_t m = s.n * s.hw;
  // One channel per thread: its statistics and its normalised values need no
  // other channel, so the whole training forward is one parallel loop.
#pragma omp parallel for schedule(static) if (s.n * s.c * s.hw > kParallelGrain)
  for (int64_t c = 0; c < s.c; ++c) {
    double sum[4] = {};
    for_channel(s, c, [&](int64_t k, int lane) { sum[lane] += double(x[k]); });
    const double mean = total(sum) / double(m);
    // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2,
    // which cancels catastrophically when |mean| >> std.
    double sq[4] = {};
    for_channel(s, c, [&](int64_t k, int lane) {
      const double d = double(x[k]) - mean;
      sq[lane] += d * d;
    });
    const double var = total(sq) / double(m);
    const double invstd = 1.0 / std::sqrt(var + eps);
    save_mean[c] = T(mean);
    save_invstd[c] = T(invstd);

    const T tmean = T(mean);
    const T scale = T(invstd * double(weight[c]));
    const T shift = bias[c];
    for_channel(s, c, [&](int64_t k, int) { y[k] = (x[k] - tmean) * scale + shift; });

    if (running_mean != nullptr) {
      // PyTorch's rule: the running variance estimates the population
      // variance, so it takes the unbiased batch variance (Bessel, m / (m - 1)).
      const double unbiased = var * double(m) / double(m - 1);
      running_mean[c] = T((1.0 - momentum) * double(running_mean[c]) + momentum * mean);
      running_var[c] = T((1.0 - momentum) * double(running_var[c]) + momentum * unbiased);
    }
  }
}

template <class T>
void batchnorm2d_forward_eval(const BatchNorm2dShape& s, const T* x, const T* weight, const T* bias,
                              const T* running_mean, const T* running_var, double eps, T* y,
                              T* save_invstd) {
  for (int64_t c = 0; c < s.c; ++c) {
    save_invstd[c] = T(1.0 / std::sqrt(double(running_var[c]) + eps));
  }
  // No reduction: every (n, c) plane is independent.
  const int64_t planes = s.n * s.c;
#pragma omp parallel for schedule(static) if (planes * s.hw > kParallelGrain)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t c = p % s.c;
    const T mean = running_mean[c];
    const T scale = T(double(save_invstd[c]) * double(weight[c]));
    const T shift = bias[c];
    const T* xp = x + p * s.hw;
    T* yp = y + p * s.hw;
    for (int64_t i = 0; i < s.hw; ++i) yp[i] = (xp[i] - mean) * scale + shift;
  }
}

template <class T>
void batchnorm2d_backward(const BatchNorm2dShape& s, bool batch_stats, const T* x, const T* dy,
                          const T* mean, const T* invstd, const T* weight, T* dx, T* dweight,
                          T* dbias) {
  const double m = double(s.n * s.hw);
#pragma omp parallel for schedule(static) if (s.n * s.c * s.hw > kParallelGrain)
  for (int64_t c = 0; c < s.c; ++c) {
    const double mu = double(mean[c]);
    const double is = double(invstd[c]);
    double sdy[4] = {};
    double sdyx[4] = {};  // sum dy * (x - mean); times invstd it is sum dy * xhat
    for_channel(s, c, [&](int64_t k, int lane) {
      sdy[lane] += double(dy[k]);
      sdyx[lane] += double(dy[k]) * (double(x[k]) - mu);
    });
    const double sum_dy = total(sdy);
    const double sum_dy_xc = total(sdyx);
    dbias[c] += T(sum_dy);
    dweight[c] += T(sum_dy_xc * is);

    const double wk = double(weight[c]) * is;
    const T a = T(wk);
    if (!batch_stats) {
      for_channel(s, c, [&](int64_t i, int) { dx[i] = a * dy[i]; });
      continue;
    }
    // y = w * xhat + b with xhat = (x - mean) * invstd and mean, invstd
    // functions of the whole channel. Differentiating through them gives
    //   dx = wk * (dy - mean(dy) - xhat * mean(dy * xhat)),  wk = w * invstd,
    // written here as a * dy - b * (x - mean) - d with per-channel a, b, d.
    const T b = T(wk * is * is * sum_dy_xc / m);
    const T d = T(wk * sum_dy / m);
    const T tmu = mean[c];
    for_channel(s, c, [&](int64_t i, int) { dx[i] = a * dy[i] - b * (x[i] - tmu) - d; });
  }
}

template void batchnorm2d_forward_train<float>(const BatchNorm2dShape&, const float*, const float*,
                                               const float*, double, double, float*, float*, float*,
                                               float*, float*);
template void batchnorm2d_forward_train<double>(const BatchNorm2dShape&, const double*,
                                                const double*, const double*, double, double,
                                                double*, double*, double*, double*, double*);
template void batchnorm2d_forward_eval<float>(const BatchNorm2dShape&, const float*, const float*,
                                              const float*, const float*, const float*, double,
                                              float*, float*);
template void batchnorm2d_forward_eval<double>(const BatchNorm2dShape&, const double*,
                                               const double*, const double*, const double*,
                                               const double*, double, double*, double*);
template void batchnorm2d_backward<float>(const BatchNorm2dShape&, bool, const float*, const float*,
                                          const float*, const float*, const float*, float*, float*,
                                          float*);
template void batchnorm2d_backward<double>(const BatchNorm2dShape&, bool, const double*,
                                           const double*, const double*, const double*,
                                           const double*, double*, double*, double*);

}  // namespace medtex::cpu
