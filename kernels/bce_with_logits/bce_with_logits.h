// Binary cross-entropy on logits, mean over all elements. The forward returns
// the loss in double; the backward overwrites dlogits and dtargets (input
// gradients: nothing accumulates). A null gradient pointer skips that output.
//
// The loss is deterministic for any thread count: the elements are summed in
// fixed chunks of kFixedChunk (parallel.h), and the chunks in order.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// x (logits), y (targets): [n], any shape flattened.
// Returns (1 / n) sum_i max(x, 0) - x y + log1p(exp(-|x|)), which equals
// -y log sigmoid(x) - (1 - y) log(1 - sigmoid(x)) but never takes the log of
// an underflowed sigmoid nor the exp of a large positive number.
template <class T>
double bce_with_logits_forward(int64_t n, const T* x, const T* y);

// x, y, dx, dy: [n]; scale = dloss / n.
// dx = scale * (sigmoid(x) - y),  dy = -scale * x.
template <class T>
void bce_with_logits_backward(int64_t n, const T* x, const T* y, double scale, T* dx, T* dy);

}  // namespace medtex::cpu
