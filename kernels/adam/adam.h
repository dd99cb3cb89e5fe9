// Adam and AdamW updates, PyTorch's torch.optim.Adam / AdamW rules, applied in
// place to one parameter tensor. p, m, v are overwritten; g is read only.
//
//   AdamW (decoupled):  p = p * (1 - lr * weight_decay)
//   Adam (L2):          g = g + weight_decay * p
//   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// Kingma & Ba, "Adam" (2015); Loshchilov & Hutter, "Decoupled Weight Decay
// Regularization" (2019).
#pragma once

#include <cstdint>

namespace medtex::cpu {

struct AdamParams {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool decoupled = false;  // true: AdamW
  int64_t step = 1;        // t, counted from 1
};

// p, g, m, v: [n].
template <class T>
void adam_step(int64_t n, T* p, const T* g, T* m, T* v, const AdamParams& params);

}  // namespace medtex::cpu
