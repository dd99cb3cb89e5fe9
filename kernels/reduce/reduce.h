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

// The canonical form both backends walk: extent-1 dims dropped, neighbours
// of the same kind (both reduced or both kept) merged, since they are
// contiguous together; with each canonical dim's stride in x.
struct ReduceDims {
  int n = 0;  // canonical dims
  int64_t extent[kMaxReduceDims];
  int64_t stride[kMaxReduceDims];
  bool reduced[kMaxReduceDims];
  int64_t outputs = 1;  // elements of y
  int64_t count = 1;    // elements summed into each (R)
};

// ndim <= kMaxReduceDims (the caller checks).
inline ReduceDims canonical_reduce_dims(int ndim, const int64_t* shape, uint32_t reduced_mask) {
  ReduceDims c;
  for (int d = 0; d < ndim; ++d) {
    const bool r = (reduced_mask >> d) & 1u;
    (r ? c.count : c.outputs) *= shape[d];
    if (shape[d] == 1) continue;
    if (c.n > 0 && c.reduced[c.n - 1] == r) {
      c.extent[c.n - 1] *= shape[d];
    } else {
      c.extent[c.n] = shape[d];
      c.reduced[c.n] = r;
      ++c.n;
    }
  }
  int64_t step = 1;
  for (int d = c.n - 1; d >= 0; --d) {
    c.stride[d] = step;
    step *= c.extent[d];
  }
  return c;
}

}  // namespace medtex::cpu
