// The engine learns: a small CNN separates bright squares from bright discs
// of the same area, on held-out images, within a few seconds on the CPU.
#include <gtest/gtest.h>

#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "tests/support/tiny_cnn.h"

namespace medtex {
namespace {

TEST(Learning, SquareVersusDiscAbove95PercentHeldOut) {
  Generator root(2024);
  Generator init = root.fork("init"), data = root.fork("data"), test_data = root.fork("test");
  auto net = test::tiny_cnn(init);
  optim::Adam opt(net->parameters(), {.lr = 0.01});
  constexpr int kSize = 16, kBatch = 32, kSteps = 300;
  for (int step = 0; step < kSteps; ++step) {
    const auto b = test::shapes_batch(kBatch, kSize, data);
    opt.zero_grad();
    Tensor loss = ops::cross_entropy(net->forward(b.images), b.labels);
    loss.backward();
    opt.step();
  }
  net->eval();
  NoGradGuard no_grad;
  const auto held_out = test::shapes_batch(1000, kSize, test_data);
  const auto pred = ops::argmax(net->forward(held_out.images), 1).to_vector<int64_t>();
  const auto truth = held_out.labels.to_vector<int64_t>();
  int correct = 0;
  for (size_t i = 0; i < pred.size(); ++i) correct += pred[i] == truth[i];
  const double acc = double(correct) / double(pred.size());
  std::printf("[learning] held-out accuracy %.3f after %d steps\n", acc, kSteps);
  EXPECT_GT(acc, 0.95);
}

}  // namespace
}  // namespace medtex
