// 2-d average pooling, PyTorch semantics with count_include_pad = true: the
// padding counts as zeros, so every window divides by kernel * kernel. Floor
// mode for the output size (a window then never reaches past the padding).
//
// Forward overwrites y; backward overwrites dx (an input gradient: nothing
// accumulates across calls).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// planes = N * C independent H x W images; square kernel, stride, padding.
// oh = (h + 2 * padding - kernel) / stride + 1, likewise ow.
struct AvgPool2dParams {
  int64_t planes = 0;
  int64_t h = 0, w = 0;
  int kernel = 1, stride = 1, padding = 0;
  int64_t oh = 0, ow = 0;
};

// x: [planes, h, w] -> y: [planes, oh, ow]. y = (sum of the window's inputs
// in row-major order) / (kernel * kernel).
template <class T>
void avgpool2d_forward(const AvgPool2dParams& p, const T* x, T* y);

// dy: [planes, oh, ow] -> dx: [planes, h, w]. Each output hands
// dy / (kernel * kernel) to every input of its window.
template <class T>
void avgpool2d_backward(const AvgPool2dParams& p, const T* dy, T* dx);

}  // namespace medtex::cpu
