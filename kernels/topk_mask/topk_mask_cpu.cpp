#include "kernels/topk_mask/topk_mask.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

template <class T>
void topk_mask(int64_t N, int64_t D, int64_t k, const T* x, T* mask) {
  // nth_element finds the k best of a row in O(D) on average; it needs only a
  // strict total order, which the index tie-break provides, so the selected
  // set does not depend on the algorithm's internal choices.
#pragma omp parallel if (N * D > kParallelGrain)
  {
    std::vector<int64_t> order(static_cast<size_t>(D));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      const T* row = x + n * D;
      T* out = mask + n * D;
      auto before = [row](int64_t i, int64_t j) {
        const T a = row[i], b = row[j];
        const bool na = a != a, nb = b != b;
        if (na != nb) return na;
        if (!na && a != b) return a > b;
        return i < j;
      };
      std::iota(order.begin(), order.end(), int64_t{0});
      std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), before);
      std::fill(out, out + D, T(0));
      for (int64_t r = 0; r < k; ++r) out[order[size_t(r)]] = T(1);
    }
  }
}

template void topk_mask<float>(int64_t, int64_t, int64_t, const float*, float*);
template void topk_mask<double>(int64_t, int64_t, int64_t, const double*, double*);

}  // namespace medtex::cpu
