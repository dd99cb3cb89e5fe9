// 2-d max pooling, PyTorch semantics: padding acts as -inf (padded positions
// are never selected), floor mode for the output size.
//
// Forward overwrites y and argmax; backward overwrites dx (an input gradient:
// nothing accumulates across calls).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// planes = N * C independent H x W images; square kernel, stride, padding.
// oh = (h + 2 * padding - kernel) / stride + 1, likewise ow.
struct MaxPool2dParams {
  int64_t planes = 0;
  int64_t h = 0, w = 0;
  int kernel = 1, stride = 1, padding = 0;
  int64_t oh = 0, ow = 0;
};

// x: [planes, h, w] -> y: [planes, oh, ow]; argmax: [planes, oh, ow] or null.
// argmax holds the flat index (ih * w + iw) inside the plane of the selected
// input: the first maximum in row-major window order, as PyTorch's CPU kernel
// picks it. A NaN in the window wins (the max of anything with NaN is NaN).
template <class T>
void maxpool2d_forward(const MaxPool2dParams& p, const T* x, T* y, int32_t* argmax);

// dy: [planes, oh, ow], argmax from the forward -> dx: [planes, h, w].
// dx[argmax[o]] receives the sum of dy[o] over the outputs o that chose it.
template <class T>
void maxpool2d_backward(const MaxPool2dParams& p, const int32_t* argmax, const T* dy, T* dx);

}  // namespace medtex::cpu
