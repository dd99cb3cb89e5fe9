// Sum (and mean) over any set of dims. The output is overwritten; nothing
// accumulates.
//
// Order of accumulation (the determinism contract, kernels/common/parallel.h):
// the R input elements that fall into one output element are enumerated in
// row-major order over the reduced dims, cut into consecutive chunks of
// kFixedChunk elements, each chunk summed left to right in double, and the
// chunk sums added in chunk order, again in double; the result is divided by
// `divisor` in double and rounded once to T. That value depends on the shape
// and the data only: every code path below (row-wise, per output, parallel
// over chunks of one long reduction) and every thread count produce exactly
// these bits. Double accumulation also makes float sums of long vectors
// accurate to about one rounding of the result.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [shape[0], ..., shape[ndim - 1]] contiguous; bit d of reduced_mask set
// means dim d is summed over. y: x's shape with the reduced extents set to 1
// (equivalently removed: the layout is the same), contiguous.
// y = (sum of x over the reduced dims) / divisor; divisor = 1 is a plain sum,
// divisor = R the mean. An empty reduction gives 0 / divisor.
template <class T>
void reduce_sum(int ndim, const int64_t* shape, uint32_t reduced_mask, const T* x, T* y,
                double divisor);

// Largest ndim reduce_sum accepts (one mask bit per dim).
inline constexpr int kMaxReduceDims = 32;

}  // namespace medtex::cpu
