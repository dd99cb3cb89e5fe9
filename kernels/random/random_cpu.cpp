#include "kernels/random/random.h"

#include <algorithm>
#include <cmath>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

namespace {
// Chunks of whole Philox blocks: each 10-round block yields four words.
constexpr int64_t kChunk = 1024;
}  // namespace

template <class T>
void uniform_fill(int64_t n, const PhiloxDraw& draw, T lo, T hi, T* out) {
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > kParallelGrain / 4)
  for (int64_t c = 0; c < chunks; ++c) {
    const uint64_t begin = uint64_t(c * kChunk), end = uint64_t(std::min(n, (c + 1) * kChunk));
    for_each_philox_word(draw, begin, end, [&](uint64_t i, uint32_t word) {
      out[i] = lo + (hi - lo) * T(uniform_open01(word));
    });
  }
}

template <class T>
void normal_fill(int64_t n, const PhiloxDraw& draw, T mean, T stddev, T* out) {
  constexpr double kTwoPi = 6.283185307179586476925286766559;
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t pair = uint64_t(i) & ~uint64_t{1};
    const double u1 = uniform_open01(philox_word(draw, pair));
    const double u2 = uniform_open01(philox_word(draw, pair + 1));
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double z = (i & 1) ? r * std::sin(kTwoPi * u2) : r * std::cos(kTwoPi * u2);
    out[i] = mean + stddev * T(z);
  }
}

template void uniform_fill<float>(int64_t, const PhiloxDraw&, float, float, float*);
template void uniform_fill<double>(int64_t, const PhiloxDraw&, double, double, double*);
template void normal_fill<float>(int64_t, const PhiloxDraw&, float, float, float*);
template void normal_fill<double>(int64_t, const PhiloxDraw&, double, double, double*);

}  // namespace medtex::cpu
