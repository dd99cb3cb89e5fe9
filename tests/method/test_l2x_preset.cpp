// MedtexConfig::l2x() (medtex/method/objective.h): the explanation baseline
// "explainer trained without distillation" (L2X / VIBI).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "medtex/method/objective.h"
#include "tests/support/gradcheck.h"

namespace medtex {
namespace {

TEST(L2xPreset, NoDistillationNoLabelsEverythingElseDefault) {
  const method::MedtexConfig d, l = method::MedtexConfig::l2x();
  EXPECT_EQ(l.a, 0.0);
  EXPECT_EQ(l.h, 0.0);
  EXPECT_EQ(l.b, d.b);
  EXPECT_EQ(l.c, d.c);
  EXPECT_EQ(l.temperature, d.temperature);
  EXPECT_EQ(l.tau, d.tau);
  EXPECT_EQ(l.k, d.k);
  EXPECT_EQ(l.fill, d.fill);
  // The total is b * explain + c * prior; the student's full-image logits
  // get no gradient, labels or not.
  const Tensor t = test::random_double({3, 4}, 1);
  Tensor s = test::random_double({3, 4}, 2).set_requires_grad();
  Tensor sm = test::random_double({3, 4}, 3).set_requires_grad();
  Tensor e = test::random_double({3, 6}, 4).set_requires_grad();
  const Tensor labels = Tensor::from_vector(std::vector<int64_t>{1, -1, 3}, {3});
  const auto terms = method::medtex_objective(t, s, sm, e, labels, l);
  EXPECT_NEAR(terms.total.item(), l.b * terms.explain.item() + l.c * terms.prior.item(), 1e-14);
  terms.total.backward();
  for (double g : s.grad().to_vector<double>()) EXPECT_EQ(g, 0.0);
  double norm = 0;
  for (double g : sm.grad().to_vector<double>()) norm += g * g;
  EXPECT_GT(norm, 0.0);
}

}  // namespace
}  // namespace medtex
