// Cross-entropy of logits against hard labels or soft targets, with the
// log-softmax fused in. Forwards return the loss (a mean over the batch, in
// double) and overwrite lse; backwards overwrite dlogits / dtarget (input
// gradients: nothing accumulates). A null gradient pointer skips that output.
//
// lse[i] = log sum_c exp(logits[i, c]) is what both backwards need from the
// forward: softmax(logits)[i, c] = exp(logits[i, c] - lse[i]) in one pass.
// It is kept in double so the backward's softmax is as exact as the loss.
//
// The loss is deterministic for any thread count: rows are computed in
// parallel into a buffer, then summed in row order.
#pragma once

#include <cstdint>

namespace medtex::cpu {

// labels: [n]. The first row whose label is outside [0, c), or -1 if none.
template <class I>
int64_t cross_entropy_first_bad_label(int64_t n, int64_t c, const I* labels);

// logits: [n, c], labels: [n] (all in [0, c), checked by the caller), lse: [n].
// Returns (1 / n) sum_i (lse[i] - logits[i, labels[i]]).
template <class T, class I>
double cross_entropy_forward(int64_t n, int64_t c, const T* logits, const I* labels, double* lse);

// logits, dlogits: [n, c]; labels, lse: [n].
// dlogits[i, c] = scale * (softmax[i, c] - [c == labels[i]]), scale = dloss / n.
template <class T, class I>
void cross_entropy_backward(int64_t n, int64_t c, const T* logits, const I* labels,
                            const double* lse, double scale, T* dlogits);

// logits, target: [n, c], lse: [n].
// Returns (1 / n) sum_i sum_c -target[i, c] * (logits[i, c] - lse[i]).
template <class T>
double cross_entropy_soft_forward(int64_t n, int64_t c, const T* logits, const T* target,
                                  double* lse);

// logits, target, dlogits, dtarget: [n, c]; lse: [n]; scale = dloss / n.
// dlogits[i, c] = scale * (softmax[i, c] * sum_k target[i, k] - target[i, c])
// dtarget[i, c] = scale * (lse[i] - logits[i, c])      (= -scale * log_softmax)
template <class T>
void cross_entropy_soft_backward(int64_t n, int64_t c, const T* logits, const T* target,
                                 const double* lse, double scale, T* dlogits, T* dtarget);

}  // namespace medtex::cpu
