// Reproducible training: a few steps of the tiny CNN (conv, batchnorm, relu,
// pooling, linear, cross-entropy, Adam) give bitwise-identical weights with 1,
// 2 and 4 threads, and for two runs with the same seed.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "kernels/common/parallel.h"
#include "tests/support/compare.h"
#include "tests/support/tiny_cnn.h"

namespace medtex {
namespace {

std::map<std::string, Tensor> train_a_few_steps(int threads) {
  set_num_threads(threads);
  Generator root(77);
  Generator init = root.fork("init"), data = root.fork("data");
  auto net = test::tiny_cnn(init);
  optim::SGD opt(net->parameters(), {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4});
  for (int step = 0; step < 4; ++step) {
    // Batch 24 of 20x20: sizes that do not split evenly across 4 threads.
    const auto b = test::shapes_batch(24, 20, data);
    opt.zero_grad();
    ops::cross_entropy(net->forward(b.images), b.labels).backward();
    opt.step();
  }
  set_num_threads(0);
  return net->state_dict();
}

TEST(Determinism, BitwiseIdenticalForOneTwoAndFourThreads) {
  const auto one = train_a_few_steps(1);
  for (int threads : {2, 4, 1}) {
    const auto other = train_a_few_steps(threads);
    ASSERT_EQ(one.size(), other.size());
    for (const auto& [name, t] : one) {
      EXPECT_TRUE(test::bitwise_equal(t, other.at(name))) << name << " differs with " << threads
                                                          << " threads";
    }
  }
}

}  // namespace
}  // namespace medtex
