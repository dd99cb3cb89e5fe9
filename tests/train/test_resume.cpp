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

// The optimiser's per-parameter counters travel in the checkpoint: a parameter
// that had no gradient on its first `skipped` steps (Adam's t behind, SGD's
// momentum buffer not yet started) resumes exactly. Before the counters were
// saved, resume rebuilt them as if every parameter had a gradient at every
// step, which gives other bits here.
template <class Opt, class Options>
void expect_exact_resume_with_a_skipped_parameter(const Options& options, int skipped,
                                                  const char* tag) {
  test::ScratchDir dir("resume_counters");
  auto param = [](std::vector<double> v) {
    Tensor p = Tensor::from_vector(v, {int64_t(v.size())});
    p.set_requires_grad();
    return p;
  };
  auto grad = [](Tensor& p, double scale) {
    std::vector<double> g = p.to_vector<double>();
    for (double& x : g) x = scale * x + 0.25;
    p.impl().grad = Tensor::from_vector(g, p.shape()).impl_ptr();
  };
  Tensor a = param({1.0, -2.0}), b = param({0.5});
  Opt opt({a, b}, options);
  for (int step = 0; step < 3; ++step) {
    grad(a, 0.5);
    if (step >= skipped) {
      grad(b, -1.5);
    } else {
      b.impl().grad.reset();  // no gradient for b on this step
    }
    opt.step();
  }
  const std::string path = dir.str(std::string(tag) + ".ckpt.safetensors");
  train::write_checkpoint(path, {}, opt, {});
  const std::vector<int64_t> saved = opt.counters();
  const SafetensorsFile f = train::read_checkpoint(path);

  // Straight on, and resumed into a fresh optimiser over copies.
  Tensor a2 = param(a.to_vector<double>()), b2 = param(b.to_vector<double>());
  Opt resumed({a2, b2}, options);
  train::restore_optimizer(resumed, f.tensors, 3, path);
  EXPECT_EQ(resumed.counters(), saved) << tag;
  EXPECT_EQ(resumed.steps_taken(), 3);
  for (Tensor* p : {&a, &b, &a2, &b2}) grad(*p, 2.0);
  opt.step();
  resumed.step();
  EXPECT_EQ(a2.to_vector<double>(), a.to_vector<double>()) << tag;
  EXPECT_EQ(b2.to_vector<double>(), b.to_vector<double>()) << tag;

  // Without the counters (an older checkpoint): every parameter counted as
  // updated on every step, so b's update differs.
  train::TensorMap old = f.tensors;
  old.erase("optim.counters");
  Tensor a3 = param({1.0, -2.0}), b3 = param({0.5});
  Opt legacy({a3, b3}, options);
  train::restore_optimizer(legacy, old, 3, path);
  EXPECT_NE(legacy.counters(), saved) << tag;

  // Counters for another net: one line naming the file.
  train::TensorMap bad = f.tensors;
  bad["optim.counters"] = Tensor::from_vector(std::vector<int64_t>{1, 2, 3}, {3});
  const std::string m = error_of([&] { train::restore_optimizer(legacy, bad, 3, path); });
  EXPECT_NE(m.find(path), std::string::npos) << m;
  EXPECT_NE(m.find("optim.counters"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(Checkpoint, OptimiserCountersMakeResumeExactWhenAParameterSkippedSteps) {
  expect_exact_resume_with_a_skipped_parameter<optim::Adam>(optim::adamw_defaults(), 1, "adamw");
  expect_exact_resume_with_a_skipped_parameter<optim::SGD>(
      optim::SgdOptions{.lr = 0.1, .momentum = 0.9, .dampening = 0.3}, 3, "sgd");
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
