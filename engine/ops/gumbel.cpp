// gumbel: standard Gumbel noise from the generator's Philox stream. A source
// of randomness, not a function of any tensor: no graph node.
#include "kernels/gumbel/gumbel.h"
#include "engine/dispatch.h"
#include "engine/ops.h"
#include "kernels/gumbel/gumbel_cuda.h"

namespace medtex::ops {

Tensor gumbel(const Shape& shape, Generator& gen, DType dtype, Device device) {
  for (int64_t e : shape) MT_CHECK(e >= 0, "gumbel: negative extent in shape ", shape);
  MT_CHECK(is_floating(dtype), "gumbel: expects float32 or float64, got ", dtype_name(dtype));
  Tensor out = Tensor::empty(shape, dtype, device);
  // Every call takes a fresh draw, even an empty one, so the number of calls
  // (not their sizes) decides where later draws start.
  const PhiloxDraw draw = gen.next_draw();
  dispatch(
      "gumbel", out,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::gumbel_fill<T>(out.numel(), draw, out.data<T>());
      },
      [&] { MT_GPU(gumbel_fill)(out.numel(), draw, out.data<float>(), gpu::kGumbelDefault); });
  return out;
}

}  // namespace medtex::ops
