#include "tests/support/compare.h"

#include <cmath>
#include <cstring>
#include <sstream>

namespace medtex::test {

namespace {
std::vector<double> as_doubles(const Tensor& t) { return t.to(DType::F64).to_vector<double>(); }
}  // namespace

::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol,
                                     double rtol) {
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.shape() << " != expected " << expected.shape();
  }
  const auto a = as_doubles(actual), e = as_doubles(expected);
  std::ostringstream first;
  int64_t bad = 0;
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - e[i]);
    const bool ok = d <= atol + rtol * std::abs(e[i]);  // NaN compares false: a failure
    if (!ok) {
      if (bad < 5) first << "\n  [" << i << "] got " << a[i] << ", expected " << e[i];
      ++bad;
    }
    if (!(d <= worst)) worst = d;
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << a.size() << " elements differ (atol "
                                       << atol << ", rtol " << rtol << ", max |diff| " << worst
                                       << "):" << first.str();
}

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const auto x = as_doubles(a), y = as_doubles(b);
  double worst = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    const double d = std::abs(x[i] - y[i]);
    if (!(d <= worst)) worst = d;
  }
  return worst;
}

bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0;
}

}  // namespace medtex::test
