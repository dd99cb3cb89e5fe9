// Finite-difference gradient checks in double.
//
// gradcheck(fn, inputs) runs fn on float64 inputs, back-propagates a fixed
// random projection R of the output (that is, the gradient of sum(out * R)),
// and compares every element of every input's gradient (inputs marked
// requires_grad) with the central difference
//   (f(x + eps) - f(x - eps)) / (2 eps),   f = sum(fn(x) * R).
// Central differences have error O(eps^2 * f'''): eps = 1e-6 in double leaves
// about 1e-9 of truncation and 1e-10 of rounding, hence atol = rtol = 1e-6.
#pragma once

#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "engine/tensor.h"

namespace medtex::test {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-6;
  uint64_t seed = 1234;  // for the projection R
};

using TensorFn = std::function<Tensor(const std::vector<Tensor>&)>;

::testing::AssertionResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs,
                                     const GradcheckOptions& options = {});

// A float64 tensor of the shape with values uniform in [lo, hi), from the seed.
Tensor random_double(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0);
// The same in float32.
Tensor random_float(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0);

}  // namespace medtex::test
