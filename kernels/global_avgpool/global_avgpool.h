// Global average pooling: the mean of each H x W plane.
//
// Forward overwrites y; backward overwrites dx (an input gradient: nothing
// accumulates across calls).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x: [planes, hw] -> y: [planes]  (planes = N * C, hw = H * W).
// The sum is accumulated in double, in order, then divided by hw.
template <class T>
void global_avgpool_forward(int64_t planes, int64_t hw, const T* x, T* y);

// dy: [planes] -> dx: [planes, hw], dx = dy / hw spread over the plane.
template <class T>
void global_avgpool_backward(int64_t planes, int64_t hw, const T* dy, T* dx);

}  // namespace medtex::cpu
