// Small helpers the explanation methods share: batching a large set through
// a net without copying it, and leaving the nets as the caller had them.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/nn/module.h"
#include "engine/tensor.h"

namespace medtex::explain {

// Rows [begin, end) of t along dim 0, as a view on the same storage (no copy,
// no graph): the scoring and evaluation functions walk a whole test set in
// batches this way, so memory holds one batch's activations at a time.
Tensor rows(const Tensor& t, int64_t begin, int64_t end);

// Puts a module in evaluation mode (BatchNorm on its running statistics, so
// every image is scored independently of the others in its batch) for its
// lifetime and restores the previous mode after.
class EvalMode {
 public:
  explicit EvalMode(nn::Module& m) : m_(m), was_training_(m.is_training()) { m_.eval(); }
  ~EvalMode() { m_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  nn::Module& m_;
  bool was_training_;
};

// Turns requires_grad off on every parameter of a module for its lifetime.
// Saliency and Grad-CAM back-propagate through the teacher to its input or
// its feature maps only: this keeps the backward pass from computing weight
// gradients and from accumulating anything into the teacher's .grad.
class FrozenParameters {
 public:
  explicit FrozenParameters(nn::Module& m);
  ~FrozenParameters();
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<Tensor> params_;
  std::vector<bool> was_on_;
};

// The per-row class of a logits tensor [N, C]: `classes` (int32/int64 [N])
// where given, else the argmax of each row. Checked against C.
std::vector<int64_t> target_classes(const Tensor& logits, const Tensor& classes, const char* who);

// d(sum_n logits[n, c_n]) as a [N, C] tensor in the logits' dtype: one 1 per
// row. Back-propagating it gives every image the gradient of its own class's
// logit at once, which is exact because the nets run in eval mode (no
// coupling between the images of a batch).
Tensor class_selector(const Tensor& logits, const std::vector<int64_t>& classes);

}  // namespace medtex::explain
