// Elementwise arithmetic with NumPy broadcasting, and the reduction that
// undoes a broadcast in the backward pass. Every output here is overwritten;
// nothing accumulates (the input gradients of add/sub/mul are produced whole
// and autograd sums them).
//
// Broadcasting: shapes are aligned from the right; where extents differ one
// of them must be 1 and it stretches. The kernels never see the shapes
// directly: plan_broadcast turns them into a loop nest over the (contiguous)
// output with each input's element strides, 0 on the dims where it is
// broadcast. Neighbouring dims that walk both inputs contiguously (or both
// with stride 0) are merged, so [N, 1, H, W] * [N, 3, H, W] runs as
// [N, 3, H*W] and equal shapes run as one flat loop.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// Loop-nest depth a plan can hold after merging dims. Real tensors merge to
// three or fewer; the limit only rejects pathological alternations.
inline constexpr int kMaxBroadcastDims = 6;

struct BroadcastPlan {
  int ndim = 0;  // 0: a single element
  int64_t extent[kMaxBroadcastDims] = {};
  int64_t a_stride[kMaxBroadcastDims] = {};  // in elements; 0 where a is broadcast
  int64_t b_stride[kMaxBroadcastDims] = {};
};

enum class BroadcastStatus { kOk, kMismatch, kTooManyDims };

// a: [a_shape...], b: [b_shape...]. Writes max(na, nb) extents to out_shape
// (room for that many) and the plan. kMismatch: some aligned extents differ
// and neither is 1; kTooManyDims: the merged loop nest needs more than
// kMaxBroadcastDims levels.
BroadcastStatus plan_broadcast(int na, const int64_t* a_shape, int nb, const int64_t* b_shape,
                               int64_t* out_shape, BroadcastPlan* plan);

enum class BinaryOp { kAdd, kSub, kMul };

// a, b, out: [n] (equal shapes, the fast path). out = a op b.
template <class T>
void binary_same(BinaryOp op, int64_t n, const T* a, const T* b, T* out);

// out: the plan's output, contiguous; a, b read through the plan's strides.
template <class T>
void binary_broadcast(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out);

// x, y: [n]. y = x * s and y = x + s.
template <class T>
void mul_scalar(int64_t n, const T* x, T s, T* y);
template <class T>
void add_scalar(int64_t n, const T* x, T s, T* y);

// Broadcast copy: y (the plan's output) = x read through plan.a_stride,
// divided by `divisor` (1 copies exactly). The backward of sum and mean.
template <class T>
void expand(const BroadcastPlan& plan, const T* x, T divisor, T* y);

// x: [shape...] (ndim dims), y: [target...] (target_ndim <= ndim dims, aligned
// from the right, each extent equal to x's or 1). y = x summed over the dims
// where target is 1 (or absent): the gradient of an input that was broadcast
// to x's shape. Deterministic, with the accumulation order of reduce_sum.
template <class T>
void sum_to_shape(int ndim, const int64_t* shape, int target_ndim, const int64_t* target,
                  const T* x, T* y);

}  // namespace medtex::cpu
