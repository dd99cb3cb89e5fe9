#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/compare.h"

namespace medtex {
namespace {

Tensor vec(std::vector<double> v) { return Tensor::from_vector(v, {int64_t(v.size())}); }

TEST(Autograd, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = vec({1, -2, 3}).set_requires_grad();
  ops::sum(ops::mul_scalar(x, 2.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 2, 2}));
  ops::sum(ops::mul_scalar(x, 3.0)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{5, 5, 5}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, SharedSubgraphUsedTwice) {
  // y = relu(x); loss = sum(y * y + y): d/dx = (2y + 1) where x > 0.
  Tensor x = vec({1.5, -1, 2}).set_requires_grad();
  Tensor y = ops::relu(x);
  ops::sum(ops::add(ops::mul(y, y), y)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 0, 5}));
}

TEST(Autograd, SameTensorAsBothInputs) {
  Tensor x = vec({3, -4}).set_requires_grad();
  ops::sum(ops::mul(x, x)).backward();  // d/dx x^2 = 2x
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{6, -8}));
}

TEST(Autograd, NoGradScopeRecordsNothing) {
  Tensor x = vec({1, 2}).set_requires_grad();
  Tensor y;
  {
    NoGradGuard guard;
    EXPECT_FALSE(grad_enabled());
    y = ops::mul_scalar(x, 2.0);
  }
  EXPECT_TRUE(grad_enabled());
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(y.is_leaf());
  EXPECT_THROW(ops::sum(y).backward(), Error);
}

TEST(Autograd, DetachCutsTheGraph) {
  Tensor x = vec({2, 3}).set_requires_grad();
  Tensor y = ops::mul(x, x);
  // loss = sum(y.detach() * x): the gradient sees y as a constant, so d/dx = y.
  ops::sum(ops::mul(y.detach(), x)).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{4, 9}));
}

TEST(Autograd, OnlyTensorsThatRequireGradReceiveIt) {
  Tensor a = vec({1, 2}).set_requires_grad();
  Tensor b = vec({3, 4});
  ops::sum(ops::mul(a, b)).backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{3, 4}));
  EXPECT_FALSE(b.grad().defined());
}

TEST(Autograd, ReshapeRoutesGradientBack) {
  Tensor x = Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad();
  Tensor y = ops::reshape(x, {3, 2});
  y.backward(Tensor::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2}));
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

TEST(Autograd, BackwardNeedsAScalarOrAGradient) {
  Tensor x = vec({1, 2}).set_requires_grad();
  Tensor y = ops::mul_scalar(x, 2.0);
  EXPECT_THROW(y.backward(), Error);
  EXPECT_THROW(y.backward(vec({1, 2, 3})), Error);
}

TEST(Autograd, DeepChainDoesNotOverflowTheStack) {
  // backward() walks the graph iteratively: a long chain is fine.
  Tensor x = vec({1}).set_requires_grad();
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = ops::add_scalar(y, 1e-3);
  ops::sum(y).backward();
  EXPECT_EQ(x.grad().item(), 1.0);
}

}  // namespace
}  // namespace medtex
