#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "engine/rng.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"

namespace medtex {
namespace {

// Random123's published known-answer vectors for Philox4x32-10 (its kat_vectors file).
TEST(Philox, KnownAnswerVectors) {
  struct Kat {
    PhiloxCounter ctr;
    PhiloxKey key;
    uint32_t expect[4];
  };
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, {{0, 0}}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       {{0xffffffff, 0xffffffff}},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       {{0xa4093822, 0x299f31d0}},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const PhiloxCounter out = philox4x32_10(k.ctr, k.key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], k.expect[i]) << "word " << i;
  }
}

TEST(Generator, SameSeedSameNumbersAndDrawsAdvance) {
  Generator a(42), b(42);
  Tensor x = Tensor::empty({1000}), y = Tensor::empty({1000}), z = Tensor::empty({1000});
  a.uniform_(x, 0, 1);
  b.uniform_(y, 0, 1);
  EXPECT_TRUE(test::bitwise_equal(x, y));
  a.uniform_(z, 0, 1);  // the next draw differs
  EXPECT_FALSE(test::bitwise_equal(x, z));
}

TEST(Generator, ForksAreIndependentAndStable) {
  Generator root(7);
  Generator g1 = root.fork("gumbel"), g2 = root.fork("gumbel"), h = root.fork("init");
  EXPECT_EQ(g1.stream(), g2.stream());
  EXPECT_NE(g1.stream(), h.stream());
  // Drawing from one purpose does not shift another.
  Tensor a = Tensor::empty({64}), b = Tensor::empty({64});
  g1.uniform_(a, 0, 1);
  h.uniform_(b, 0, 1);
  Generator h2 = root.fork("init");
  Tensor c = Tensor::empty({64});
  h2.uniform_(c, 0, 1);
  EXPECT_TRUE(test::bitwise_equal(b, c));
}

TEST(Generator, UniformAndNormalMoments) {
  Generator g(3);
  Tensor u = Tensor::empty({200000}, DType::F64), n = Tensor::empty({200000}, DType::F64);
  g.uniform_(u, -2, 4);
  g.normal_(n, 1.5, 2.0);
  auto moments = [](const Tensor& t) {
    double s = 0, s2 = 0;
    for (double v : t.to_vector<double>()) s += v, s2 += v * v;
    const double m = s / double(t.numel());
    return std::pair{m, s2 / double(t.numel()) - m * m};
  };
  // 2e5 samples: the standard error of the mean is sd / 447, so these bounds
  // are about 5 standard errors wide.
  auto [um, uv] = moments(u);
  EXPECT_NEAR(um, 1.0, 0.02);
  EXPECT_NEAR(uv, 3.0, 0.05);
  auto [nm, nv] = moments(n);
  EXPECT_NEAR(nm, 1.5, 0.025);
  EXPECT_NEAR(nv, 4.0, 0.08);
  for (double v : u.to_vector<double>()) ASSERT_TRUE(v >= -2 && v < 4);
}

TEST(Generator, SameNumbersForAnyThreadCount) {
  Tensor a = Tensor::empty({100003}), b = Tensor::empty({100003});
  set_num_threads(1);
  Generator(9).normal_(a, 0, 1);
  set_num_threads(2);
  Generator(9).normal_(b, 0, 1);
  set_num_threads(0);
  EXPECT_TRUE(test::bitwise_equal(a, b));
}

TEST(Generator, ScalarsAreUniformAndUnbiased) {
  Generator g(11);
  std::vector<int> hist(7, 0);
  for (int i = 0; i < 70000; ++i) ++hist[g.next_below(7)];
  for (int c : hist) EXPECT_NEAR(c, 10000, 500);  // ~5 standard deviations
  double s = 0;
  for (int i = 0; i < 10000; ++i) {
    const double u = g.next_uniform();
    ASSERT_TRUE(u >= 0 && u < 1);
    s += u;
  }
  EXPECT_NEAR(s / 10000, 0.5, 0.015);
}

TEST(Generator, StateRestoresTheSequence) {
  Generator g(5);
  g.next_u32();
  Tensor t = Tensor::empty({8});
  g.uniform_(t, 0, 1);
  const auto saved = g.state();
  Tensor a = Tensor::empty({8});
  g.uniform_(a, 0, 1);
  const uint32_t s1 = g.next_u32();
  Generator h(0);
  h.set_state(saved);
  Tensor b = Tensor::empty({8});
  h.uniform_(b, 0, 1);
  EXPECT_TRUE(test::bitwise_equal(a, b));
  EXPECT_EQ(h.next_u32(), s1);
}

}  // namespace
}  // namespace medtex
