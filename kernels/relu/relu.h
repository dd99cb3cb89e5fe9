// ReLU. Forward overwrites y; backward overwrites dx (it is not a parameter
// gradient, so nothing accumulates).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x, y: [n]. y = max(x, 0); NaN stays NaN (PyTorch's behaviour).
template <class T>
void relu_forward(int64_t n, const T* x, T* y);

// y: the forward output, dy, dx: [n]. dx = dy where y > 0, else 0 (PyTorch's
// choice at x = 0: gradient 0).
template <class T>
void relu_backward(int64_t n, const T* y, const T* dy, T* dx);

}  // namespace medtex::cpu
