// A sum whose rounding does not depend on the thread count: the range is cut
// into kFixedChunk-long chunks, each summed in double by one thread, and the
// chunk sums are added in chunk order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/common/parallel.h"

namespace medtex::cpu {

// Sum of term(i) over [0, n), in double.
template <class Term>
double fixed_chunk_sum(int64_t n, Term&& term) {
  const int64_t chunks = (n + kFixedChunk - 1) / kFixedChunk;
  std::vector<double> part(size_t(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t end = std::min(n, (k + 1) * kFixedChunk);
    double s = 0;
    for (int64_t i = k * kFixedChunk; i < end; ++i) s += term(i);
    part[size_t(k)] = s;
  }
  double total = 0;
  for (double s : part) total += s;
  return total;
}

}  // namespace medtex::cpu
