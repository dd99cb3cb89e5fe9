// softmax and log_softmax of x / temperature along one dim. Forward overwrites
// y; backward overwrites dx (an input gradient: nothing accumulates).
//
// The tensor is viewed as [outer, D, inner]: the softmax runs over D for each
// of the outer * inner rows, whose elements lie `inner` apart in memory.
// inv_temperature is 1 / T (T > 0, checked by the caller).
#pragma once

#include <cstdint>

namespace medtex::cpu {

// Shape of one softmax problem: x viewed as [outer, dim, inner].
struct SoftmaxShape {
  int64_t outer = 1;
  int64_t dim = 1;
  int64_t inner = 1;
};

// x, y: [outer, dim, inner]. y = softmax(x * inv_temperature) along dim,
// computed as exp(u - max u) / sum exp(u - max u) with u = x * inv_temperature,
// so no exp overflows.
template <class T>
void softmax_forward(const SoftmaxShape& s, T inv_temperature, const T* x, T* y);

// x, y: [outer, dim, inner]. y = u - max u - log(sum exp(u - max u)).
template <class T>
void log_softmax_forward(const SoftmaxShape& s, T inv_temperature, const T* x, T* y);

// y: the softmax output; dy, dx: [outer, dim, inner].
// dx = (dy - sum_dim(dy * y)) * y * inv_temperature.
template <class T>
void softmax_backward(const SoftmaxShape& s, T inv_temperature, const T* y, const T* dy, T* dx);

// y: the log_softmax output; dy, dx: [outer, dim, inner].
// dx = (dy - exp(y) * sum_dim(dy)) * inv_temperature.
template <class T>
void log_softmax_backward(const SoftmaxShape& s, T inv_temperature, const T* y, const T* dy, T* dx);

}  // namespace medtex::cpu
