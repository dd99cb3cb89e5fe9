// topk_mask: the hard selection used at evaluation time. Not differentiable:
// no node is recorded, so the mask never requires a gradient (a caller that
// multiplies an image by it gets gradients for the image only).
#include "kernels/topk_mask/topk_mask.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/topk_mask/topk_mask_cuda.h"

namespace medtex::ops {

Tensor topk_mask(const Tensor& x, int k) {
  MT_CHECK(x.ndim() == 2, "topk_mask: expects x [N, D], got ", x.shape());
  const int64_t N = x.size(0), D = x.size(1);
  MT_CHECK(k >= 1 && k <= D, "topk_mask: k = ", k, " out of range [1, ", D, "] for x ", x.shape());
  Tensor mask = Tensor::empty(x.shape(), x.dtype(), x.device());
  dispatch(
      "topk_mask", x,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::topk_mask<T>(N, D, k, x.data<T>(), mask.data<T>());
      },
      [&] {
        MT_GPU(topk_mask)(N, D, k, x.data<float>(), mask.data<float>(), gpu::kTopkMaskDefault);
      });
  return mask;
}

}  // namespace medtex::ops
