// Relaxed top-k selection of patches (L2X, Chen et al. 2018; VIBI, Bang et
// al. 2021): a differentiable stand-in for "keep the k patches with the
// largest explainer logits" during training, the hard top-k at evaluation.
//
// Each of k independent Gumbel-softmax samples
//   c_i = softmax((e + g_i) / tau),   g_i ~ Gumbel(0, 1)^d,   i = 1..k
// is a relaxed one-hot draw from Categorical(softmax(e)); their elementwise
// maximum z = max_i c_i is a relaxed k-hot vector in [0, 1]^d. As tau -> 0
// each c_i becomes the one-hot of argmax(e + g_i), so z has at most k ones
// (fewer when two draws pick the same patch); at tau = 0.5 it is already
// close to that. The gradient reaches e through the softmaxes, and through
// the max only via the sample that attains it (a subgradient of max).
#pragma once

#include "engine/rng.h"
#include "engine/tensor.h"

namespace medtex::method {

// The Gumbel noise relaxed_topk draws: [k, N, d] standard Gumbel values in the
// logits' dtype, from `gen`'s next Philox draw (ops::gumbel). Pass the
// trainer's generator forked once for "gumbel": each call advances it, so
// every step gets fresh noise and a rerun from the same seed the same noise.
Tensor gumbel_noise(int k, const Tensor& logits, Generator& gen);

// logits: [N, d], noise: [k, N, d] -> z: [N, d] in [0, 1], differentiable in
// logits (the noise is a constant). The explicit-noise form, for tests and
// for reproducing a draw.
Tensor relaxed_topk_from_noise(const Tensor& logits, const Tensor& noise, double tau);

// logits: [N, d] -> z: [N, d]: relaxed_topk_from_noise with fresh noise.
Tensor relaxed_topk(const Tensor& logits, int k, double tau, Generator& gen);

// Evaluation: 1 at the k largest logits of each row, 0 elsewhere (ties to the
// lower index); no gradient.
Tensor hard_topk(const Tensor& logits, int k);

}  // namespace medtex::method
