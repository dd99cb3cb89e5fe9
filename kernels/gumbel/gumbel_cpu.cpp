#include "kernels/gumbel/gumbel.h"

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void gumbel_fill(int64_t n, const PhiloxDraw& draw, T* out) {
  // Element i depends on (draw, i) only: any split across threads gives the same bits.
#pragma omp parallel for schedule(static) if (n > kParallelGrain / 16)
  for (int64_t i = 0; i < n; ++i) out[i] = T(gumbel_at(draw, uint64_t(i)));
}

template void gumbel_fill<float>(int64_t, const PhiloxDraw&, float*);
template void gumbel_fill<double>(int64_t, const PhiloxDraw&, double*);

}  // namespace medtex::cpu
