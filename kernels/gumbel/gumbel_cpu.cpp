#include "kernels/gumbel/gumbel.h"

#include <algorithm>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void gumbel_fill(int64_t n, const PhiloxDraw& draw, T* out) {
  // Element i depends on (draw, i) only: any split across threads gives the
  // same bits. Chunks of whole Philox blocks, so each block is computed once.
  constexpr int64_t kChunk = 1024;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n > kParallelGrain / 16)
  for (int64_t c = 0; c < chunks; ++c) {
    const uint64_t begin = uint64_t(c * kChunk), end = uint64_t(std::min(n, (c + 1) * kChunk));
    for_each_philox_word(draw, begin, end, [&](uint64_t i, uint32_t word) {
      out[i] = T(gumbel_from_uniform(uniform_open01(word)));
    });
  }
}

template void gumbel_fill<float>(int64_t, const PhiloxDraw&, float*);
template void gumbel_fill<double>(int64_t, const PhiloxDraw&, double*);

}  // namespace medtex::cpu
