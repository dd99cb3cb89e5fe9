#include "engine/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "engine/dispatch.h"
#include "kernels/memory/memory.h"
#include "kernels/memory/memory_cuda.h"

namespace medtex {

namespace {
thread_local bool g_grad_enabled = true;

// a + b as a new tensor: gradients are summed out of place, because a
// backward function may hand the same tensor to several inputs.
Tensor sum_of(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  dispatch(
      "grad accumulation", a,
      [&](auto zero) {
        using T = decltype(zero);
        cpu::add_into<T>(a.numel(), a.data<T>(), b.data<T>(), out.data<T>());
      },
      [&] { MT_GPU(add_into)(a.numel(), a.data<float>(), b.data<float>(), out.data<float>()); });
  return out;
}

void accumulate(Tensor& slot, const Tensor& g) { slot = slot.defined() ? sum_of(slot, g) : g; }

void accumulate_leaf(TensorImpl& leaf, const Tensor& g) {
  Tensor current = leaf.grad ? Tensor(leaf.grad) : Tensor();
  // A fresh copy the first time: the leaf must not alias a tensor the graph still uses.
  Tensor next = current.defined() ? sum_of(current, g) : g.copy();
  leaf.grad = next.impl_ptr();
}

// Nodes reachable from root, each after every node that consumes its output.
std::vector<Node*> reverse_topological(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack = {{root, 0}};
  seen.insert(root);
  while (!stack.empty()) {
    auto& [node, next_input] = stack.back();
    if (next_input < node->inputs.size()) {
      const auto& in = node->inputs[next_input++];
      Node* child = in ? in->grad_fn.get() : nullptr;
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return {order.rbegin(), order.rend()};
}
}  // namespace

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

bool needs_grad(std::initializer_list<Tensor> inputs) {
  return needs_grad(std::vector<Tensor>(inputs));
}

Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!needs_grad(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->backward = std::move(backward);
  for (const Tensor& t : inputs) node->inputs.push_back(t.defined() ? t.impl_ptr() : nullptr);
  out.impl().grad_fn = std::move(node);
  out.impl().requires_grad = true;
  return out;
}

void Tensor::backward(const Tensor& grad_in) const {
  MT_CHECK(requires_grad(), "backward: tensor ", str(), " does not require grad");
  Tensor seed = grad_in;
  if (!seed.defined()) {
    MT_CHECK(numel() == 1, "backward: ", str(),
             " is not a scalar; pass the gradient of the loss with respect to it");
    seed = Tensor::ones(shape(), dtype(), device());
  }
  MT_CHECK(seed.shape() == shape() && seed.dtype() == dtype() && seed.device() == device(),
           "backward: gradient ", seed.str(), " does not match tensor ", str());
  if (is_leaf()) {
    accumulate_leaf(impl(), seed);
    return;
  }

  NoGradGuard no_grad;  // backward rules compute plain values
  std::unordered_map<Node*, Tensor> grads;
  grads[impl().grad_fn.get()] = seed;
  for (Node* node : reverse_topological(impl().grad_fn.get())) {
    auto it = grads.find(node);
    if (it == grads.end()) continue;
    const Tensor g_out = it->second;
    grads.erase(it);  // frees intermediate gradients as soon as they are used
    std::vector<Tensor> g_in = node->backward(g_out);
    MT_CHECK(g_in.size() == node->inputs.size(), "autograd: backward of ", node->op, " returned ",
             g_in.size(), " gradients for ", node->inputs.size(), " inputs");
    for (size_t i = 0; i < g_in.size(); ++i) {
      TensorImpl* in = node->inputs[i].get();
      if (!in || !in->requires_grad || !g_in[i].defined()) continue;
      MT_CHECK(g_in[i].shape() == in->shape && g_in[i].dtype() == in->dtype, "autograd: ",
               node->op, " produced a gradient ", g_in[i].str(), " for input ", i, " of shape ",
               in->shape);
      if (in->grad_fn) {
        accumulate(grads[in->grad_fn.get()], g_in[i]);
      } else {
        accumulate_leaf(*in, g_in[i]);
      }
    }
  }
}

void check_same_kind(const char* op, std::initializer_list<Tensor> tensors) {
  const Tensor* first = nullptr;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (!first) {
      first = &t;
      continue;
    }
    MT_CHECK(t.device() == first->device(), op, ": tensors on different devices (", first->str(),
             " and ", t.str(), ")");
    MT_CHECK(t.dtype() == first->dtype(), op, ": mixed element types (", first->str(), " and ",
             t.str(), ")");
  }
}

}  // namespace medtex
