// CPU threading for the kernels, and the rule that keeps results reproducible.
//
// Determinism rule: a CPU kernel may split work across threads only over
// *independent outputs*. Every output element (or every partial sum) is
// computed by one thread with a fixed order of accumulation, so results are
// bitwise identical for any thread count. A reduction across many inputs is
// done by a fixed split into chunks whose size does not depend on the thread
// count (see kFixedChunk), combined in chunk order.
#pragma once

#include <cstdint>

namespace medtex {

// Number of OpenMP threads the kernels use. 0 restores the default (all cores).
void set_num_threads(int n);
int num_threads();

// Work below this many scalar operations runs on one thread: a parallel region
// costs a few microseconds, more than small elementwise ops take.
inline constexpr int64_t kParallelGrain = 1 << 15;

// Chunk length for reductions over long vectors: fixed, so that the partial
// sums, and therefore the rounding, are the same whatever the thread count.
inline constexpr int64_t kFixedChunk = 4096;

}  // namespace medtex
