#include <gtest/gtest.h>

#include "engine/ops.h"
#include "tests/support/compare.h"

namespace medtex {
namespace {

TEST(Tensor, CreationAndProperties) {
  Tensor t = Tensor::full({2, 3, 4}, 1.5);
  EXPECT_EQ(t.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.ndim(), 3);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.dtype(), DType::F32);
  EXPECT_TRUE(t.device().is_cpu());
  EXPECT_EQ(t.str(), "float32[2, 3, 4] cpu");
  for (float v : t.to_vector<float>()) EXPECT_EQ(v, 1.5f);
  EXPECT_EQ(Tensor::scalar(2.5).item(), 2.5);
  EXPECT_EQ(Tensor::zeros({0, 3}).numel(), 0);
}

TEST(Tensor, TypedAccessChecksTheType) {
  Tensor t = Tensor::zeros({3});
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor().shape(), Error);
  EXPECT_THROW(Tensor::zeros({2}).item(), Error);
  EXPECT_THROW(Tensor::empty({-1}), Error);
}

TEST(Tensor, ConversionsRoundTrip) {
  Tensor t = Tensor::from_vector<float>({1.25f, -2.5f, 3.0f}, {3});
  Tensor d = t.to(DType::F64);
  EXPECT_EQ(d.dtype(), DType::F64);
  EXPECT_EQ(d.to_vector<double>(), (std::vector<double>{1.25, -2.5, 3.0}));
  EXPECT_EQ(t.to(DType::I64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_TRUE(test::bitwise_equal(d.to(DType::F32), t));
}

TEST(Tensor, ReshapeIsAViewAndChecksSizes) {
  Tensor t = Tensor::zeros({2, 6});
  Tensor v = t.reshape({3, -1});
  EXPECT_EQ(v.shape(), (Shape{3, 4}));
  v.data<float>()[5] = 7;
  EXPECT_EQ(t.data<float>()[5], 7);  // shares storage
  EXPECT_THROW(t.reshape({5, -1}), Error);
  EXPECT_THROW(t.reshape({-1, -1}), Error);
  EXPECT_THROW(t.reshape({7}), Error);
  EXPECT_EQ(ops::flatten(Tensor::zeros({2, 3, 4, 5})).shape(), (Shape{2, 60}));
}

TEST(Tensor, CopyAndDetachDiffer) {
  Tensor t = Tensor::ones({4});
  Tensor c = t.copy(), d = t.detach();
  t.fill_(3);
  EXPECT_EQ(c.to_vector<float>()[0], 1);
  EXPECT_EQ(d.to_vector<float>()[0], 3);
  EXPECT_THROW(c.copy_from(Tensor::ones({5})), Error);
}

TEST(Tensor, OnlyFloatingLeavesRequireGrad) {
  EXPECT_THROW(Tensor::zeros({2}, DType::I64).set_requires_grad(), Error);
  Tensor x = Tensor::ones({2}).set_requires_grad();
  Tensor y = ops::relu(x);
  EXPECT_FALSE(y.is_leaf());
  EXPECT_THROW(y.set_requires_grad(), Error);
}

TEST(Tensor, ErrorsNameTheShapes) {
  try {
    Tensor::zeros({2, 3}).reshape({4, 2});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4, 2]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace medtex
