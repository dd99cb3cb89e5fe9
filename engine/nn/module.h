// nn::Module: a node in a tree of layers that owns named parameters and
// buffers. Names are hierarchical in torchvision's style ("layer1.0.conv1.weight",
// "bn1.running_mean"), so a state dict exported from PyTorch loads by name.
//
// Models compose modules and call ops; they never pick a device or call a
// kernel (dispatch does, in engine/dispatch.h).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace medtex::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  virtual ~Module() = default;
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Parameters (trainable, requires_grad) and buffers (running statistics,
  // counters), depth first in registration order, with dotted names.
  NamedTensors named_parameters() const;
  NamedTensors named_buffers() const;
  std::vector<Tensor> parameters() const;
  // Parameters and buffers together, as PyTorch's state_dict().
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in by name. Every tensor of this module must be present with
  // the same shape and dtype; a mismatch fails naming the first offending
  // tensor and both shapes. With strict, extra names in `state` fail too.
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // Training mode (batch statistics in BatchNorm) or evaluation mode; recursive.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();
  int64_t num_parameters() const;  // total scalar count

  // Moves every parameter and floating-point buffer to `device`, in place:
  // handles to them (an optimiser's, a caller's) stay valid and see the new
  // storage. Integer buffers (counters) stay on the host. Gradients are
  // dropped. Call it before creating the optimiser.
  void to(Device device);
  // Where the parameters are (the CPU for a module without any).
  Device device() const;

  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }

 protected:
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }
  // Lets a subclass react to mode changes (none do yet beyond the flag).
  virtual void on_train(bool /*on*/) {}

 private:
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace medtex::nn
