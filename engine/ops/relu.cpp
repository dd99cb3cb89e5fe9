// relu: forward and backward side by side.
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/relu/relu.h"
#include "kernels/relu/relu_cuda.h"

namespace medtex::ops {

Tensor relu(const Tensor& x) {
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch(
      "relu", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::relu_forward<T>(x.numel(), x.data<T>(), y.data<T>());
      },
      [&] {
        MT_GPU(relu_forward)(x.numel(), x.data<float>(), y.data<float>(), gpu::kReluDefault);
      });
  const Tensor saved_y = y.detach();
  return record("relu", y, {x}, [saved_y](const Tensor& dy) -> std::vector<Tensor> {
    Tensor dx = Tensor::empty(dy.shape(), dy.dtype(), dy.device());
    dispatch(
        "relu backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::relu_backward<T>(dy.numel(), saved_y.data<T>(), dy.data<T>(), dx.data<T>());
        },
        [&] {
          MT_GPU(relu_backward)(dy.numel(), saved_y.data<float>(), dy.data<float>(),
                                dx.data<float>(), gpu::kReluDefault);
        });
    return {dx};
  });
}

}  // namespace medtex::ops
