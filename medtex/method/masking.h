// From a patch mask to a masked image (DESIGN §5): z [N, d] over a
// G_h x G_w grid of patch x patch squares (row-major, as the explainer lists
// its logits) becomes a pixel mask Z [N, 1, H, W] by nearest upsampling, and
//   x~ = x * Z + fill * (1 - Z)
// keeps the selected patches and replaces the rest by `fill` (0 by default:
// black, or the mean after normalisation). The gradient flows to x and to z
// (through Z), which is how the explainer learns from the student's pass on x~.
#pragma once

#include "engine/tensor.h"

namespace medtex::method {

// The patch size for images [N, C, H, W] and d patches: the p with
// (H / p) * (W / p) = d, p a power of two dividing H and W; fails with one
// line naming both shapes when there is none.
int patch_size_for(const Shape& images, int64_t d);

// z: [N, (H/patch) * (W/patch)] -> Z: [N, 1, H, W].
Tensor patch_mask_to_pixels(const Tensor& z, int patch, int64_t height, int64_t width);

// x: [N, C, H, W], z: [N, d] -> x~: [N, C, H, W].
Tensor apply_patch_mask(const Tensor& x, const Tensor& z, int patch, double fill = 0.0);

}  // namespace medtex::method
