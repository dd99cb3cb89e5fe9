// The distillation trainers: kd and medtex learn from labelled and unlabelled
// images without ever reading an unlabelled image's label; medtex trains the
// student and the explainer together and resumes bit for bit; transfer is
// marked privileged; multi-label data go through the Bernoulli objectives.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "engine/rng.h"
#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/train/trainer.h"
#include "tests/data/data_test_util.h"
#include "tests/train/train_test_util.h"

namespace medtex {
namespace {

constexpr int kSize = 32;

struct ThreeNets {
  std::shared_ptr<nn::Module> teacher, student, explainer;
  train::Nets nets;
};

// A small random teacher (its predictions are all the methods need to run),
// a student and an explainer, initialised from `seed`.
ThreeNets make_nets(uint64_t seed, int num_classes = 5) {
  ThreeNets s;
  models::ModelConfig tc = test::tiny_config("resnet18", kSize, 0.125);
  tc.num_classes = num_classes;
  tc.norm_mean = {0.3, 0.2, 0.1};
  tc.norm_std = {0.2, 0.15, 0.1};
  Generator tg(1234);
  s.teacher = models::make_model(tc, tg);
  models::ModelConfig sc = test::tiny_config("cnn-small", kSize, 0.25);
  sc.num_classes = num_classes;
  const models::ModelConfig ec = train::explainer_config_for(sc, 8);
  Generator init = Generator(seed).fork("init");
  s.student = models::make_model(sc, init);
  Generator einit = Generator(seed).fork("init explainer");
  s.explainer = models::make_model(ec, einit);
  s.nets.teacher = s.teacher.get();
  s.nets.teacher_config = tc;
  s.nets.student = s.student.get();
  s.nets.student_config = sc;
  s.nets.explainer = s.explainer.get();
  s.nets.explainer_config = ec;
  return s;
}

train::DistillOptions options(train::Method m) {
  train::DistillOptions o;
  o.method = m;
  o.epochs = 2;
  o.batch_size = 4;
  o.unlabeled_batch_size = 8;
  o.optimizer.lr = 2e-3;
  o.quiet = true;
  o.seed = 3;
  return o;
}

std::vector<int64_t> first_rows(int64_t n) {
  std::vector<int64_t> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) r[size_t(i)] = i;
  return r;
}

class UnlabelledTest : public ::testing::TestWithParam<train::Method> {};

// Unlabelled images labelled 99 (out of range: reading one would throw) give
// the very same weights as with their true grades: the labels are never read.
TEST_P(UnlabelledTest, UnlabelledLabelsAreNeverRead) {
  set_num_threads(2);
  const data::ImageSet labelled = test::synth_set(8, kSize);
  data::ImageSet archive_true = test::synth_set(16, kSize, "target", 2);
  data::ImageSet archive_bad = archive_true;
  for (int64_t& y : archive_bad.labels) y = 99;
  std::shared_ptr<nn::Module> students[2], explainers[2];
  train::TrainResult results[2];
  const data::ImageSet* archives[2] = {&archive_true, &archive_bad};
  for (int i = 0; i < 2; ++i) {
    ThreeNets s = make_nets(7);
    if (GetParam() == train::Method::kKd) s.nets.explainer = nullptr;
    ASSERT_NO_THROW(results[i] =
                        train::distill(s.nets, train::all_rows(labelled),
                                       train::all_rows(*archives[i]), {}, options(GetParam())));
    students[i] = s.student;
    explainers[i] = s.explainer;
  }
  EXPECT_TRUE(test::same_state(*students[0], *students[1]));
  EXPECT_TRUE(test::same_state(*explainers[0], *explainers[1]));
  const train::TrainResult& r = results[1];
  // 16 unlabelled / 8 per step = 2 steps per epoch; the labelled stream
  // (8 / 4 = 2 batches) keeps pace.
  EXPECT_EQ(r.steps_per_epoch, 2);
  EXPECT_EQ(r.labelled_images, 8);
  EXPECT_EQ(r.unlabeled_images, 16);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(r.history[0].images, 2 * (4 + 8));  // both streams through the student
  EXPECT_TRUE(r.history[0].train_terms.count("kd"));
  EXPECT_GT(r.history[0].train_terms.at("label"), 0.0);
  EXPECT_FALSE(r.privileged);
}

INSTANTIATE_TEST_SUITE_P(Methods, UnlabelledTest,
                         ::testing::Values(train::Method::kKd, train::Method::kMedtex),
                         [](const ::testing::TestParamInfo<train::Method>& p) {
                           return std::string(train::method_name(p.param));
                         });

// With no labelled images at all, kd and medtex learn from the teacher alone:
// the label term stays exactly 0 and the student still moves.
TEST(Distill, TeacherOnlyWithoutLabels) {
  const data::ImageSet archive = test::synth_set(16, kSize, "target", 2);
  for (train::Method m : {train::Method::kKd, train::Method::kMedtex}) {
    ThreeNets s = make_nets(7);
    if (m == train::Method::kKd) s.nets.explainer = nullptr;
    const auto before = s.student->state_dict().at("fc.weight").copy();
    const train::TrainResult r =
        train::distill(s.nets, {}, train::all_rows(archive), {}, options(m));
    for (const train::EpochRecord& e : r.history) {
      EXPECT_EQ(e.train_terms.at("label"), 0.0);
      EXPECT_GT(e.train_terms.at("kd"), 0.0);
    }
    const auto after = s.student->state_dict().at("fc.weight");
    EXPECT_NE(std::memcmp(before.raw_data(), after.raw_data(), before.nbytes()), 0);
  }
}

TEST(Distill, MedtexTrainsStudentAndExplainerTogether) {
  set_num_threads(2);
  const data::ImageSet labelled = test::synth_set(8, kSize);
  const data::ImageSet archive = test::synth_set(16, kSize, "target", 2);
  const data::ImageSet val = test::synth_set(6, kSize, "target", 3);
  ThreeNets s = make_nets(7);
  const auto e_before = s.explainer->state_dict().at("head.weight").copy();
  const train::TrainResult r =
      train::distill(s.nets, train::all_rows(labelled), train::all_rows(archive),
                     train::all_rows(val), options(train::Method::kMedtex));
  const auto e_after = s.explainer->state_dict().at("head.weight");
  EXPECT_NE(std::memcmp(e_before.raw_data(), e_after.raw_data(), e_before.nbytes()), 0);
  for (const char* term : {"kd", "explain", "prior", "label"}) {
    EXPECT_TRUE(r.history[0].train_terms.count(term)) << term;
  }
  EXPECT_EQ(r.kept, "best");
  EXPECT_TRUE(r.history[0].has_val);
  EXPECT_TRUE(std::isfinite(r.history[0].val_agreement));  // with the teacher
  EXPECT_TRUE(r.final_val.has_teacher);
  // The explainer shares the student's input normalisation, computed on the
  // local images (labelled and unlabelled), not the teacher's.
  EXPECT_EQ(r.explainer_config.norm_mean, r.config.norm_mean);
  EXPECT_NE(r.config.norm_mean, s.nets.teacher_config.norm_mean);
}

TEST(Distill, MedtexResumesBitIdentical) {
  set_num_threads(2);
  test::ScratchDir dir("distill_resume");
  const data::ImageSet labelled = test::synth_set(8, kSize);
  const data::ImageSet archive = test::synth_set(16, kSize, "target", 2);
  train::DistillOptions o = options(train::Method::kMedtex);
  o.epochs = 3;
  o.checkpoint = dir.str("a.ckpt.safetensors");
  ThreeNets straight = make_nets(7);
  train::distill(straight.nets, train::all_rows(labelled), train::all_rows(archive), {}, o);

  o.checkpoint = dir.str("b.ckpt.safetensors");
  o.stop_after = 3;  // mid-epoch 2
  ThreeNets killed = make_nets(7);
  const train::TrainResult first =
      train::distill(killed.nets, train::all_rows(labelled), train::all_rows(archive), {}, o);
  EXPECT_FALSE(first.finished);
  o.stop_after = -1;
  o.resume = true;
  ThreeNets resumed = make_nets(8);  // another initialisation: only the checkpoint can fix it
  const train::TrainResult second =
      train::distill(resumed.nets, train::all_rows(labelled), train::all_rows(archive), {}, o);
  EXPECT_EQ(second.resumed_from, 3);
  EXPECT_TRUE(test::same_state(*straight.student, *resumed.student));
  EXPECT_TRUE(test::same_state(*straight.explainer, *resumed.explainer));
}

TEST(Distill, ScratchAndTransfer) {
  const data::ImageSet labelled = test::synth_set(8, kSize);
  const data::ImageSet archive = test::synth_set(8, kSize, "target", 2);
  ThreeNets s = make_nets(7);
  s.nets.explainer = nullptr;
  train::DistillOptions o = options(train::Method::kScratch);
  // Labels only: an unlabelled archive is refused rather than ignored.
  EXPECT_THROW(train::distill(s.nets, train::all_rows(labelled), train::all_rows(archive), {}, o),
               Error);
  const train::TrainResult scratch = train::distill(s.nets, train::all_rows(labelled), {}, {}, o);
  EXPECT_FALSE(scratch.privileged);
  EXPECT_EQ(scratch.history[0].train_terms.size(), 1u);

  // transfer: the teacher-architecture net, starting from the teacher's
  // (source-domain) weights and keeping their normalisation.
  ThreeNets t = make_nets(7);
  train::Nets nets;
  nets.student = t.teacher.get();
  nets.student_config = t.nets.teacher_config;
  o.method = train::Method::kTransfer;
  const train::TrainResult transfer = train::distill(nets, train::all_rows(labelled), {}, {}, o);
  EXPECT_TRUE(transfer.privileged);
  EXPECT_EQ(transfer.config.norm_mean, t.nets.teacher_config.norm_mean);
  EXPECT_EQ(transfer.metadata().at("medtex.privileged"), "1");

  // kd without a teacher is one clear error.
  train::Nets no_teacher = s.nets;
  no_teacher.teacher = nullptr;
  o.method = train::Method::kKd;
  EXPECT_THROW(train::distill(no_teacher, train::all_rows(labelled), {}, {}, o), Error);
}

// Multi-label data (two findings, one of them blank for some images): the
// supervised, kd and medtex trainers run on the Bernoulli objectives and the
// evaluation reports per-label AUC.
TEST(Distill, MultiLabel) {
  data::ImageSet set = test::synth_set(12, kSize);
  set.multi_label = true;
  set.classes = {"any", "severe"};
  set.targets = Tensor::zeros({12, 2});
  set.known = Tensor::ones({12, 2});
  for (int64_t i = 0; i < 12; ++i) {
    set.targets.data<float>()[i * 2] = set.labels[size_t(i)] >= 1 ? 1.0f : 0.0f;
    set.targets.data<float>()[i * 2 + 1] = set.labels[size_t(i)] >= 3 ? 1.0f : 0.0f;
    if (i % 3 == 0) set.known.data<float>()[i * 2 + 1] = 0.0f;
  }
  set.labels.clear();
  const data::ImageSet archive = test::synth_set(8, kSize, "target", 2);
  for (train::Method m : {train::Method::kScratch, train::Method::kKd, train::Method::kMedtex}) {
    SCOPED_TRACE(train::method_name(m));
    ThreeNets s = make_nets(7, 2);
    if (m != train::Method::kMedtex) s.nets.explainer = nullptr;
    train::DataRef train_rows, val_rows;
    train_rows.set = val_rows.set = &set;
    train_rows.rows = first_rows(8);
    val_rows.rows = {8, 9, 10, 11};
    const train::TrainResult r =
        train::distill(s.nets, train_rows,
                       m == train::Method::kScratch ? train::DataRef{} : train::all_rows(archive),
                       val_rows, options(m));
    EXPECT_TRUE(r.final_val.multi_label);
    EXPECT_EQ(r.final_val.per_label_auc.size(), 2u);
    EXPECT_TRUE(std::isfinite(r.history.back().train_loss));
  }
}

}  // namespace
}  // namespace medtex
