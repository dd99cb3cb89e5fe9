#include "kernels/elementwise/elementwise.h"

#include <algorithm>

#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "kernels/reduce/reduce.h"

namespace medtex::cpu {

BroadcastStatus plan_broadcast(int na, const int64_t* a_shape, int nb, const int64_t* b_shape,
                               int64_t* out_shape, BroadcastPlan* plan) {
  const int nd = std::max(na, nb);
  // Right-aligned extents and contiguous strides of both inputs, over nd dims.
  int64_t sa = 1, sb = 1;
  struct Dim {
    int64_t extent, a_stride, b_stride;
  };
  Dim dims[64];
  MT_CHECK(nd <= 64, "plan_broadcast: ", nd, " dims");
  bool empty = false;
  for (int i = nd - 1; i >= 0; --i) {
    const int ia = i - (nd - na), ib = i - (nd - nb);
    const int64_t ea = ia >= 0 ? a_shape[ia] : 1, eb = ib >= 0 ? b_shape[ib] : 1;
    int64_t e;
    if (ea == eb || eb == 1) {
      e = ea;
    } else if (ea == 1) {
      e = eb;
    } else {
      return BroadcastStatus::kMismatch;
    }
    out_shape[i] = e;
    empty = empty || e == 0;
    dims[i] = {e, ea == 1 ? 0 : sa, eb == 1 ? 0 : sb};
    sa *= ea;
    sb *= eb;
  }
  *plan = BroadcastPlan{};
  if (empty) {  // nothing to loop over
    plan->ndim = 1;
    return BroadcastStatus::kOk;
  }
  // Drop extent-1 dims and merge a dim into its outer neighbour when both
  // inputs step through the pair as through one dim.
  int n = 0;
  Dim merged[64];
  for (int i = 0; i < nd; ++i) {
    const Dim d = dims[i];
    if (d.extent == 1) continue;
    if (n > 0 && merged[n - 1].a_stride == d.a_stride * d.extent &&
        merged[n - 1].b_stride == d.b_stride * d.extent) {
      merged[n - 1] = {merged[n - 1].extent * d.extent, d.a_stride, d.b_stride};
    } else {
      merged[n++] = d;
    }
  }
  if (n > kMaxBroadcastDims) return BroadcastStatus::kTooManyDims;
  plan->ndim = n;
  for (int i = 0; i < n; ++i) {
    plan->extent[i] = merged[i].extent;
    plan->a_stride[i] = merged[i].a_stride;
    plan->b_stride[i] = merged[i].b_stride;
  }
  return BroadcastStatus::kOk;
}

namespace {

struct AddOp {
  template <class T>
  T operator()(T a, T b) const {
    return a + b;
  }
};
struct SubOp {
  template <class T>
  T operator()(T a, T b) const {
    return a - b;
  }
};
struct MulOp {
  template <class T>
  T operator()(T a, T b) const {
    return a * b;
  }
};

// The outer dims of a plan (all but the innermost), walked with the element
// offsets of both inputs.
struct OuterWalk {
  const BroadcastPlan& p;
  int n;  // outer dims
  int64_t index[kMaxBroadcastDims] = {};
  int64_t a = 0, b = 0;

  explicit OuterWalk(const BroadcastPlan& plan) : p(plan), n(plan.ndim - 1) {}
  void seek(int64_t row) {
    a = b = 0;
    for (int d = n - 1; d >= 0; --d) {
      index[d] = row % p.extent[d];
      row /= p.extent[d];
      a += index[d] * p.a_stride[d];
      b += index[d] * p.b_stride[d];
    }
  }
  void next() {
    for (int d = n - 1; d >= 0; --d) {
      a += p.a_stride[d];
      b += p.b_stride[d];
      if (++index[d] < p.extent[d]) return;
      a -= p.extent[d] * p.a_stride[d];
      b -= p.extent[d] * p.b_stride[d];
      index[d] = 0;
    }
  }
};

// One output row. The innermost strides are 0 or 1 (an input is contiguous,
// so its innermost non-broadcast dim has stride 1); each combination gets its
// own loop so that the compiler vectorises it.
template <class Op, class T>
void binary_row(Op op, int64_t n, const T* a, int64_t sa, const T* b, int64_t sb, T* out) {
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
  } else if (sa == 1) {
    const T bv = b[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], bv);
  } else if (sb == 1) {
    const T av = a[0];
    for (int64_t i = 0; i < n; ++i) out[i] = op(av, b[i]);
  } else {
    const T v = op(a[0], b[0]);
    for (int64_t i = 0; i < n; ++i) out[i] = v;
  }
}

