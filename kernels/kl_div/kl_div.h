// KL divergence in PyTorch's F.kl_div(log_q, p, reduction="batchmean") form.
// The forward returns the loss in double; the backward overwrites dlog_q and
// dp (input gradients: nothing accumulates). A null gradient pointer skips
// that output.
//
// The loss is deterministic for any thread count: the elements are summed in
// fixed chunks of kFixedChunk (parallel.h), and the chunks in order.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// log_q, p: [n] (any shape, flattened), batch = the size of dim 0.
// Returns (1 / batch) sum_i p[i] * (log p[i] - log_q[i]), where terms with
// p[i] == 0 count 0 (the limit of p log p, and so also when log_q = -inf).
template <class T>
double kl_div_forward(int64_t n, int64_t batch, const T* log_q, const T* p);

// log_q, p, dlog_q, dp: [n]; scale = dloss / batch.
// dlog_q[i] = -scale * p[i]
// dp[i]     =  scale * (log p[i] + 1 - log_q[i])   where p[i] > 0
//           =  0                                   where p[i] == 0
// At p == 0 the true derivative is -inf (log p -> -inf) and PyTorch 1.13
// returns NaN; 0 is the gradient of the "0 * log 0 = 0" branch the forward
// takes there, and keeps one saturated probability from poisoning every
// gradient upstream of a softmax with NaN.
template <class T>
void kl_div_backward(int64_t n, const T* log_q, const T* p, double scale, T* dlog_q, T* dp);

}  // namespace medtex::cpu
