// Fixed-order reductions across the threads that share one row: a warp
// (kGroup = 32, shuffles only) or a whole block (kGroup = blockDim.x, a
// multiple of 32 up to 1024: shuffles, then one value per warp through shared
// memory and one barrier). Used by the row-wise kernels (softmax, the losses)
// and by the block reductions of reduce_cuda.cuh and chunk_sum_cuda.cuh.
//
// Determinism: the combination order depends only on kGroup, never on the
// thread schedule, and the xor butterfly leaves the same bits in every lane
// (lane i adds v_i + v_j where lane j adds v_j + v_i, and IEEE addition
// commutes), so every thread of the group gets the identical value.
//
// Header of device code only (inline): several .cu files include it.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/simt/simt.h"

namespace medtex::kern {
inline namespace SIMT_NS {

inline constexpr unsigned kFullMask = 0xffffffffu;

// The CPU twins' std::max(m, u) = (m < u ? u : m): a NaN u never replaces a
// number (the NaN reaches the output through the exp instead).
template <class T>
__device__ __forceinline__ T larger(T m, T u) {
  return m < u ? u : m;
}

__device__ __forceinline__ double warp_sum(double v) {
  SIMT_UNROLL
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(kFullMask, v, off);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  SIMT_UNROLL
  for (int off = 16; off > 0; off >>= 1) v = larger(v, __shfl_xor_sync(kFullMask, v, off));
  return v;
}

// A run of reductions over one group, every result returned to every thread
// of the group. All threads of the group must make the same calls in the same
// order (the kernels' loops are uniform over the group).
//
// For kGroup > 32, `scratch` is shared memory for 2 * kGroup / 32 doubles,
// two halves used by alternate calls: lane 0 of each warp writes its warp's
// value to the current half, one barrier, every thread reads the half. No
// second barrier is needed before the next call: that call writes the other
// half, and the call after it, which writes this half again, can only be
// reached through the next call's barrier, which every thread passes only
// after its reads of this half.
template <int kGroup>
class GroupReduce {
  static_assert(kGroup % 32 == 0 && kGroup <= 1024, "a group is whole warps");
  static constexpr int kWarps = kGroup / 32;

 public:
  __device__ explicit GroupReduce(double* scratch) : scratch_(scratch) {}

  __device__ double sum(double v) {
    v = warp_sum(v);
    if constexpr (kGroup > 32) {
      double* s = exchange(v);
      // Lanes past the warp count add +0.0: exact.
      v = warp_sum(lane() < kWarps ? s[lane()] : 0.0);
    }
    return v;
  }

  // Maximum (float or double) with the `larger` rule; -inf where a thread
  // saw no element (a float goes through the double scratch exactly). Signed
  // zeros may come out either way (-0 vs +0 as the maximum); both give the
  // same exp(u - m) and the same u - m - log s.
  template <class T>
  __device__ T max(T v) {
    v = warp_max(v);
    if constexpr (kGroup > 32) {
      double* s = exchange(double(v));
      v = warp_max(lane() < kWarps ? T(s[lane()]) : T(-INFINITY));
    }
    return v;
  }

 private:
  __device__ static int lane() { return int(threadIdx.x) % 32; }

  // Publishes each warp's value (all lanes hold it) in the current half and
  // returns that half once every warp has written.
  __device__ double* exchange(double v) {
    double* s = scratch_ + half_ * kWarps;
    half_ ^= 1;
    if (lane() == 0) s[int(threadIdx.x) / 32] = v;
    __syncthreads();  // every warp's value is in this half before anyone reads it
    return s;
  }

  double* scratch_;
  int half_ = 0;
};

}  // namespace SIMT_NS
}  // namespace medtex::kern
