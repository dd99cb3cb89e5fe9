// Max and argmax along one dim. Forward overwrites y and idx; backward
// overwrites dx (an input gradient: nothing accumulates).
//
// The tensor is viewed as [outer, D, inner], the reduced dim in the middle.
// Ties go to the first (lowest) index, and a NaN counts as larger than any
// number (PyTorch propagates NaN through max the same way), so the result is
// one well-defined element per output.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [outer, D, inner], D >= 1; y: [outer, inner] or null (argmax only);
// idx: [outer, inner] (int64, the position along D).
template <class T>
void max_forward(int64_t outer, int64_t D, int64_t inner, const T* x, T* y, int64_t* idx);

// idx, dy: [outer, inner]; dx: [outer, D, inner]. dx = dy at the selected
// element, 0 elsewhere.
template <class T>
void max_backward(int64_t outer, int64_t D, int64_t inner, const int64_t* idx, const T* dy, T* dx);

}  // namespace medtex::cpu
