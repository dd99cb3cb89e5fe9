// Parameter initialisation, with PyTorch's formulas so that a freshly built
// layer has the same distribution as its torch.nn twin.
#pragma once

#include "engine/rng.h"
#include "engine/tensor.h"

namespace medtex::nn::init {

// fan_in of a weight [out, in, ...]: in * prod(kernel dims); fan_out: out * prod(kernel dims).
int64_t fan_in(const Tensor& w);
int64_t fan_out(const Tensor& w);

// torch.nn.Conv2d / Linear default: kaiming_uniform_(a = sqrt(5)), which works
// out to U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the bias uses the same bound.
void default_uniform(Tensor& t, int64_t fan_in, Generator& gen);

// kaiming_normal_(mode = "fan_out", nonlinearity = "relu"): N(0, 2 / fan_out),
// what torchvision's ResNet uses for its convolutions.
void kaiming_normal_fan_out(Tensor& w, Generator& gen);

}  // namespace medtex::nn::init
