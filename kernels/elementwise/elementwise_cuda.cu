// Launchers of elementwise_cuda.h, built for both backends (runtime/backend.h).
#include "kernels/elementwise/elementwise_cuda.h"

#include <cstdint>
#include <ostream>

#include "kernels/common/error.h"
#include "kernels/elementwise/elementwise_cuda.cuh"
#include "kernels/reduce/reduce.h"
#include "kernels/runtime/gpu.h"

namespace medtex::gpu::SIMT_NS {

namespace {

constexpr int kBlock = 256;
using kern::EwOp;

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

const char* op_name(EwOp op) {
  switch (op) {
    case EwOp::kAdd:
      return "add";
    case EwOp::kSub:
      return "sub";
    case EwOp::kMul:
      return "mul";
    case EwOp::kCopy:
    case EwOp::kDivide:
      return "expand";
  }
  return "?";
}

template <EwOp kOp>
void same(int64_t n, const float* a, const float* b, float* out, ElementwiseVersion v) {
  if (n <= 0) return;
  const bool vec =
      v == ElementwiseVersion::kV2Vec4 && aligned16(a) && aligned16(b) && aligned16(out);
  const auto kernel = vec ? kern::binary_same_v2<kOp> : kern::binary_same_v1<kOp>;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, a, b,
                     out),
        op_name(kOp), "n=", n, " v", int(v));
}

template <bool kMul>
void scalar(int64_t n, const float* x, float s, float* y, ElementwiseVersion v) {
  if (n <= 0) return;
  const bool vec = v == ElementwiseVersion::kV2Vec4 && aligned16(x) && aligned16(y);
  const auto kernel = vec ? kern::scalar_v2<kMul> : kern::scalar_v1<kMul>;
  const int64_t items = vec ? (n + 3) / 4 : n;
  check(
      simt::launch(kernel, dim3(blocks_for(items, kBlock)), dim3(kBlock), 0, stream(), n, x, s, y),
      kMul ? "mul_scalar" : "add_scalar", "n=", n, " v", int(v));
}

// "[4, 1, 6]": the plan's extents and strides for error messages.
struct PlanStr {
  const cpu::BroadcastPlan& p;
};
std::ostream& operator<<(std::ostream& s, PlanStr w) {
  s << "extents [";
  for (int d = 0; d < w.p.ndim; ++d) s << (d ? ", " : "") << w.p.extent[d];
  s << "] a strides [";
  for (int d = 0; d < w.p.ndim; ++d) s << (d ? ", " : "") << w.p.a_stride[d];
  s << "] b strides [";
  for (int d = 0; d < w.p.ndim; ++d) s << (d ? ", " : "") << w.p.b_stride[d];
  return s << "]";
}

template <EwOp kOp>
void broadcast(const cpu::BroadcastPlan& p, const float* a, const float* b, float divisor,
               float* out, ElementwiseVersion v) {
  int64_t total = 1;
  for (int d = 0; d < p.ndim; ++d) total *= p.extent[d];
  if (total <= 0) return;
  if (v == ElementwiseVersion::kV1Scalar || p.ndim == 0) {
    check(simt::launch(kern::broadcast_v1<kOp>, dim3(blocks_for(total, kBlock)), dim3(kBlock), 0,
                       stream(), p, total, a, b, divisor, out),
          op_name(kOp), PlanStr{p}, " v", int(v));
    return;
  }
  const int64_t L = p.extent[p.ndim - 1], rows = total / L;
  // kDivide stays scalar: four IEEE divisions (a subroutine call each on the
  // slow path) in the float4 kernel made ptxas spill.
  constexpr bool kCanVec = kOp != EwOp::kDivide;
  const bool vec = kCanVec && L % 4 == 0 && aligned16(a) && aligned16(b) && aligned16(out);
  const int64_t cols = vec ? L / 4 : L;
  // Threads across a row up to its length (at least a warp), the rest of the
  // 256 on further rows: short rows ([N, 3] + [3]) still fill the block.
  const int tx = cols <= 32 ? 32 : cols <= 64 ? 64 : cols <= 128 ? 128 : 256;
  const int ty = kBlock / tx;
  const dim3 grid(blocks_for(cols, tx), blocks_for(rows, ty));
  auto kernel = kern::broadcast_v2<kOp, false>;
  if constexpr (kCanVec) {
    if (vec) kernel = kern::broadcast_v2<kOp, true>;
  }
  check(simt::launch(kernel, grid, dim3(unsigned(tx), unsigned(ty)), 0, stream(), p, rows, a, b,
                     divisor, out),
        op_name(kOp), PlanStr{p}, " v", int(v));
}

}  // namespace

void binary_same(cpu::BinaryOp op, int64_t n, const float* a, const float* b, float* out,
                 ElementwiseVersion v) {
  switch (op) {
    case cpu::BinaryOp::kAdd:
      return same<EwOp::kAdd>(n, a, b, out, v);
    case cpu::BinaryOp::kSub:
      return same<EwOp::kSub>(n, a, b, out, v);
    case cpu::BinaryOp::kMul:
      return same<EwOp::kMul>(n, a, b, out, v);
  }
}

void binary_broadcast(cpu::BinaryOp op, const cpu::BroadcastPlan& plan, const float* a,
                      const float* b, float* out, ElementwiseVersion v) {
  switch (op) {
    case cpu::BinaryOp::kAdd:
      return broadcast<EwOp::kAdd>(plan, a, b, 1.f, out, v);
    case cpu::BinaryOp::kSub:
      return broadcast<EwOp::kSub>(plan, a, b, 1.f, out, v);
    case cpu::BinaryOp::kMul:
      return broadcast<EwOp::kMul>(plan, a, b, 1.f, out, v);
  }
}

void mul_scalar(int64_t n, const float* x, float s, float* y, ElementwiseVersion v) {
  scalar<true>(n, x, s, y, v);
}

void add_scalar(int64_t n, const float* x, float s, float* y, ElementwiseVersion v) {
  scalar<false>(n, x, s, y, v);
}

void expand(const cpu::BroadcastPlan& plan, const float* x, float divisor, float* y,
            ElementwiseVersion v) {
  // As on the CPU: a divisor of 1 copies (no division at all).
  if (divisor == 1.f) {
    broadcast<EwOp::kCopy>(plan, x, x, divisor, y, v);
  } else {
    broadcast<EwOp::kDivide>(plan, x, x, divisor, y, v);
  }
}

void sum_to_shape(int ndim, const int64_t* shape, int target_ndim, const int64_t* target,
                  const float* x, float* y, ReduceVersion v) {
  MT_CHECK(ndim <= cpu::kMaxReduceDims && target_ndim <= ndim, "sum_to_shape: ", ndim,
           " dims onto ", target_ndim);
  uint32_t mask = 0;
  for (int d = 0; d < ndim; ++d) {
    const int t = d - (ndim - target_ndim);
    const int64_t e = t >= 0 ? target[t] : 1;
    if (e == 1 && shape[d] != 1) mask |= 1u << d;
  }
  reduce_sum(ndim, shape, mask, x, y, 1.0, v);
}

}  // namespace medtex::gpu::SIMT_NS
