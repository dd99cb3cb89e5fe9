#include "engine/nn/layers.h"

#include <string>
#include <vector>

#include "engine/autograd.h"
#include "engine/nn/init.h"
#include "engine/ops.h"

namespace medtex::nn {

Conv2d::Conv2d(int in, int out, int kernel, int stride_, int padding_, bool with_bias,
               Generator& gen)
    : stride(stride_), padding(padding_) {
  MT_CHECK(in > 0 && out > 0 && kernel > 0 && stride_ > 0 && padding_ >= 0,
           "Conv2d: bad configuration in=", in, " out=", out, " kernel=", kernel,
           " stride=", stride_, " padding=", padding_);
  Tensor w = Tensor::empty({out, in, kernel, kernel});
  const int64_t fan = init::fan_in(w);
  init::default_uniform(w, fan, gen);
  weight = register_parameter("weight", w);
  if (with_bias) {
    Tensor b = Tensor::empty({out});
    init::default_uniform(b, fan, gen);
    bias = register_parameter("bias", b);
  }
}

Tensor Conv2d::forward(const Tensor& x) { return ops::conv2d(x, weight, bias, stride, padding); }

Linear::Linear(int in, int out, bool with_bias, Generator& gen) {
  MT_CHECK(in > 0 && out > 0, "Linear: bad configuration in=", in, " out=", out);
  Tensor w = Tensor::empty({out, in});
  init::default_uniform(w, in, gen);
  weight = register_parameter("weight", w);
  if (with_bias) {
    Tensor b = Tensor::empty({out});
    init::default_uniform(b, in, gen);
    bias = register_parameter("bias", b);
  }
}

Tensor Linear::forward(const Tensor& x) { return ops::linear(x, weight, bias); }

namespace {
thread_local bool g_freeze_running_stats = false;
}

FreezeRunningStats::FreezeRunningStats() : prev_(g_freeze_running_stats) {
  g_freeze_running_stats = true;
}
FreezeRunningStats::~FreezeRunningStats() { g_freeze_running_stats = prev_; }
bool FreezeRunningStats::active() { return g_freeze_running_stats; }

BatchNorm2d::BatchNorm2d(int channels, double eps_, double momentum_)
    : eps(eps_), momentum(momentum_) {
  MT_CHECK(channels > 0, "BatchNorm2d: bad channel count ", channels);
  weight = register_parameter("weight", Tensor::ones({channels}));
  bias = register_parameter("bias", Tensor::zeros({channels}));
  running_mean = register_buffer("running_mean", Tensor::zeros({channels}));
  running_var = register_buffer("running_var", Tensor::ones({channels}));
  num_batches_tracked = register_buffer("num_batches_tracked", Tensor::zeros({}, DType::I64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  const bool update = is_training() && !FreezeRunningStats::active();
  if (update) num_batches_tracked.data<int64_t>()[0] += 1;
  return ops::batchnorm2d(x, weight, bias, running_mean, running_var, is_training(), momentum, eps,
                          update);
}

namespace {
void collect_batchnorms(Module& m, std::vector<BatchNorm2d*>& out) {
  if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) out.push_back(bn);
  for (const auto& [name, child] : m.children()) collect_batchnorms(*child, out);
}
}  // namespace

void precise_batchnorm(Module& net, int64_t batches, const std::function<Tensor(int64_t)>& batch) {
  MT_CHECK(batches >= 1, "precise_batchnorm: needs at least one batch, got ", batches);
  MT_CHECK(!FreezeRunningStats::active(),
           "precise_batchnorm: called under FreezeRunningStats, which would keep the statistics");
  std::vector<BatchNorm2d*> bns;
  collect_batchnorms(net, bns);
  if (bns.empty()) return;
  std::vector<double> momenta;
  std::vector<int64_t> tracked;
  for (BatchNorm2d* bn : bns) {
    momenta.push_back(bn->momentum);
    tracked.push_back(bn->num_batches_tracked.data<int64_t>()[0]);
  }
  const bool was_training = net.is_training();
  auto restore = [&] {
    for (size_t i = 0; i < bns.size(); ++i) {
      bns[i]->momentum = momenta[i];
      bns[i]->num_batches_tracked.data<int64_t>()[0] = tracked[i];
    }
    net.train(was_training);
  };
  try {
    net.train();
    NoGradGuard no_grad;
    for (int64_t t = 0; t < batches; ++t) {
      // Momentum 1 / (t + 1): after pass t the running value is the mean of
      // the t + 1 batch values (pass 0 replaces the old one outright).
      for (BatchNorm2d* bn : bns) bn->momentum = 1.0 / double(t + 1);
      net.forward(batch(t));
    }
  } catch (...) {
    restore();
    throw;
  }
  restore();
}

Tensor ReLU::forward(const Tensor& x) { return ops::relu(x); }

Tensor MaxPool2d::forward(const Tensor& x) { return ops::maxpool2d(x, kernel, stride, padding); }

Tensor GlobalAvgPool::forward(const Tensor& x) { return ops::global_avgpool(x); }

Tensor Flatten::forward(const Tensor& x) { return ops::flatten(x, 1); }

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> layers) {
  for (const auto& l : layers) push_back(l);
}

void Sequential::push_back(std::shared_ptr<Module> layer) {
  register_module(std::to_string(children().size()), std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (const auto& [name, layer] : children()) h = layer->forward(h);
  return h;
}

}  // namespace medtex::nn
