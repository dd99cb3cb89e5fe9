// The layers the nets are built from, each a thin Module over one op, with
// torch.nn's parameter names, shapes and default initialisation.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>

#include "engine/nn/module.h"
#include "engine/rng.h"

namespace medtex::nn {

class Conv2d : public Module {
 public:
  // weight: [out, in, k, k]; bias: [out] when `bias`.
  Conv2d(int in, int out, int kernel, int stride, int padding, bool bias, Generator& gen);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;  // bias undefined when absent
  int stride, padding;
};

class Linear : public Module {
 public:
  // weight: [out, in]; bias: [out] when `bias`.
  Linear(int in, int out, bool bias, Generator& gen);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
};

// Parameters weight (1), bias (0); buffers running_mean (0), running_var (1)
// and num_batches_tracked (int64 scalar), as torch.nn.BatchNorm2d.
class BatchNorm2d : public Module {
 public:
  explicit BatchNorm2d(int channels, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;
  double eps, momentum;
};

// While one is alive on this thread, BatchNorm2d layers in training mode still
// normalise with batch statistics but leave their running averages (and
// num_batches_tracked) untouched. The MED-TEX student's pass on masked images
// runs under it (DESIGN §5): masked images are not the distribution the
// student will see at test time.
class FreezeRunningStats {
 public:
  FreezeRunningStats();
  ~FreezeRunningStats();
  FreezeRunningStats(const FreezeRunningStats&) = delete;
  FreezeRunningStats& operator=(const FreezeRunningStats&) = delete;
  static bool active();

 private:
  bool prev_;
};

// Precise BatchNorm statistics (Wu & Johnson 2021, "Rethinking 'Batch' in
// BatchNorm", "PreciseBN"): sets the running mean and variance of every
// BatchNorm2d in `net` to the plain average, over `batches` forward passes
// in training mode with the current weights, of the batch statistics (mean;
// unbiased variance, as the running average uses); batch(i) is the input of
// pass i. The exponential average training keeps mixes statistics of weights
// that have since moved, and its eval-mode outputs can be far from what
// training saw; this gives the population estimate for the weights as they
// are. Nothing else changes: no graph, and the net's mode, the layers'
// momenta and num_batches_tracked are restored.
void precise_batchnorm(Module& net, int64_t batches, const std::function<Tensor(int64_t)>& batch);

class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class MaxPool2d : public Module {
 public:
  MaxPool2d(int kernel_, int stride_, int padding_ = 0)
      : kernel(kernel_), stride(stride_), padding(padding_) {}
  Tensor forward(const Tensor& x) override;
  int kernel, stride, padding;
};

// [N, C, H, W] -> [N, C]: adaptive average pooling to 1x1 followed by flatten.
class GlobalAvgPool : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

class Flatten : public Module {
 public:
  Tensor forward(const Tensor& x) override;
};

// Runs its children in order; they are named "0", "1", ... as in torch.nn.Sequential.
class Sequential : public Module {
 public:
  Sequential() = default;
  Sequential(std::initializer_list<std::shared_ptr<Module>> layers);
  void push_back(std::shared_ptr<Module> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return children().size(); }
};

}  // namespace medtex::nn
