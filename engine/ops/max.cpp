// max along a dim (differentiable) and argmax (not): forward and backward side
// by side.
//
// Backward of max: y picks one element per output, so dy flows to that
// element alone (the first maximal one, as the forward chose) and every other
// element gets 0.
#include "kernels/max/max.h"
#include "kernels/max/max_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

namespace {

struct Split {
  int64_t outer = 1, D = 1, inner = 1;
  Shape reduced, kept;  // without the dim, and with it set to 1
};

Split split(const char* op, const Tensor& x, int dim) {
  MT_CHECK(x.ndim() >= 1, op, ": needs a tensor with at least one dim, got ", x.shape());
  const int d = normalize_dim(op, dim, x.ndim());
  Split s;
  for (int i = 0; i < x.ndim(); ++i) {
    const int64_t e = x.shape()[size_t(i)];
    if (i < d) s.outer *= e;
    if (i > d) s.inner *= e;
    if (i == d) s.D = e;
    if (i != d) s.reduced.push_back(e);
    s.kept.push_back(i == d ? 1 : e);
  }
  MT_CHECK(s.D > 0, op, ": dim ", dim, " of ", x.shape(), " is empty; it has no maximum");
  return s;
}

}  // namespace

Tensor max(const Tensor& x, int dim, bool keepdim) {
  const Split s = split("max", x, dim);
  Tensor y = Tensor::empty(keepdim ? s.kept : s.reduced, x.dtype(), x.device());
  Tensor idx = Tensor::empty(s.reduced, DType::I64, x.device());
  dispatch(
      "max", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::max_forward<T>(s.outer, s.D, s.inner, x.data<T>(), y.data<T>(), idx.data<int64_t>());
      },
      [&] {
        MT_GPU(max_forward)(s.outer, s.D, s.inner, x.data<float>(), y.data<float>(),
                            idx.data<int64_t>(), gpu::kMaxDefault);
      });
  const Shape x_shape = x.shape();
  return record("max", y, {x}, [s, idx, x_shape](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(x_shape, dy.dtype(), dy.device());
    dispatch(
        "max backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::max_backward<T>(s.outer, s.D, s.inner, idx.data<int64_t>(), dy.data<T>(),
                               dx.data<T>());
        },
        [&] {
          MT_GPU(max_backward)(s.outer, s.D, s.inner, idx.data<int64_t>(), dy.data<float>(),
                               dx.data<float>(), gpu::kMaxDefault);
        });
    return {dx};
  });
}

Tensor argmax(const Tensor& x, int dim) {
  const Split s = split("argmax", x, dim);
  Tensor idx = Tensor::empty(s.reduced, DType::I64, x.device());
  dispatch(
      "argmax", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::max_forward<T>(s.outer, s.D, s.inner, x.data<T>(), nullptr, idx.data<int64_t>());
      },
      [&] {
        MT_GPU(max_forward)(s.outer, s.D, s.inner, x.data<float>(), nullptr, idx.data<int64_t>(),
                            gpu::kMaxDefault);
      });
  return idx;
}

}  // namespace medtex::ops
