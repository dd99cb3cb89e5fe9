// Argument checks and output size shared by the pooling ops (max, avg):
// PyTorch's rules, floor mode.
#pragma once

#include <string>

#include "engine/tensor.h"

namespace medtex::ops::detail {

struct PoolGeometry {
  int64_t h, w, oh, ow;
};

inline PoolGeometry check_pool_args(const char* op, const Tensor& x, int kernel, int stride,
                                    int padding) {
  MT_CHECK(x.defined() && x.ndim() == 4, op, ": expected a 4-d input [N, C, H, W], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  MT_CHECK(kernel >= 1 && stride >= 1 && padding >= 0, op, ": kernel ", kernel, ", stride ",
           stride, ", padding ", padding, ": kernel and stride must be >= 1, padding >= 0");
  // PyTorch's limit: with more padding, a window could lie wholly in the pad.
  MT_CHECK(2 * padding <= kernel, op, ": padding ", padding, " is more than half the kernel ",
           kernel);
  const int64_t h = x.size(2), w = x.size(3);
  MT_CHECK(h + 2 * padding >= kernel && w + 2 * padding >= kernel, op, ": kernel ", kernel,
           " is larger than the padded input ", x.shape(), " (padding ", padding, ")");
  return {h, w, (h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1};
}

}  // namespace medtex::ops::detail
