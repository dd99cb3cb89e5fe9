// global_avgpool: forward and backward side by side.
#include "kernels/global_avgpool/global_avgpool.h"
#include "kernels/global_avgpool/global_avgpool_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

Tensor global_avgpool(const Tensor& x) {
  MT_CHECK(x.defined() && x.ndim() == 4, "global_avgpool: expected a 4-d input [N, C, H, W], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t hw = x.size(2) * x.size(3);
  MT_CHECK(hw > 0, "global_avgpool: input ", x.shape(), " has no pixels to average");

  Tensor y = Tensor::empty({x.size(0), x.size(1)}, x.dtype(), x.device());
  dispatch(
      "global_avgpool", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::global_avgpool_forward<T>(planes, hw, x.data<T>(), y.data<T>());
      },
      [&] {
        MT_GPU(global_avgpool_forward)(planes, hw, x.data<float>(), y.data<float>(),
                                       gpu::kGlobalAvgPoolDefault);
      });
  const Shape in_shape = x.shape();
  return record("global_avgpool", y, {x}, [planes, hw, in_shape](const Tensor& dy) {
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    dispatch(
        "global_avgpool backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::global_avgpool_backward<T>(planes, hw, dy.data<T>(), dx.data<T>());
        },
        [&] {
          MT_GPU(global_avgpool_backward)(planes, hw, dy.data<float>(), dx.data<float>(),
                                          gpu::kGlobalAvgPoolDefault);
        });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace medtex::ops
