// add, sub, mul (with NumPy broadcasting), mul_scalar, add_scalar: forward
// and backward side by side.
//
// Backward rules, for y = a op b broadcast to y's shape:
//   add: da = sum_to(dy, a),      db = sum_to(dy, b)
//   sub: da = sum_to(dy, a),      db = -sum_to(dy, b)
//   mul: da = sum_to(dy * b, a),  db = sum_to(dy * a, b)
// where sum_to sums over the dims along which the input was stretched (the
// adjoint of the broadcast). An input whose shape is y's gets dy unreduced.
#include <algorithm>

#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/elementwise/elementwise.h"
#include "kernels/elementwise/elementwise_cuda.h"

namespace medtex::ops {

namespace {

const char* op_name(cpu::BinaryOp op) {
  switch (op) {
    case cpu::BinaryOp::kAdd:
      return "add";
    case cpu::BinaryOp::kSub:
      return "sub";
    case cpu::BinaryOp::kMul:
      return "mul";
  }
  return "?";
}

// Checks that a and b broadcast; returns the output shape and the loop plan.
Shape plan_for(const char* op, const Shape& a, const Shape& b, cpu::BroadcastPlan* plan) {
  Shape out(size_t(std::max(a.ndim(), b.ndim())), 0);
  const auto status = cpu::plan_broadcast(a.ndim(), a.data(), b.ndim(), b.data(), out.data(), plan);
  MT_CHECK(status != cpu::BroadcastStatus::kMismatch, op, ": shapes ", a, " and ", b,
           " do not broadcast (aligned from the right, extents must match or be 1)");
  MT_CHECK(status != cpu::BroadcastStatus::kTooManyDims, op, ": broadcasting ", a, " with ", b,
           " needs more than ", cpu::kMaxBroadcastDims, " loop levels after merging dims");
  return out;
}

// y = a op b for tensors of one kind; no graph.
Tensor binary_values(cpu::BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = op_name(op);
  check_same_kind(name, {a, b});
  if (a.shape() == b.shape()) {
    Tensor y = Tensor::empty(a.shape(), a.dtype(), a.device());
    dispatch(
        name, a,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::binary_same<T>(op, a.numel(), a.data<T>(), b.data<T>(), y.data<T>());
        },
        [&] {
          MT_GPU(binary_same)(op, a.numel(), a.data<float>(), b.data<float>(), y.data<float>(),
                              gpu::kElementwiseDefault);
        });
    return y;
  }
  cpu::BroadcastPlan plan;
  const Shape out = plan_for(name, a.shape(), b.shape(), &plan);
  Tensor y = Tensor::empty(out, a.dtype(), a.device());
  dispatch(
      name, a,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::binary_broadcast<T>(op, plan, a.data<T>(), b.data<T>(), y.data<T>());
      },
      [&] {
        MT_GPU(binary_broadcast)(op, plan, a.data<float>(), b.data<float>(), y.data<float>(),
                                 gpu::kElementwiseDefault);
      });
  return y;
}

// g (y's shape) summed down to `shape`, the shape of a broadcast input.
Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor out = Tensor::empty(shape, g.dtype(), g.device());
  dispatch(
      "sum_to_shape", g,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::sum_to_shape<T>(g.ndim(), g.shape().data(), out.ndim(), shape.data(), g.data<T>(),
                             out.data<T>());
      },
      [&] {
        MT_GPU(sum_to_shape)(g.ndim(), g.shape().data(), out.ndim(), shape.data(),
                             g.data<float>(), out.data<float>(), gpu::kReduceDefault);
      });
  return out;
}

Tensor negated(const Tensor& g) {
  Tensor out = Tensor::empty(g.shape(), g.dtype(), g.device());
  dispatch(
      "sub backward", g,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::mul_scalar<T>(g.numel(), g.data<T>(), T(-1), out.data<T>());
      },
      [&] {
        MT_GPU(mul_scalar)(g.numel(), g.data<float>(), -1.f, out.data<float>(),
                           gpu::kElementwiseDefault);
      });
  return out;
}

Tensor binary(cpu::BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor y = binary_values(op, a, b);
  // Which inputs need a gradient is known now; the backward skips the others.
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  const Shape a_shape = a.shape(), b_shape = b.shape();
  if (op == cpu::BinaryOp::kMul) {
    // Each input's gradient needs the other input: keep only what will be used.
    const Tensor sa = need_b ? a.detach() : Tensor(), sb = need_a ? b.detach() : Tensor();
    return record("mul", y, {a, b}, [=](const Tensor& dy) -> std::vector<Tensor> {
      Tensor da, db;
      if (need_a) da = sum_to(binary_values(cpu::BinaryOp::kMul, dy, sb), a_shape);
      if (need_b) db = sum_to(binary_values(cpu::BinaryOp::kMul, dy, sa), b_shape);
      return {da, db};
    });
  }
  return record(op_name(op), y, {a, b}, [=](const Tensor& dy) -> std::vector<Tensor> {
    Tensor da, db;
    if (need_a) da = sum_to(dy, a_shape);
    if (need_b) db = sum_to(dy, b_shape);
    if (need_b && op == cpu::BinaryOp::kSub) db = negated(db);
    return {da, db};
  });
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary(cpu::BinaryOp::kAdd, a, b);
}
Tensor sub(const Tensor& a, const Tensor& b) {
  return binary(cpu::BinaryOp::kSub, a, b);
}
Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(cpu::BinaryOp::kMul, a, b);
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch(
      "mul_scalar", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::mul_scalar<T>(x.numel(), x.data<T>(), T(s), y.data<T>());
      },
      [&] {
        MT_GPU(mul_scalar)(x.numel(), x.data<float>(), float(s), y.data<float>(),
                           gpu::kElementwiseDefault);
      });
  return record("mul_scalar", y, {x}, [s](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
    dispatch(
        "mul_scalar backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::mul_scalar<T>(dy.numel(), dy.data<T>(), T(s), dx.data<T>());
        },
        [&] {
          MT_GPU(mul_scalar)(dy.numel(), dy.data<float>(), float(s), dx.data<float>(),
                             gpu::kElementwiseDefault);
        });
    return {dx};
  });
}

Tensor add_scalar(const Tensor& x, double s) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch(
      "add_scalar", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::add_scalar<T>(x.numel(), x.data<T>(), T(s), y.data<T>());
      },
      [&] {
        MT_GPU(add_scalar)(x.numel(), x.data<float>(), float(s), y.data<float>(),
                           gpu::kElementwiseDefault);
      });
  // d(x + s)/dx = 1: the upstream gradient passes through unchanged.
  return record("add_scalar", y, {x}, [](const Tensor& dy) -> std::vector<Tensor> { return {dy}; });
}

}  // namespace medtex::ops
