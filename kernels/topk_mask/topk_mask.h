// Hard top-k mask: the evaluation-time selection of the k patches the
// explainer ranks highest. Forward only (a 0/1 selection has no useful
// gradient); the mask is overwritten.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x, mask: [N, D]; 1 <= k <= D. mask[n, j] = 1 when x[n, j] is among the k
// largest of row n, else 0. The ranking is a total order: larger value first,
// a NaN above every number, and equal values broken towards the lower index,
// so exactly k ones per row whatever the ties.
template <class T>
void topk_mask(int64_t N, int64_t D, int64_t k, const T* x, T* mask);

}  // namespace medtex::cpu
