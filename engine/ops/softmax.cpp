// softmax and log_softmax of x / temperature along a dim: forward and backward
// side by side. The temperature softens the distribution (T > 1) or sharpens
// it (T < 1); knowledge distillation uses the same T for teacher and student.
#include <cmath>

#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/softmax/softmax.h"
#include "kernels/softmax/softmax_cuda.h"

namespace medtex::ops {

namespace {

// Views x as [outer, D, inner] around the softmax dim.
cpu::SoftmaxShape view_around(const char* op, const Tensor& x, int dim) {
  const int d = normalize_dim(op, dim, x.ndim());
  cpu::SoftmaxShape s;
  for (int i = 0; i < d; ++i) s.outer *= x.shape()[size_t(i)];
  s.dim = x.shape()[size_t(d)];
  for (int i = d + 1; i < x.ndim(); ++i) s.inner *= x.shape()[size_t(i)];
  return s;
}

// Both ops share everything but the kernels they call.
template <bool kLog>
Tensor softmax_like(const char* op, const char* op_backward, const Tensor& x, int dim,
                    double temperature) {
  MT_CHECK(std::isfinite(temperature) && temperature > 0, op, ": temperature must be a positive ",
           "finite number, got ", temperature, " (input ", x.str(), ")");
  const cpu::SoftmaxShape s = view_around(op, x, dim);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch(
      op, x,
      [&](auto zero) {
        using T = decltype(zero);
        const T inv_t = T(1.0 / temperature);
        if constexpr (kLog) {
          cpu::log_softmax_forward<T>(s, inv_t, x.data<T>(), y.data<T>());
        } else {
          cpu::softmax_forward<T>(s, inv_t, x.data<T>(), y.data<T>());
        }
      },
      [&] {
        const float inv_t = float(1.0 / temperature);
        if constexpr (kLog) {
          MT_GPU(log_softmax_forward)(s, inv_t, x.data<float>(), y.data<float>(),
                                      gpu::kSoftmaxDefault);
        } else {
          MT_GPU(softmax_forward)(s, inv_t, x.data<float>(), y.data<float>(), gpu::kSoftmaxDefault);
        }
      });
  // Both backward rules need only the output, never x.
  const Tensor saved_y = y.detach();
  return record(
      op, y, {x}, [saved_y, s, temperature, op_backward](const Tensor& dy) -> std::vector<Tensor> {
        Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
        dispatch(
            op_backward, dy,
            [&](auto zero) {
              using T = decltype(zero);
              const T inv_t = T(1.0 / temperature);
              if constexpr (kLog) {
                cpu::log_softmax_backward<T>(s, inv_t, saved_y.data<T>(), dy.data<T>(),
                                             dx.data<T>());
              } else {
                cpu::softmax_backward<T>(s, inv_t, saved_y.data<T>(), dy.data<T>(), dx.data<T>());
              }
            },
            [&] {
              const float inv_t = float(1.0 / temperature);
              if constexpr (kLog) {
                MT_GPU(log_softmax_backward)(s, inv_t, saved_y.data<float>(), dy.data<float>(),
                                             dx.data<float>(), gpu::kSoftmaxDefault);
              } else {
                MT_GPU(softmax_backward)(s, inv_t, saved_y.data<float>(), dy.data<float>(),
                                         dx.data<float>(), gpu::kSoftmaxDefault);
              }
            });
        return {dx};
      });
}

}  // namespace

Tensor softmax(const Tensor& x, int dim, double temperature) {
  return softmax_like<false>("softmax", "softmax backward", x, dim, temperature);
}

Tensor log_softmax(const Tensor& x, int dim, double temperature) {
  return softmax_like<true>("log_softmax", "log_softmax backward", x, dim, temperature);
}

}  // namespace medtex::ops
