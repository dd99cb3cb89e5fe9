// The supervised trainer: it learns (the training loss falls on a small
// synthetic set), reports a history, keeps best or last weights as asked,
// fails clearly on a diverging loss, and is bitwise reproducible.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "engine/nn/layers.h"
#include "engine/rng.h"
#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/train/trainer.h"
#include "tests/support/compare.h"
#include "tests/train/train_test_util.h"

namespace medtex {
namespace {

using train::DataRef;

train::TrainOptions quick_options() {
  train::TrainOptions o;
  o.epochs = 6;
  o.batch_size = 16;
  o.optimizer.lr = 3e-3;
  o.quiet = true;
  o.seed = 5;
  return o;
}

TEST(Trainer, LossFallsOnSyntheticFundus) {
  set_num_threads(2);
  const data::ImageSet set = test::synth_set(48, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.5);
  Generator init = Generator(5).fork("init");
  auto net = models::make_model(cfg, init);
  train::TrainOptions o = quick_options();
  o.augment = false;  // a fixed set, so the loss curve reflects fitting alone
  const train::TrainResult r = train::fit_supervised(*net, cfg, train::all_rows(set), {}, o);
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.kept, "last");
  EXPECT_EQ(r.steps, 18);  // 48 / 16 = 3 steps per epoch
  EXPECT_TRUE(r.finished);
  EXPECT_EQ(r.config.norm_mean.size(), 3u);  // statistics computed on the training rows
  const double first = r.history.front().train_loss, last = r.history.back().train_loss;
  EXPECT_LT(last, 0.8 * first) << "first " << first << " last " << last;
  EXPECT_GT(r.images_per_second, 0.0);
  EXPECT_TRUE(r.history.front().train_terms.count("label"));
}

TEST(Trainer, ValidationHistoryAndBestWeights) {
  set_num_threads(2);
  const data::ImageSet set = test::synth_set(48, 32);
  DataRef train_rows, val_rows;
  train_rows.set = val_rows.set = &set;
  for (int64_t r = 0; r < set.rows(); ++r) (r % 4 == 0 ? val_rows : train_rows).rows.push_back(r);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.5);
  Generator init = Generator(5).fork("init");
  auto net = models::make_model(cfg, init);
  train::TrainOptions o = quick_options();
  o.epochs = 4;
  const train::TrainResult r = train::fit_supervised(*net, cfg, train_rows, val_rows, o);
  ASSERT_EQ(r.history.size(), 4u);
  EXPECT_EQ(r.kept, "best");
  ASSERT_GE(r.best_epoch, 1);
  const train::EpochRecord& best = r.history[size_t(r.best_epoch - 1)];
  for (const train::EpochRecord& e : r.history) {
    EXPECT_TRUE(e.has_val);
    EXPECT_TRUE(std::isfinite(e.val_loss));
    EXPECT_LE(e.val_accuracy, best.val_accuracy);
  }
  // The net holds the best epoch's weights: its validation score is that epoch's.
  EXPECT_EQ(r.final_val.images, 12);
  EXPECT_DOUBLE_EQ(r.final_val.accuracy, best.val_accuracy);
  EXPECT_DOUBLE_EQ(r.final_val.loss, best.val_loss);
  EXPECT_EQ(r.metadata().at("medtex.kept"), "best");
}

