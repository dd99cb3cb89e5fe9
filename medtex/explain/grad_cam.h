// Grad-CAM (Selvaraju et al. 2017) on the teacher: which regions of the last
// convolutional stage's feature maps A [N, K, h, w] drive the predicted
// class c. With the gradient of the class logit y_c,
//   alpha_k = (1 / (h w)) sum_{i,j} d y_c / d A_k[i, j]     (the spatial mean)
//   cam     = relu(sum_k alpha_k A_k)                        [N, h, w]
// The ReLU keeps the regions that raise y_c. For the patch grid the map is
// resized (resize_to_grid, patch_scores.h): area-averaged where it is finer
// than the grid, nearest-neighbour where it is coarser (ResNet-18's 2x2 map at
// 64x64 against the 8x8 grid: each map cell becomes a 4x4 block of equal
// scores, ties that select_topk breaks towards the lower patch index), or
// bilinear on request as in the paper. At such a coarse resolution Grad-CAM
// can only point to a quadrant; that is the method, not a bug. An earlier
// stage (`stage` 3: layer3, 4x4 at 64x64) trades some of the class
// specificity of the last stage for resolution, a common choice for small
// inputs; the demo uses it and says so.
#pragma once

#include <cstdint>
#include <functional>

#include "engine/tensor.h"
#include "medtex/explain/patch_scores.h"
#include "models/resnet18.h"

namespace medtex::explain {

// features: A [N, K, h, w] (values only; they are cut from any graph);
// head: the rest of the net, A -> logits [N, C], differentiable. Returns the
// cam [N, h, w] in A's dtype for `classes` (int [N]; undefined: the argmax of
// head(A)). Needs grad mode on; the head's parameters must be frozen by the
// caller if their .grad matters (grad_cam does that).
Tensor grad_cam_map(const Tensor& features, const std::function<Tensor(const Tensor&)>& head,
                    const Tensor& classes = Tensor());

// The teacher split as features / head after `stage` (models/resnet18.h; 4:
// the last stage, as in the paper), in eval mode,
// batch_size images at a time. x: [N, C, H, W] -> float32 [N, d] on the grid
// of patch x patch squares. The teacher's mode, parameters and .grad are left
// as they were.
Tensor grad_cam(models::ResNet18& teacher, const Tensor& x, int patch,
                Upsample up = Upsample::kNearest, int64_t batch_size = 64, int stage = 4);

}  // namespace medtex::explain
