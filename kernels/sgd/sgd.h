// SGD update, PyTorch's torch.optim.SGD rule, applied in place to one
// parameter tensor. p and buf are overwritten; g is read only.
//
//   d = g + weight_decay * p
//   buf = d                                   (first step with momentum)
//   buf = momentum * buf + (1 - dampening) d  (later steps)
//   d = nesterov ? d + momentum * buf : buf   (when momentum != 0)
//   p = p - lr * d
#pragma once

#include <cstdint>

namespace medtex::cpu {

struct SgdParams {
  double lr = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
};

// p, g, buf: [n]. buf may be nullptr when momentum == 0.
template <class T>
void sgd_step(int64_t n, T* p, const T* g, T* buf, const SgdParams& params, bool first_step);

}  // namespace medtex::cpu
