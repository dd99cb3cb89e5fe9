#include "engine/optim/optimizer.h"

#include "engine/dispatch.h"
#include "kernels/adam/adam_cuda.h"
#include "kernels/sgd/sgd_cuda.h"

namespace medtex::optim {

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  for (const Tensor& p : params_) {
    MT_CHECK(p.defined() && p.requires_grad() && p.is_leaf(),
             "optimizer: every parameter must be a leaf that requires grad");
  }
}

void Optimizer::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

SGD::SGD(std::vector<Tensor> params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), opt_(options) {
  MT_CHECK(!opt_.nesterov || (opt_.momentum > 0 && opt_.dampening == 0),
           "SGD: Nesterov momentum needs momentum > 0 and dampening = 0");
  for (const Tensor& p : params_) {
    // State lives beside its parameter (on the GPU for a GPU parameter).
    momentum_.push_back(opt_.momentum != 0 ? Tensor::zeros(p.shape(), p.dtype(), p.device())
                                           : Tensor());
  }
  started_.assign(params_.size(), false);
}

void SGD::step() {
  cpu::SgdParams s{lr_, opt_.momentum, opt_.dampening, opt_.weight_decay, opt_.nesterov};
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    check_same_kind("sgd step", {p, g, momentum_[i]});
    dispatch(
        "sgd step", p,
        [&](auto zero) {
          using T = decltype(zero);
          T* buf = momentum_[i].defined() ? momentum_[i].data<T>() : nullptr;
          cpu::sgd_step<T>(p.numel(), p.data<T>(), g.data<T>(), buf, s, !started_[i]);
        },
        [&] {
          float* buf = momentum_[i].defined() ? momentum_[i].data<float>() : nullptr;
          MT_GPU(sgd_step)(p.numel(), p.data<float>(), g.data<float>(), buf, s, !started_[i],
                           gpu::kSgdDefault);
        });
    started_[i] = true;
  }
  ++steps_;
}

std::vector<std::pair<std::string, Tensor>> SGD::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (momentum_[i].defined()) out.emplace_back("momentum." + std::to_string(i), momentum_[i]);
  }
  return out;
}

std::vector<int64_t> SGD::counters() const {
  return std::vector<int64_t>(started_.begin(), started_.end());
}

void SGD::set_counters(const std::vector<int64_t>& counters) {
  MT_CHECK(counters.size() == params_.size(), "SGD: ", counters.size(), " counters for ",
           params_.size(), " parameters");
  for (size_t i = 0; i < counters.size(); ++i) {
    MT_CHECK(counters[i] == 0 || counters[i] == 1, "SGD: counter ", i, " is ", counters[i],
             " (a started flag: 0 or 1)");
    started_[i] = counters[i] == 1;
  }
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options)
    : Optimizer(std::move(params), options.lr), opt_(options) {
  for (const Tensor& p : params_) {
    m_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
    v_.push_back(Tensor::zeros(p.shape(), p.dtype(), p.device()));
  }
  t_.assign(params_.size(), 0);
}

void Adam::step() {
  for (size_t i = 0; i < params_.size(); ++i) {
    Tensor& p = params_[i];
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    cpu::AdamParams a{lr_, opt_.beta1, opt_.beta2, opt_.eps, opt_.weight_decay, opt_.decoupled,
                      ++t_[i]};
    check_same_kind("adam step", {p, g, m_[i], v_[i]});
    dispatch(
        "adam step", p,
        [&](auto zero) {
          using T = decltype(zero);
          cpu::adam_step<T>(p.numel(), p.data<T>(), g.data<T>(), m_[i].data<T>(), v_[i].data<T>(),
                            a);
        },
        [&] {
          MT_GPU(adam_step)(p.numel(), p.data<float>(), g.data<float>(), m_[i].data<float>(),
                            v_[i].data<float>(), a, gpu::kAdamDefault);
        });
  }
  ++steps_;
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("exp_avg." + std::to_string(i), m_[i]);
    out.emplace_back("exp_avg_sq." + std::to_string(i), v_[i]);
  }
  return out;
}

std::vector<int64_t> Adam::counters() const {
  return t_;
}

void Adam::set_counters(const std::vector<int64_t>& counters) {
  MT_CHECK(counters.size() == params_.size(), "Adam: ", counters.size(), " counters for ",
           params_.size(), " parameters");
  for (size_t i = 0; i < counters.size(); ++i) {
    MT_CHECK(counters[i] >= 0, "Adam: counter ", i, " is negative (", counters[i], ")");
  }
  t_ = counters;
}

}  // namespace medtex::optim
