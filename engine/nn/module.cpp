#include "engine/nn/module.h"


namespace medtex::nn {

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, t] : params ? params_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [name, t] : named_parameters()) out.emplace(name, t);
  for (auto& [name, t] : named_buffers()) out.emplace(name, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  const auto mine = state_dict();
  // Check everything before changing anything: a failed load leaves the model as it was.
  for (const auto& [name, t] : mine) {
    auto it = state.find(name);
    MT_CHECK(it != state.end(), "load_state_dict: missing tensor '", name, "' (shape ", t.shape(),
             ")");
    MT_CHECK(it->second.shape() == t.shape(), "load_state_dict: tensor '", name, "' has shape ",
             it->second.shape(), " in the file but ", t.shape(), " in the model");
    MT_CHECK(it->second.dtype() == t.dtype(), "load_state_dict: tensor '", name, "' is ",
             dtype_name(it->second.dtype()), " in the file but ", dtype_name(t.dtype()),
             " in the model");
  }
  if (strict) {
    for (const auto& [name, t] : state) {
      MT_CHECK(mine.count(name), "load_state_dict: unexpected tensor '", name, "' (shape ",
               t.shape(), ") not in the model");
    }
  }
  for (const auto& [name, t] : mine) {
    Tensor dst = t;
    dst.copy_from(state.at(name));
  }
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters()) t.zero_grad();
}

void Module::to(Device device) {
  auto move = [&](const NamedTensors& ts) {
    for (const auto& [name, t] : ts) {
      // Integer buffers are host bookkeeping (BatchNorm's num_batches_tracked
      // is incremented on the host every step): they stay on the CPU.
      if (t.device() == device || !is_floating(t.dtype())) continue;
      const Tensor moved = t.detach().to(device);
      t.impl().storage = moved.impl().storage;
      t.impl().offset = moved.impl().offset;
      t.impl().grad.reset();
    }
  };
  move(named_parameters());
  move(named_buffers());
}

Device Module::device() const {
  const NamedTensors p = named_parameters();
  return p.empty() ? Device::cpu() : p.front().second.device();
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  for (auto& [n, existing] : params_) MT_CHECK(n != name, "duplicate parameter name '", name, "'");
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  for (auto& [n, existing] : buffers_) MT_CHECK(n != name, "duplicate buffer name '", name, "'");
  buffers_.emplace_back(name, t);
  return t;
}

}  // namespace medtex::nn