// Rows handed to one thread at a time: enough work to amortise a seek.
int64_t rows_per_block(int64_t row_len) {
  return std::max<int64_t>(1, 4096 / row_len);
}

template <class Op, class T>
void broadcast_loop(Op op, const BroadcastPlan& p, const T* a, const T* b, T* out) {
  if (p.ndim == 0) {
    out[0] = op(a[0], b[0]);
    return;
  }
  const int64_t L = p.extent[p.ndim - 1];
  const int64_t sa = p.a_stride[p.ndim - 1], sb = p.b_stride[p.ndim - 1];
  int64_t rows = 1;
  for (int d = 0; d + 1 < p.ndim; ++d) rows *= p.extent[d];
  if (rows * L == 0) return;
  const int64_t per = rows_per_block(L), blocks = (rows + per - 1) / per;
#pragma omp parallel for schedule(static) if (rows * L > kParallelGrain)
  for (int64_t blk = 0; blk < blocks; ++blk) {
    OuterWalk w(p);
    const int64_t r0 = blk * per, r1 = std::min(rows, r0 + per);
    w.seek(r0);
    for (int64_t r = r0; r < r1; ++r, w.next()) {
      binary_row(op, L, a + w.a, sa, b + w.b, sb, out + r * L);
    }
  }
}

template <class Op, class T>
void same_loop(Op op, int64_t n, const T* a, const T* b, T* out) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) out[i] = op(a[i], b[i]);
}

}  // namespace

template <class T>
void binary_same(BinaryOp op, int64_t n, const T* a, const T* b, T* out) {
  switch (op) {
    case BinaryOp::kAdd:
      return same_loop(AddOp{}, n, a, b, out);
    case BinaryOp::kSub:
      return same_loop(SubOp{}, n, a, b, out);
    case BinaryOp::kMul:
      return same_loop(MulOp{}, n, a, b, out);
  }
}

template <class T>
void binary_broadcast(BinaryOp op, const BroadcastPlan& plan, const T* a, const T* b, T* out) {
  switch (op) {
    case BinaryOp::kAdd:
      return broadcast_loop(AddOp{}, plan, a, b, out);
    case BinaryOp::kSub:
      return broadcast_loop(SubOp{}, plan, a, b, out);
    case BinaryOp::kMul:
      return broadcast_loop(MulOp{}, plan, a, b, out);
  }
}

template <class T>
void mul_scalar(int64_t n, const T* x, T s, T* y) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * s;
}

template <class T>
void add_scalar(int64_t n, const T* x, T s, T* y) {
#pragma omp parallel for schedule(static) if (n > kParallelGrain)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] + s;
}

template <class T>
void expand(const BroadcastPlan& plan, const T* x, T divisor, T* y) {
  // x plays input a; b is never read (stride-0 reads of x itself keep the
  // loop generic without a second pointer).
  if (divisor == T(1)) {
    broadcast_loop([](T v, T) { return v; }, plan, x, x, y);
  } else {
    broadcast_loop([divisor](T v, T) { return v / divisor; }, plan, x, x, y);
  }
}

template <class T>
void sum_to_shape(int ndim, const int64_t* shape, int target_ndim, const int64_t* target,
                  const T* x, T* y) {
  MT_CHECK(ndim <= kMaxReduceDims && target_ndim <= ndim, "sum_to_shape: ", ndim, " dims onto ",
           target_ndim);
  uint32_t mask = 0;
  for (int d = 0; d < ndim; ++d) {
    const int t = d - (ndim - target_ndim);
    const int64_t e = t >= 0 ? target[t] : 1;
    if (e == 1 && shape[d] != 1) mask |= 1u << d;
  }
  reduce_sum(ndim, shape, mask, x, y, 1.0);
}

#define MEDTEX_INSTANTIATE(T)                                                                \
  template void binary_same<T>(BinaryOp, int64_t, const T*, const T*, T*);                   \
  template void binary_broadcast<T>(BinaryOp, const BroadcastPlan&, const T*, const T*, T*); \
  template void mul_scalar<T>(int64_t, const T*, T, T*);                                     \
  template void add_scalar<T>(int64_t, const T*, T, T*);                                     \
  template void expand<T>(const BroadcastPlan&, const T*, T, T*);                            \
  template void sum_to_shape<T>(int, const int64_t*, int, const int64_t*, const T*, T*);
MEDTEX_INSTANTIATE(float)
MEDTEX_INSTANTIATE(double)
#undef MEDTEX_INSTANTIATE

}  // namespace medtex::cpu