TEST(Trainer, KeepBestWithoutValidationFails) {
  const data::ImageSet set = test::synth_set(8, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  Generator init(0);
  auto net = models::make_model(cfg, init);
  train::TrainOptions o = quick_options();
  o.keep = train::Keep::kBest;
  EXPECT_THROW(train::fit_supervised(*net, cfg, train::all_rows(set), {}, o), Error);
}

// An absurd learning rate blows the weights up within a few steps; the trainer
// stops with one line naming the step and the loss term.
TEST(Trainer, DivergingLossStopsWithOneClearError) {
  set_num_threads(2);
  const data::ImageSet set = test::synth_set(32, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  Generator init(3);
  auto net = models::make_model(cfg, init);
  train::TrainOptions o = quick_options();
  o.optimizer.name = "sgd";
  o.optimizer.momentum = 0.9;
  o.optimizer.lr = 1e30;
  o.optimizer.warmup = 0;
  o.epochs = 5;
  try {
    train::fit_supervised(*net, cfg, train::all_rows(set), {}, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("training diverged at step "), std::string::npos) << m;
    EXPECT_NE(m.find("the label loss term is"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

// A NaN that reaches the logits (here a poisoned classifier bias; a NaN
// pixel would not do: the engine's ReLU maps NaN to 0) stops the first step.
TEST(Trainer, NanLogitsStopAtTheFirstStep) {
  const data::ImageSet set = test::synth_set(16, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  Generator init(3);
  auto net = models::make_model(cfg, init);
  net->state_dict().at("fc.bias").data<float>()[2] = std::nanf("");
  train::TrainOptions o = quick_options();
  try {
    train::fit_supervised(*net, cfg, train::all_rows(set), {}, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("training diverged at step 1/"), std::string::npos) << m;
    EXPECT_NE(m.find("the label loss term is nan"), std::string::npos) << m;
  }
}

// Same seed, different thread counts: the same weights, bit for bit.
TEST(Trainer, BitwiseIdenticalAcrossThreadCounts) {
  const data::ImageSet set = test::synth_set(24, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  std::shared_ptr<nn::Module> nets[2];
  for (int i = 0; i < 2; ++i) {
    set_num_threads(i + 1);
    Generator init = Generator(9).fork("init");
    nets[i] = models::make_model(cfg, init);
    train::TrainOptions o = quick_options();
    o.epochs = 2;
    o.batch_size = 8;
    train::fit_supervised(*nets[i], cfg, train::all_rows(set), {}, o);
  }
  set_num_threads(0);
  EXPECT_TRUE(test::same_state(*nets[0], *nets[1]));
}

// PreciseBN at the end of training: the running statistics are those
// nn::precise_batchnorm computes on the training rows (here all of them in
// one batch), not the exponential average; the trained weights are the same
// as without it (training normalises with batch statistics either way).
TEST(Trainer, PreciseBatchNormSetsTheRunningStatisticsOnly) {
  set_num_threads(2);
  const data::ImageSet set = test::synth_set(24, 32);
  const models::ModelConfig cfg = test::tiny_config("cnn-small", 32, 0.25);
  std::shared_ptr<nn::Module> nets[2];
  train::TrainResult res[2];
  for (int i = 0; i < 2; ++i) {
    Generator init = Generator(9).fork("init");
    nets[i] = models::make_model(cfg, init);
    train::TrainOptions o = quick_options();
    o.epochs = 2;
    o.batch_size = 8;
    o.eval_batch_size = 24;
    o.precise_bn_images = i == 0 ? 0 : 1024;
    res[i] = train::fit_supervised(*nets[i], cfg, train::all_rows(set), {}, o);
  }
  const auto a = nets[0]->state_dict(), b = nets[1]->state_dict();
  int stats_differ = 0;
  for (const auto& [name, t] : a) {
    const bool stat = name.ends_with("running_mean") || name.ends_with("running_var");
    if (stat) {
      stats_differ += !test::bitwise_equal(t, b.at(name));
    } else {
      EXPECT_TRUE(test::bitwise_equal(t, b.at(name))) << name;
    }
  }
  EXPECT_GT(stats_differ, 0);
  // Recomputing on the trained net reproduces what the trainer left.
  const auto before = nets[1]->state_dict();
  nn::precise_batchnorm(*nets[1], 1, [&](int64_t) {
    return train::normalized(train::gather_images(train::all_rows(set), 0, 24), res[1].config);
  });
  for (const auto& [name, t] : nets[1]->state_dict())
    EXPECT_TRUE(test::bitwise_equal(t, before.at(name))) << name;
}

TEST(Trainer, WrongImageSizeOrClassCountFailsClearly) {
  const data::ImageSet set = test::synth_set(8, 32);
  models::ModelConfig cfg = test::tiny_config("cnn-small", 64, 0.25);
  Generator init(0);
  auto net = models::make_model(cfg, init);
  EXPECT_THROW(train::fit_supervised(*net, cfg, train::all_rows(set), {}, quick_options()), Error);
  cfg = test::tiny_config("cnn-small", 32, 0.25);
  cfg.num_classes = 3;
  auto net3 = models::make_model(cfg, init);
  try {
    train::fit_supervised(*net3, cfg, train::all_rows(set), {}, quick_options());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 outputs but the data have 5 classes"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace medtex
