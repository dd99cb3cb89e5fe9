// reshape and flatten: views that share storage; the gradient is reshaped back.
#include "engine/ops.h"

namespace medtex::ops {

Tensor reshape(const Tensor& x, const Shape& shape) { return x.reshape(shape); }

Tensor flatten(const Tensor& x, int start_dim) {
  const int d = normalize_dim("flatten", start_dim, x.ndim());
  Shape s(x.shape().begin(), x.shape().begin() + d);
  s.push_back(-1);
  if (numel(x.shape()) == 0) s.back() = 0;
  return x.reshape(s);
}

}  // namespace medtex::ops
