// Every differentiable op of the engine, one line of contract each. Each op is
// implemented in engine/ops/<op>.cpp (forward call + backward rule, side by
// side) on top of the compute in kernels/<op>/. Shapes follow PyTorch's
// conventions (NCHW images, [N, C] logits), and so do the semantics: the
// fixtures in tests/fixtures/ops were written by PyTorch.
//
// All ops accept float32 and float64 (so gradients can be checked in double);
// label tensors are int32 or int64. Ops fail with an Error naming the op and
// the offending shapes, never with a crash.
#pragma once

#include <vector>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace medtex::ops {

// ---- convolution and dense layers -------------------------------------------
// x: [N, C, H, W], w: [K, C, R, S], b: [K] or undefined -> [N, K, OH, OW],
// OH = (H + 2 * padding - R) / stride + 1.
Tensor conv2d(const Tensor& x, const Tensor& w, const Tensor& b, int stride = 1, int padding = 0);
// x: [N, IN], w: [OUT, IN], b: [OUT] or undefined -> [N, OUT]  (y = x w^T + b).
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& b);

// ---- normalisation ------------------------------------------------------------
// x: [N, C, H, W]; weight, bias, running_mean, running_var: [C].
// training: normalise with the batch statistics (biased variance) and, when
// update_running, update the running averages in place as PyTorch does
// (running = (1 - momentum) * running + momentum * batch, unbiased variance).
// The MED-TEX masked pass uses training = true, update_running = false.
// Not training: normalise with the running statistics.
// Gradients flow to x, weight and bias; never to the running statistics.
Tensor batchnorm2d(const Tensor& x, const Tensor& weight, const Tensor& bias,
                   const Tensor& running_mean, const Tensor& running_var, bool training,
                   double momentum = 0.1, double eps = 1e-5, bool update_running = true);

// ---- activations and pooling ---------------------------------------------------
Tensor relu(const Tensor& x);
// x: [N, C, H, W]; padding pads with -inf (max) or zeros counted in the mean
// (avg, PyTorch's count_include_pad = true). Floor mode for the output size.
Tensor maxpool2d(const Tensor& x, int kernel, int stride, int padding = 0);
Tensor avgpool2d(const Tensor& x, int kernel, int stride, int padding = 0);
// x: [N, C, H, W] -> [N, C], the mean over H and W.
Tensor global_avgpool(const Tensor& x);
// x: [N, C, H, W] -> [N, C, H * factor, W * factor], each pixel repeated.
Tensor upsample_nearest(const Tensor& x, int factor);

// ---- elementwise, with NumPy broadcasting ------------------------------------
// Shapes are aligned from the right; an extent of 1 stretches. A mask
// [N, 1, H, W] times an image [N, 3, H, W] is the typical case. The gradient
// of a broadcast input is summed back to its own shape.
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul_scalar(const Tensor& x, double s);
Tensor add_scalar(const Tensor& x, double s);

// ---- reductions and shape -------------------------------------------------------
// Sum / mean over the listed dims (negative allowed; empty list = all dims).
Tensor sum(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int>& dims = {}, bool keepdim = false);
// Largest value along dim; the gradient goes to the first maximal element.
Tensor max(const Tensor& x, int dim, bool keepdim = false);
// Index of the first maximal element along dim, as int64; not differentiable.
Tensor argmax(const Tensor& x, int dim);
Tensor reshape(const Tensor& x, const Shape& shape);
// Collapses dims [start_dim, end] into one: [N, C, H, W] -> [N, C*H*W].
Tensor flatten(const Tensor& x, int start_dim = 1);

// ---- probabilities and losses ------------------------------------------------
// softmax(x / temperature) and log_softmax(x / temperature) along dim.
Tensor softmax(const Tensor& x, int dim = -1, double temperature = 1.0);
Tensor log_softmax(const Tensor& x, int dim = -1, double temperature = 1.0);
// Mean over the batch of -log softmax(logits)[label]. logits: [N, C], labels: int [N].
Tensor cross_entropy(const Tensor& logits, const Tensor& labels);
// Mean over the batch of -sum_c target[c] * log softmax(logits)[c]; target: [N, C]
// probabilities. Gradients flow to both.
Tensor cross_entropy_soft(const Tensor& logits, const Tensor& target);
// PyTorch's F.kl_div(log_q, p, reduction="batchmean"): sum p * (log p - log_q)
// divided by N (the size of dim 0), with 0 * log 0 = 0. Note the argument
// order: KL(p || q) is kl_div(log_q, p). Gradients flow to both.
Tensor kl_div(const Tensor& log_q, const Tensor& p);
// Mean over all elements of max(x, 0) - x * y + log(1 + exp(-|x|)) (stable).
Tensor bce_with_logits(const Tensor& logits, const Tensor& targets);

// ---- selection and noise (not differentiable) ----------------------------------
// x: [N, D] -> float mask [N, D] with 1 at the k largest entries of each row
// (ties broken towards the lower index), 0 elsewhere.
Tensor topk_mask(const Tensor& x, int k);
// Standard Gumbel noise -log(-log(u)), u ~ U(0, 1), from the generator's
// Philox stream: the same generator state gives the same bits on every backend.
Tensor gumbel(const Shape& shape, Generator& gen, DType dtype = DType::F32,
              Device device = Device::cpu());

}  // namespace medtex::ops
