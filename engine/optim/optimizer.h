// Optimisers: SGD (momentum, weight decay, Nesterov) and Adam / AdamW, with
// PyTorch's update rules (kernels/sgd, kernels/adam). A parameter whose .grad
// is undefined after backward() is skipped, as in PyTorch.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/tensor.h"
#include "kernels/adam/adam.h"
#include "kernels/sgd/sgd.h"

namespace medtex::optim {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  int64_t steps_taken() const { return steps_; }
  // Internal state tensors (momentum buffers, moments) with stable names, and
  // the step count: what a checkpoint must hold to resume bit for bit.
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  void set_steps_taken(int64_t steps) { steps_ = steps; }
  // Per-parameter counters, one per parameter in order, that state() does not
  // hold: Adam's update count t (its bias correction), SGD's "momentum buffer
  // started" flag (0 or 1). A parameter skipped on some steps (no gradient)
  // has a smaller count than steps_taken(). set_counters checks the length
  // and the range.
  virtual std::vector<int64_t> counters() const = 0;
  virtual void set_counters(const std::vector<int64_t>& counters) = 0;
  // The counter of a parameter that had a gradient on each of `steps` steps.
  virtual int64_t counter_after(int64_t steps) const = 0;

 protected:
  std::vector<Tensor> params_;
  double lr_;
  int64_t steps_ = 0;
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SgdOptions& options);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  std::vector<int64_t> counters() const override;
  void set_counters(const std::vector<int64_t>& counters) override;
  int64_t counter_after(int64_t steps) const override { return steps > 0 ? 1 : 0; }

 private:
  SgdOptions opt_;
  std::vector<Tensor> momentum_;  // one buffer per parameter (when momentum != 0)
  std::vector<bool> started_;     // buffer initialised (first step with a grad taken)
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled = false;  // AdamW
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& options);
  void step() override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  std::vector<int64_t> counters() const override;
  void set_counters(const std::vector<int64_t>& counters) override;
  int64_t counter_after(int64_t steps) const override { return steps; }

 private:
  AdamOptions opt_;
  std::vector<Tensor> m_, v_;
  std::vector<int64_t> t_;  // per-parameter step count, as PyTorch keeps it
};

// AdamW: Adam with decoupled weight decay (default 0.01, as torch.optim.AdamW).
inline AdamOptions adamw_defaults() {
  AdamOptions o;
  o.weight_decay = 0.01;
  o.decoupled = true;
  return o;
}

}  // namespace medtex::optim
