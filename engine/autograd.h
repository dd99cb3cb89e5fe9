// Reverse-mode autograd on a dynamic graph.
//
// Each differentiable op, when any input requires a gradient and grad mode is
// on, records one Node on its output: the op's name, its inputs, and a
// backward function mapping d(loss)/d(output) to one d(loss)/d(input) per
// input (an undefined Tensor where an input gets none). backward() walks the
// nodes in reverse topological order, sums the gradients that reach each
// intermediate tensor, and accumulates (+=) into the .grad of leaves.
//
// Saved tensors: a backward function must capture what it needs as detached
// tensors (t.detach()), never the output itself, so that the graph holds no
// reference cycle.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "engine/tensor.h"

namespace medtex {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_out)>;

struct Node {
  const char* op = "";
  std::vector<std::shared_ptr<TensorImpl>> inputs;
  BackwardFn backward;
};

// Whether ops record the graph on this thread (on by default).
bool grad_enabled();

// Turns recording off for its lifetime: evaluation, optimiser steps, and the
// inside of backward functions.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

// True when an op on these inputs must record a node.
bool needs_grad(std::initializer_list<Tensor> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Attaches a node to `out` when needs_grad(inputs); returns `out`. Inputs that
// are undefined (an absent bias, say) are allowed and get no gradient.
Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);

}  // namespace medtex
