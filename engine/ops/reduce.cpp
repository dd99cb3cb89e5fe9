// sum and mean over a list of dims: forward and backward side by side.
//
// Backward: every input element contributed once (sum) or 1/R times (mean,
// R = number of elements per output) to its output, so dx is dy broadcast
// back over the reduced dims, divided by R for the mean (as PyTorch does:
// a division, not a multiplication by 1/R, so the bits agree).
#include "kernels/reduce/reduce.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_cuda.h"
#include "kernels/reduce/reduce_cuda.h"

namespace medtex::ops {

namespace {

Tensor reduce(const char* op, const Tensor& x, const std::vector<int>& dims, bool keepdim,
              bool mean) {
  const int nd = x.ndim();
  MT_CHECK(nd <= cpu::kMaxReduceDims, op, ": ", x.shape(), " has more than ", cpu::kMaxReduceDims,
           " dims");
  uint32_t mask = 0;
  if (dims.empty()) {
    mask = nd == 0 ? 0u : uint32_t((uint64_t{1} << nd) - 1);
  } else {
    for (int d : dims) {
      const int k = normalize_dim(op, d, nd);
      MT_CHECK(!((mask >> k) & 1u), op, ": dim ", d, " listed twice for ", x.shape());
      mask |= 1u << k;
    }
  }
  Shape kept_shape, out_shape;  // kept_shape: keepdim's shape, 1 on reduced dims
  int64_t count = 1;
  for (int d = 0; d < nd; ++d) {
    const bool r = (mask >> d) & 1u;
    if (r) count *= x.shape()[size_t(d)];
    kept_shape.push_back(r ? 1 : x.shape()[size_t(d)]);
    if (!r) out_shape.push_back(x.shape()[size_t(d)]);
  }
  const double divisor = mean ? double(count) : 1.0;

  Tensor y = Tensor::empty(keepdim ? kept_shape : out_shape, x.dtype(), x.device());
  dispatch(
      op, x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::reduce_sum<T>(nd, x.shape().data(), mask, x.data<T>(), y.data<T>(), divisor);
      },
      [&] {
        MT_GPU(reduce_sum)(nd, x.shape().data(), mask, x.data<float>(), y.data<float>(), divisor,
                           gpu::kReduceDefault);
      });

  if (!needs_grad({x})) return y;
  // The backward's loop plan, made now so that a shape it cannot handle fails here.
  const Shape x_shape = x.shape();
  cpu::BroadcastPlan plan;
  Shape full(x_shape.size(), 0);
  const auto status = cpu::plan_broadcast(int(kept_shape.size()), kept_shape.data(),
                                          int(x_shape.size()), x_shape.data(), full.data(), &plan);
  MT_CHECK(status == cpu::BroadcastStatus::kOk, op, ": reducing ", x_shape, " to ", kept_shape,
           " alternates reduced and kept dims too often for the backward's ",
           cpu::kMaxBroadcastDims, "-level broadcast");
  return record(op, y, {x}, [=](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
    dispatch(
        op, dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::expand<T>(plan, dy.data<T>(), T(divisor), dx.data<T>());
        },
        [&] {
          MT_GPU(expand)(plan, dy.data<float>(), float(divisor), dx.data<float>(),
                         gpu::kElementwiseDefault);
        });
    return {dx};
  });
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  return reduce("sum", x, dims, keepdim, false);
}

Tensor mean(const Tensor& x, const std::vector<int>& dims, bool keepdim) {
  return reduce("mean", x, dims, keepdim, true);
}

}  // namespace medtex::ops
