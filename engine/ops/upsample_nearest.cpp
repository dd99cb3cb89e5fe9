// upsample_nearest: forward and backward side by side.
#include "kernels/upsample_nearest/upsample_nearest.h"
#include "kernels/upsample_nearest/upsample_nearest_cuda.h"
#include "engine/dispatch.h"
#include "engine/ops.h"

namespace medtex::ops {

Tensor upsample_nearest(const Tensor& x, int factor) {
  MT_CHECK(x.defined() && x.ndim() == 4,
           "upsample_nearest: expected a 4-d input [N, C, H, W], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  MT_CHECK(factor >= 1, "upsample_nearest: factor must be >= 1, got ", factor);
  const int64_t planes = x.size(0) * x.size(1);
  const int64_t h = x.size(2), w = x.size(3);

  Tensor y = Tensor::empty({x.size(0), x.size(1), h * factor, w * factor}, x.dtype(), x.device());
  dispatch(
      "upsample_nearest", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::upsample_nearest_forward<T>(planes, h, w, factor, x.data<T>(), y.data<T>());
      },
      [&] {
        MT_GPU(upsample_nearest_forward)(planes, h, w, factor, x.data<float>(), y.data<float>(),
                                         gpu::kUpsampleNearestDefault);
      });
  const Shape in_shape = x.shape();
  return record("upsample_nearest", y, {x}, [planes, h, w, factor, in_shape](const Tensor& dy) {
    Tensor dx = Tensor::empty(in_shape, dy.dtype(), dy.device());
    dispatch(
        "upsample_nearest backward", dy,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::upsample_nearest_backward<T>(planes, h, w, factor, dy.data<T>(), dx.data<T>());
        },
        [&] {
          MT_GPU(upsample_nearest_backward)(planes, h, w, factor, dy.data<float>(),
                                            dx.data<float>(), gpu::kUpsampleNearestDefault);
        });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace medtex::ops
