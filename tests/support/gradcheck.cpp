#include "tests/support/gradcheck.h"

#include <cmath>
#include <sstream>

#include "engine/autograd.h"
#include "engine/rng.h"

namespace medtex::test {

Tensor random_double(const Shape& shape, uint64_t seed, double lo, double hi) {
  Tensor t = Tensor::empty(shape, DType::F64);
  Generator g(seed);
  g.uniform_(t, lo, hi);
  return t;
}

Tensor random_float(const Shape& shape, uint64_t seed, double lo, double hi) {
  Tensor t = Tensor::empty(shape, DType::F32);
  Generator g(seed);
  g.uniform_(t, lo, hi);
  return t;
}

namespace {
double projected(const Tensor& out, const Tensor& r) {
  const double* o = out.data<double>();
  const double* w = r.data<double>();
  double s = 0;
  for (int64_t i = 0; i < out.numel(); ++i) s += o[i] * w[i];
  return s;
}
}  // namespace

::testing::AssertionResult gradcheck(const TensorFn& fn, const std::vector<Tensor>& inputs,
                                     const GradcheckOptions& opt) {
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad() && t.dtype() != DType::F64) {
      return ::testing::AssertionFailure() << "gradcheck needs float64 inputs, got " << t.str();
    }
  }
  for (const Tensor& t : inputs) {
    if (t.defined()) t.impl().grad.reset();
  }
  Tensor out = fn(inputs);
  if (out.dtype() != DType::F64) {
    return ::testing::AssertionFailure() << "gradcheck: output is " << out.str();
  }
  if (!out.requires_grad()) {
    return ::testing::AssertionFailure() << "gradcheck: output does not require grad";
  }
  const Tensor r = random_double(out.shape(), opt.seed, -1.0, 1.0);
  out.backward(r);

  std::ostringstream msg;
  int64_t bad = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    const Tensor g = x.grad();
    if (!g.defined()) {
      return ::testing::AssertionFailure() << "input " << k << " received no gradient";
    }
    const double* analytic = g.data<double>();
    double* v = x.data<double>();
    NoGradGuard no_grad;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double keep = v[i];
      v[i] = keep + opt.eps;
      const double fp = projected(fn(inputs), r);
      v[i] = keep - opt.eps;
      const double fm = projected(fn(inputs), r);
      v[i] = keep;
      const double numeric = (fp - fm) / (2 * opt.eps);
      const double d = std::abs(numeric - analytic[i]);
      if (!(d <= opt.atol + opt.rtol * std::abs(numeric))) {
        if (bad < 6) {
          msg << "\n  input " << k << " " << x.shape() << " [" << i << "]: analytic "
              << analytic[i] << ", numeric " << numeric;
        }
        ++bad;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " gradient elements disagree:" << msg.str();
}

}  // namespace medtex::test
