// Checkpoints and --resume (DESIGN §9): a run stopped after k1 steps and
// resumed from its checkpoint ends with the same weights, bit for bit, as the
// run that went straight through; checkpoints that do not fit the run fail
// with one clear line.
#include <filesystem>

#include <gtest/gtest.h>

#include "engine/rng.h"
#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/train/checkpoint.h"
#include "medtex/train/trainer.h"
#include "tests/data/data_test_util.h"
#include "tests/train/train_test_util.h"

namespace medtex {
namespace {

train::TrainOptions options(const std::string& optimizer) {
  train::TrainOptions o;
  o.epochs = 3;
  o.batch_size = 8;  // 20 images: batches of 8, 8, 4 -> 3 steps per epoch
  o.optimizer.name = optimizer;
  o.optimizer.lr = 2e-3;
  o.quiet = true;
  o.seed = 11;
  return o;
}

struct TrainedNet {
  std::shared_ptr<nn::Module> net;
  train::TrainResult result;
};

TrainedNet supervised(const data::ImageSet& set, const train::DataRef& val, train::TrainOptions o,
                      uint64_t init_seed = 11) {
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  Generator init = Generator(init_seed).fork("init");
  TrainedNet r;
  r.net = models::make_model(cfg, init);
  r.result = train::fit_supervised(*r.net, cfg, train::all_rows(set), val, o);
  return r;
}

void expect_same_history(const train::TrainResult& a, const train::TrainResult& b) {
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t i = 0; i < a.history.size(); ++i) {
    EXPECT_EQ(a.history[i].train_loss, b.history[i].train_loss) << "epoch " << i + 1;
    EXPECT_EQ(a.history[i].val_loss, b.history[i].val_loss) << "epoch " << i + 1;
    EXPECT_EQ(a.history[i].lr, b.history[i].lr);
  }
}

class ResumeTest : public ::testing::TestWithParam<const char*> {};

// Stops mid-epoch (step 4 of 9: epoch 2, batch 1) and at an epoch boundary
// (step 6), resumes each into a net initialised differently (so nothing but
// the checkpoint can make it match), and compares with the straight run.
TEST_P(ResumeTest, KilledAndResumedRunEndsBitIdentical) {
  set_num_threads(2);
  test::ScratchDir dir("resume");
  const data::ImageSet set = test::synth_set(20, 32);
  const data::ImageSet val_set = test::synth_set(6, 32, "source", 1, 100);
  const train::DataRef val = train::all_rows(val_set);

  train::TrainOptions straight = options(GetParam());
  straight.checkpoint = dir.str("straight.ckpt.safetensors");
  const TrainedNet a = supervised(set, val, straight);
  ASSERT_TRUE(a.result.finished);
  ASSERT_EQ(a.result.steps, 9);

  for (int64_t stop : {4, 6}) {
    SCOPED_TRACE("stopped after step " + std::to_string(stop));
    train::TrainOptions o = options(GetParam());
    o.checkpoint = dir.str("killed" + std::to_string(stop) + ".ckpt.safetensors");
    o.stop_after = stop;
    const TrainedNet first = supervised(set, val, o);
    EXPECT_FALSE(first.result.finished);
    EXPECT_EQ(first.result.steps, stop);
    ASSERT_TRUE(std::filesystem::exists(o.checkpoint));
    EXPECT_FALSE(std::filesystem::exists(o.checkpoint + ".tmp"));

    o.stop_after = -1;
    o.resume = true;
    const TrainedNet second = supervised(set, val, o, /*init_seed=*/999);
    EXPECT_TRUE(second.result.finished);
    EXPECT_EQ(second.result.resumed_from, stop);
    EXPECT_EQ(second.result.steps, 9);
    EXPECT_TRUE(test::same_state(*a.net, *second.net));
    expect_same_history(a.result, second.result);
    EXPECT_EQ(a.result.best_epoch, second.result.best_epoch);
  }
}

INSTANTIATE_TEST_SUITE_P(Optimizers, ResumeTest, ::testing::Values("adamw", "sgd", "adam"));

TEST(Resume, MissingCheckpointStartsFresh) {
  test::ScratchDir dir("resume_fresh");
  const data::ImageSet set = test::synth_set(12, 32);
  train::TrainOptions o = options("adamw");
  o.epochs = 1;
  o.checkpoint = dir.str("none.ckpt.safetensors");
  o.resume = true;
  const TrainedNet r = supervised(set, {}, o);
  EXPECT_TRUE(r.result.finished);
  EXPECT_EQ(r.result.resumed_from, -1);
  EXPECT_TRUE(std::filesystem::exists(o.checkpoint));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Resume, CheckpointOfAnotherRunFailsWithOneLine) {
  test::ScratchDir dir("resume_bad");
  const data::ImageSet set = test::synth_set(12, 32);
  train::TrainOptions o = options("adamw");
  o.epochs = 1;
  o.checkpoint = dir.str("run.ckpt.safetensors");
  supervised(set, {}, o);

  // Another architecture.
  std::string m = error_of([&] {
    models::ModelConfig cfg = test::tiny_config("resnet18", 32, 0.125);
    Generator init(0);
    auto net = models::make_model(cfg, init);
    train::TrainOptions r = o;
    r.resume = true;
    train::fit_supervised(*net, cfg, train::all_rows(set), {}, r);
  });
  EXPECT_NE(m.find("cannot resume: run.student.arch: the checkpoint has cnn-small, this run has "
                   "resnet18"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);

  // Other settings.
  m = error_of([&] {
    train::TrainOptions r = o;
    r.resume = true;
    r.optimizer.lr = 1e-2;
    supervised(set, {}, r);
  });
  EXPECT_NE(m.find("run.lr: the checkpoint has 0.002, this run has 0.01"), std::string::npos) << m;

  // A model file is not a checkpoint.
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  Generator init(0);
  auto net = models::make_model(cfg, init);
  models::save_model(dir.str("model.safetensors"), *net, cfg);
  m = error_of([&] {
    train::TrainOptions r = o;
    r.resume = true;
    r.checkpoint = dir.str("model.safetensors");
    supervised(set, {}, r);
  });
  EXPECT_NE(m.find("not a medtex training checkpoint"), std::string::npos) << m;

  // A truncated checkpoint.
  std::filesystem::resize_file(o.checkpoint, 100);
  m = error_of([&] {
    train::TrainOptions r = o;
    r.resume = true;
    supervised(set, {}, r);
  });
  EXPECT_NE(m.find("run.ckpt.safetensors"), std::string::npos) << m;
}

TEST(Checkpoint, GeneratorStateRoundTrip) {
  Generator g(42, 7);
  g.next_draw();
  g.next_u32();
  Generator h(0);
  train::decode_generator(train::encode_generator(g), h, "test");
  EXPECT_EQ(h.next_u32(), g.next_u32());
  EXPECT_EQ(h.next_draw().offset, g.next_draw().offset);
  EXPECT_THROW(train::decode_generator("1 2 x", h, "test"), Error);
}

}  // namespace
}  // namespace medtex
