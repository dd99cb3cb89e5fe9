#include "medtex/method/masking.h"

#include "engine/ops.h"
#include "models/explainer.h"

namespace medtex::method {

int patch_size_for(const Shape& images, int64_t d) {
  MT_CHECK(images.size() == 4, "masking: expects images [N, C, H, W], got ", images);
  const int64_t h = images[2], w = images[3];
  for (int64_t p = 1; p <= h && p <= w; p *= 2) {
    if (h % p == 0 && w % p == 0 && (h / p) * (w / p) == d) return int(p);
  }
  fail("masking: images ", images, " do not split into ", d,
       " square patches of a power-of-two size");
}

Tensor patch_mask_to_pixels(const Tensor& z, int patch, int64_t height, int64_t width) {
  const int64_t d = models::patch_count(patch, height, width);
  MT_CHECK(z.defined() && z.ndim() == 2 && z.size(1) == d, "masking: a ", height, "x", width,
           " image in ", patch, "x", patch, " patches needs a mask [N, ", d, "], got ",
           z.defined() ? z.str() : std::string("an undefined tensor"));
  const Tensor grid = ops::reshape(z, {z.size(0), 1, height / patch, width / patch});
  return patch == 1 ? grid : ops::upsample_nearest(grid, patch);
}

Tensor apply_patch_mask(const Tensor& x, const Tensor& z, int patch, double fill) {
  MT_CHECK(x.defined() && x.ndim() == 4, "masking: expects images [N, C, H, W], got ",
           x.defined() ? x.str() : std::string("an undefined tensor"));
  MT_CHECK(z.defined() && z.ndim() == 2 && z.size(0) == x.size(0), "masking: images ", x.shape(),
           " and mask ", z.defined() ? z.str() : std::string("undefined"),
           " disagree on the batch size");
  const Tensor pixels = patch_mask_to_pixels(z, patch, x.size(2), x.size(3));  // [N, 1, H, W]
  if (fill == 0.0) return ops::mul(x, pixels);
  // x * Z + fill * (1 - Z) literally, not (x - fill) * Z + fill: where Z = 1
  // the kept pixels stay bit-identical to the image's.
  const Tensor background =
      ops::mul_scalar(ops::add_scalar(ops::mul_scalar(pixels, -1.0), 1.0), fill);
  return ops::add(ops::mul(x, pixels), background);
}

}  // namespace medtex::method
