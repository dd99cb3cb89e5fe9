#include "engine/nn/init.h"

#include <cmath>

namespace medtex::nn::init {

namespace {
int64_t receptive_field(const Tensor& w) {
  int64_t r = 1;
  for (int i = 2; i < w.ndim(); ++i) r *= w.size(i);
  return r;
}
}  // namespace

int64_t fan_in(const Tensor& w) {
  MT_CHECK(w.ndim() >= 2, "fan_in: weight ", w.str(), " has fewer than 2 dims");
  return w.size(1) * receptive_field(w);
}

int64_t fan_out(const Tensor& w) {
  MT_CHECK(w.ndim() >= 2, "fan_out: weight ", w.str(), " has fewer than 2 dims");
  return w.size(0) * receptive_field(w);
}

void default_uniform(Tensor& t, int64_t fan, Generator& gen) {
  const double bound = fan > 0 ? 1.0 / std::sqrt(double(fan)) : 0.0;
  gen.uniform_(t, -bound, bound);
}

void kaiming_normal_fan_out(Tensor& w, Generator& gen) {
  gen.normal_(w, 0.0, std::sqrt(2.0 / double(fan_out(w))));
}

}  // namespace medtex::nn::init
