#include "medtex/study/demo_study.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "engine/autograd.h"
#include "engine/rng.h"
#include "medtex/data/dataset.h"
#include "medtex/data/fundus_synth.h"
#include "medtex/data/loader.h"
#include "medtex/data/split.h"
#include "medtex/explain/evaluate.h"
#include "medtex/explain/grad_cam.h"
#include "medtex/explain/overlay.h"
#include "medtex/explain/patch_scores.h"
#include "medtex/explain/saliency.h"
#include "medtex/report/report.h"
#include "medtex/train/batching.h"
#include "medtex/train/evaluate.h"
#include "medtex/train/trainer.h"
#include "models/model_io.h"
#include "models/resnet18.h"

namespace medtex::study {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void stage(const StudyConfig& c, const std::string& line) {
  if (c.on_stage) c.on_stage(line);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

data::ImageSet synth_and_load(const StudyConfig& c, const std::string& dir,
                              const std::string& preset, uint64_t seed, int64_t n) {
  data::SynthOptions o;
  o.out_dir = dir;
  o.n = n;
  o.size = c.image_size;
  o.preset = preset;
  o.seed = seed;
  o.force = true;
  data::write_synthetic_set(o);
  data::IndexOptions io;
  for (int g = 0; g < data::kNumGrades; ++g) io.classes.push_back(std::to_string(g));
  const data::Dataset ds = data::open_dataset(dir, io);
  data::LoadOptions lo;
  lo.size = c.image_size;
  return data::load_images(ds, lo);
}

// Rows [0, m) of a DataRef's mask tensor ([N, 1, S, S] in the set).
Tensor gather_masks(const train::DataRef& d, int64_t m) {
  const data::ImageSet& s = *d.set;
  const int64_t plane = int64_t(s.size) * s.size;
  Tensor out = Tensor::zeros({m, 1, s.size, s.size});
  if (!s.masks.defined()) return out;
  const float* src = s.masks.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = 0; i < m; ++i) {
    std::copy(src + d.rows[size_t(i)] * plane, src + (d.rows[size_t(i)] + 1) * plane,
              dst + i * plane);
  }
  return out;
}

json eval_json(const train::EvalResult& r) {
  json j;
  j["accuracy"] = r.accuracy;
  j["macro_f1"] = r.macro_f1;
  j["macro_auc"] = std::isfinite(r.macro_auc) ? json(r.macro_auc) : json(nullptr);
  j["kappa"] = std::isfinite(r.kappa) ? json(r.kappa) : json(nullptr);
  j["agreement"] = std::isfinite(r.teacher_agreement) ? json(r.teacher_agreement) : json(nullptr);
  j["teacher_kl"] = std::isfinite(r.teacher_kl) ? json(r.teacher_kl) : json(nullptr);
  j["images"] = r.images;
  return j;
}

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json explanation_json(const explain::ExplanationEval& e) {
  json j;
  j["images"] = e.images;
  j["post_hoc_accuracy"] = num(e.post_hoc_accuracy);
  j["deletion_auc"] = num(e.deletion_auc);
  j["insertion_auc"] = num(e.insertion_auc);
  j["lesion_precision"] = num(e.lesion_precision.value());
  j["lesion_images"] = e.lesion_precision.evaluated;
  j["pointing_game"] = num(e.pointing_game.value());
  j["deletion_curve"] = e.deletion_curve;
  j["insertion_curve"] = e.insertion_curve;
  j["curve_fraction"] = e.curve_fraction;
  return j;
}

json history_json(const train::TrainResult& r) {
  json h = json::array();
  for (const auto& e : r.history) h.push_back({{"epoch", e.epoch}, {"steps", e.steps},
                                               {"train_loss", e.train_loss},
                                               {"val_loss", num(e.val_loss)},
                                               {"val_accuracy", num(e.val_accuracy)}});
  return h;
}

// Rows of the clinic test set chosen for the explanation study: the first m,
// plus their subset of mild grades (1-2).
struct ExplainSet {
  Tensor images, masks;      // all chosen
  Tensor mild_images, mild_masks;
  std::vector<int64_t> labels;
};

Tensor pick(const Tensor& t, const std::vector<int64_t>& idx) {
  Shape s = t.shape();
  const int64_t per = t.numel() / s[0];
  s[0] = int64_t(idx.size());
  Tensor out = Tensor::empty(s);
  const float* src = t.data<float>();
  float* dst = out.data<float>();
  for (size_t i = 0; i < idx.size(); ++i) {
    std::copy(src + idx[i] * per, src + (idx[i] + 1) * per, dst + int64_t(i) * per);
  }
  return out;
}

std::string method_label(const std::string& m) { return m == "transfer" ? "transfer†" : m; }

}  // namespace

StudyConfig quick_config() {
  StudyConfig c;
  c.quick = true;
  c.seeds = 1;
  c.image_size = 32;
  c.source_images = 200;
  c.clinic_images = 160;
  c.labelled_sizes = {16, 40};
  c.teacher_width = 0.25;
  c.teacher_epochs = 1;
  c.student_width = 0.5;
  c.student_steps = 6;
  c.batch_size = 8;
  c.transfer_source_epochs = 1;
  c.patch = 4;
  c.k = 8;
  c.explain_images = 16;
  c.explain_steps = 2;
  return c;
}

json run_study(const StudyConfig& c) {
  const auto t_all = Clock::now();
  MT_CHECK(c.seeds >= 1, "demo: --seeds must be at least 1, got ", c.seeds);
  MT_CHECK(!c.labelled_sizes.empty(), "demo: no labelled-set sizes");
  const fs::path root(c.work_dir);
  fs::create_directories(root / "models");
  json out;
  out["config"] = {{"quick", c.quick},
                   {"same_domain", c.same_domain},
                   {"seed", c.seed},
                   {"seeds", c.seeds},
                   {"image_size", c.image_size},
                   {"source_images", c.source_images},
                   {"clinic_images", c.clinic_images},
                   {"labelled_sizes", c.labelled_sizes},
                   {"teacher_width", c.teacher_width},
                   {"teacher_epochs", c.teacher_epochs},
                   {"student_width", c.student_width},
                   {"student_steps", c.student_steps},
                   {"batch_size", c.batch_size},
                   {"patch", c.patch},
                   {"k", c.k},
                   {"explain_images", c.explain_images},
                   {"explain_steps", c.explain_steps},
                   {"grad_cam_stage", c.grad_cam_stage},
                   {"precise_bn_images", c.precise_bn_images}};
  json timings;

  // ---- data --------------------------------------------------------------
  auto t0 = Clock::now();
  stage(c, "[demo] synthesising the source archive (" + std::to_string(c.source_images) +
               " images) and the clinic (" + std::to_string(c.clinic_images) + " images, " +
               (c.same_domain ? "same camera as the source" : "the clinic's own camera") + ")");
  const data::ImageSet src =
      synth_and_load(c, (root / "source").string(), "source", c.seed, c.source_images);
  // The clinic always has other eyes than the archive (another seed); with
  // same_domain it has the archive's camera too.
  const data::ImageSet clinic =
      synth_and_load(c, (root / "clinic").string(), c.same_domain ? "source" : "target",
                     c.seed + 7919, c.clinic_images);
  timings["data_s"] = since(t0);

  const data::Split ssplit = data::stratified_split(src.strata(), 0.1, 0.1, c.seed);
  const train::DataRef s_train{&src, ssplit.train}, s_val{&src, ssplit.val},
      s_test{&src, ssplit.test};
  const std::vector<int64_t> clinic_strata = clinic.strata();
  const data::Split csplit =
      data::stratified_split(clinic_strata, 0.0, c.clinic_test_fraction, c.seed + 1);
  const std::vector<int64_t>& pool = csplit.train;
  const train::DataRef c_test{&clinic, csplit.test};

  // ---- teacher -----------------------------------------------------------
  t0 = Clock::now();
  stage(c, "[demo] training the teacher (resnet18, width " + fmt("%g", c.teacher_width) + ", " +
               std::to_string(c.teacher_epochs) + " epochs on " +
               std::to_string(s_train.size()) + " source images)");
  models::ModelConfig tconf;
  tconf.arch = "resnet18";
  tconf.width = c.teacher_width;
  tconf.num_classes = data::kNumGrades;
  tconf.input_size = c.image_size;
  Generator tgen = Generator(c.seed).fork("init");
  std::shared_ptr<nn::Module> teacher = models::make_model(tconf, tgen);
  train::TrainOptions to;
  to.epochs = c.teacher_epochs;
  to.precise_bn_images = c.precise_bn_images;
  to.batch_size = c.batch_size;
  to.seed = c.seed;
  to.device = c.device;
  to.quiet = c.quiet_training;
  to.tag = "teacher";
  const train::TrainResult tres = train::fit_supervised(*teacher, tconf, s_train, s_val, to);
  tconf = tres.config;
  models::save_model((root / "models" / "teacher.safetensors").string(), *teacher, tconf,
                     tres.metadata());
  const train::EvalResult t_src = train::evaluate(*teacher, tconf, s_test);
  const train::EvalResult t_clinic = train::evaluate(*teacher, tconf, c_test);
  timings["teacher_s"] = since(t0);
  stage(c, "[demo] teacher: source test accuracy " + fmt("%.3f", t_src.accuracy) +
               ", clinic test accuracy " + fmt("%.3f", t_clinic.accuracy) + " (" +
               fmt("%.0f", since(t0)) + " s)");
  out["teacher"] = {{"source_test", eval_json(t_src)},
                    {"clinic_test", eval_json(t_clinic)},
                    {"history", history_json(tres)},
                    {"seconds", tres.seconds}};

  // ---- the source-trained student that transfer starts from --------------
  t0 = Clock::now();
  stage(c, "[demo] training the transfer initialisation (cnn-small on the source images; "
           "privileged: needs the source images)");
  models::ModelConfig sconf;
  sconf.arch = "cnn-small";
  sconf.width = c.student_width;
  sconf.num_classes = data::kNumGrades;
  sconf.input_size = c.image_size;
  const std::string source_student_path =
      (root / "models" / "source_student.safetensors").string();
  {
    Generator g = Generator(c.seed).fork("init source student");
    std::shared_ptr<nn::Module> s = models::make_model(sconf, g);
    train::TrainOptions so = to;
    so.epochs = c.transfer_source_epochs;
    so.tag = "source-student";
    const train::TrainResult r = train::fit_supervised(*s, sconf, s_train, s_val, so);
    models::save_model(source_student_path, *s, r.config, r.metadata());
    const train::EvalResult e = train::evaluate(*s, r.config, s_test);
    out["source_student"] = {{"source_test", eval_json(e)}, {"seconds", r.seconds}};
  }
  timings["source_student_s"] = since(t0);

  // ---- students ----------------------------------------------------------
  const std::vector<std::string> methods = {"scratch", "transfer", "kd", "medtex"};
  const int64_t n_max = *std::max_element(c.labelled_sizes.begin(), c.labelled_sizes.end());
  json runs = json::array();
  json explanations = json::array();
  json overlays_info;
  t0 = Clock::now();

  // The explanation subset of the test set, fixed across seeds.
  const int64_t m = std::min<int64_t>(c.explain_images, c_test.size());
  const Tensor ex_raw = train::gather_images(c_test, 0, m);
  const Tensor ex_masks = gather_masks(c_test, m);
  std::vector<int64_t> mild;
  for (int64_t i = 0; i < m; ++i) {
    const int64_t y = clinic.labels[size_t(c_test.rows[size_t(i)])];
    if (y == 1 || y == 2) mild.push_back(i);
  }
  const Tensor ex_teacher_in = train::normalized(ex_raw, tconf);
  // The ground truth as an explanation (a reference, not a method): each
  // patch scored by its share of lesion pixels.
  const Tensor ex_oracle = [&] {
    Tensor lesion = Tensor::empty({m, c.image_size, c.image_size});
    const float* mk = ex_masks.data<float>();
    float* dst = lesion.data<float>();
    for (int64_t i = 0; i < lesion.numel(); ++i) dst[i] = mk[i] > 0.0f ? 1.0f : 0.0f;
    const int64_t g = c.image_size / c.patch;
    return explain::resize_to_grid(lesion, g, g);
  }();
  // Calibration: does the teacher's call rest on the lesions? On the source
  // test images (where it is right) and on the clinic's.
  auto reliance = [&](const Tensor& images, const Tensor& masks, const char* where) {
    const explain::LesionReliance r = explain::lesion_reliance(*teacher, images, masks, c.patch);
    out["teacher"][std::string("lesion_reliance_") + where] = {
        {"kept_only_same", num(r.kept.value())},
        {"removed_same", num(r.removed.value())},
        {"images", r.kept.evaluated}};
    stage(c, std::string("[demo] teacher on ") + where + " test images with lesions (" +
                 std::to_string(r.kept.evaluated) + "): same call on " +
                 fmt("%.3f", r.kept.value()) + " with only the lesion patches kept, on " +
                 fmt("%.3f", r.removed.value()) + " with them removed");
  };
  {
    const int64_t ms = std::min<int64_t>(c.explain_images, s_test.size());
    reliance(train::normalized(train::gather_images(s_test, 0, ms), tconf),
             gather_masks(s_test, ms), "source");
  }
  reliance(ex_teacher_in, ex_masks, "clinic");

  for (int s = 0; s < c.seeds; ++s) {
    const uint64_t run_seed = c.seed + uint64_t(s);
    std::shared_ptr<nn::Module> medtex_explainer, medtex_student;
    models::ModelConfig medtex_explainer_conf, medtex_student_conf;
    for (int64_t n : c.labelled_sizes) {
      const std::vector<int64_t> labelled = data::nested_subset(pool, clinic_strata, n, run_seed);
      const std::set<int64_t> lset(labelled.begin(), labelled.end());
      std::vector<int64_t> unlabeled;
      for (int64_t r : pool)
        if (!lset.count(r)) unlabeled.push_back(r);
      for (const std::string& mname : methods) {
        const auto tm = Clock::now();
        const train::Method method = train::parse_method(mname);
        models::ModelConfig conf = sconf;
        std::shared_ptr<nn::Module> student;
        if (method == train::Method::kTransfer) {
          models::LoadedModel lm = models::load_model(source_student_path, "cnn-small");
          student = lm.model;
          conf = lm.config;
        } else {
          Generator g = Generator(run_seed).fork("init");
          student = models::make_model(conf, g);
        }
        train::Nets nets;
        nets.teacher = teacher.get();
        nets.teacher_config = tconf;
        nets.student = student.get();
        nets.student_config = conf;
        std::shared_ptr<nn::Module> explainer;
        if (method == train::Method::kMedtex) {
          // The explainer sees the student's normalisation, which the trainer
          // computes; build it from a config whose statistics it fills in.
          nets.explainer_config = train::explainer_config_for(conf, c.patch);
          Generator g = Generator(run_seed).fork("init explainer");
          explainer = models::make_model(nets.explainer_config, g);
          nets.explainer = explainer.get();
        }
        train::DistillOptions d;
        d.method = method;
        d.steps = c.student_steps;
        d.epochs = 1;
        d.batch_size = c.batch_size;
        d.unlabeled_batch_size = c.batch_size;
        d.seed = run_seed;
        d.device = c.device;
        d.quiet = c.quiet_training;
        d.keep = train::Keep::kLast;
        d.precise_bn_images = c.precise_bn_images;
        d.medtex.k = c.k;
        d.tag = mname + " n=" + std::to_string(n) + " seed " + std::to_string(s);
        const bool uses_archive = train::needs_teacher(method);
        const train::DataRef lab{&clinic, labelled};
        const train::DataRef unl =
            uses_archive ? train::DataRef{&clinic, unlabeled} : train::DataRef{};
        const train::TrainResult r = train::distill(nets, lab, unl, train::DataRef{}, d);
        const train::EvalResult e =
            train::evaluate(*student, r.config, c_test, teacher.get(), &tconf);
        json j = eval_json(e);
        j["method"] = mname;
        j["n"] = n;
        j["seed"] = s;
        j["privileged"] = train::is_privileged(method);
        j["unlabelled_images"] = int64_t(unl.size());
        j["train_seconds"] = r.seconds;
        j["history"] = history_json(r);
        runs.push_back(j);
        stage(c, "[demo] seed " + std::to_string(s + 1) + "/" + std::to_string(c.seeds) + " n=" +
                     std::to_string(n) + " " + method_label(mname) + ": acc " +
                     fmt("%.3f", e.accuracy) + ", agreement " +
                     fmt("%.3f", e.teacher_agreement) + " (" + fmt("%.1f", since(tm)) + " s)");
        if (method == train::Method::kMedtex && n == n_max) {
          medtex_explainer = explainer;
          medtex_explainer_conf = r.explainer_config;
          medtex_student = student;
          medtex_student_conf = r.config;
          if (s == 0) {
            models::save_model((root / "models" / "explainer.safetensors").string(), *explainer,
                               r.explainer_config, r.metadata());
            models::save_model((root / "models" / "student_medtex.safetensors").string(),
                               *student, r.config, r.metadata());
          }
        }
      }
    }

    // ---- explanations, this seed -------------------------------------------
    const auto te = Clock::now();
    std::shared_ptr<nn::Module> l2x_explainer;
    models::ModelConfig l2x_conf;
    {
      const std::vector<int64_t> labelled =
          data::nested_subset(pool, clinic_strata, n_max, run_seed);
      const std::set<int64_t> lset(labelled.begin(), labelled.end());
      std::vector<int64_t> unlabeled;
      for (int64_t r : pool)
        if (!lset.count(r)) unlabeled.push_back(r);
      Generator g = Generator(run_seed).fork("init");
      std::shared_ptr<nn::Module> approx = models::make_model(sconf, g);
      train::Nets nets;
      nets.teacher = teacher.get();
      nets.teacher_config = tconf;
      nets.student = approx.get();
      nets.student_config = sconf;
      nets.explainer_config = train::explainer_config_for(sconf, c.patch);
      Generator ge = Generator(run_seed).fork("init explainer");
      l2x_explainer = models::make_model(nets.explainer_config, ge);
      nets.explainer = l2x_explainer.get();
      train::DistillOptions d;
      d.method = train::Method::kL2x;
      d.medtex = method::MedtexConfig::l2x();
      d.medtex.k = c.k;
      d.steps = c.student_steps;
      d.epochs = 1;
      d.batch_size = c.batch_size;
      d.unlabeled_batch_size = c.batch_size;
      d.seed = run_seed;
      d.device = c.device;
      d.quiet = c.quiet_training;
      d.keep = train::Keep::kLast;
      d.precise_bn_images = c.precise_bn_images;
      d.tag = "l2x seed " + std::to_string(s);
      const train::TrainResult r = train::distill(nets, train::DataRef{&clinic, labelled},
                                                  train::DataRef{&clinic, unlabeled},
                                                  train::DataRef{}, d);
      l2x_conf = r.explainer_config;
    }
    auto* resnet = dynamic_cast<models::ResNet18*>(teacher.get());
    MT_CHECK(resnet != nullptr, "demo: the teacher is not a resnet18");
    std::map<std::string, Tensor> scores;
    {
      Generator rg = Generator(run_seed).fork("random patches");
      const int64_t d = (c.image_size / c.patch) * (c.image_size / c.patch);
      scores["random"] = explain::random_patch_scores(m, d, rg);
    }
    scores["saliency"] = explain::gradient_saliency(*teacher, ex_teacher_in, c.patch);
    scores["grad-cam"] = explain::grad_cam(*resnet, ex_teacher_in, c.patch,
                                           explain::Upsample::kNearest, 64, c.grad_cam_stage);
    scores["lesions"] = ex_oracle;
    scores["l2x"] = explain::explainer_scores(*l2x_explainer, train::normalized(ex_raw, l2x_conf));
    scores["medtex"] = explain::explainer_scores(*medtex_explainer,
                                                 train::normalized(ex_raw, medtex_explainer_conf));
    explain::EvaluateOptions eo;
    eo.k = c.k;
    eo.steps = c.explain_steps;
    // Student fidelity: MED-TEX's student (largest n, this seed) on x~, in its
    // own normalisation, for every method's selection.
    eo.student_images = train::normalized(ex_raw, medtex_student_conf);
    const Tensor mild_in = pick(ex_teacher_in, mild);
    const Tensor mild_masks = pick(ex_masks, mild);
    for (const auto& [name, sc] : scores) {
      const explain::ExplanationEval all =
          explain::evaluate_explanations(*teacher, medtex_student.get(), ex_teacher_in, ex_masks,
                                         sc, eo);
      json j = explanation_json(all);
      j["student_fidelity"] = num(all.student_fidelity);
      if (!mild.empty()) {
        explain::EvaluateOptions mo = eo;
        mo.steps = 1;  // only the lesion metrics are read from the mild subset
        mo.student_images = Tensor();
        const explain::ExplanationEval me = explain::evaluate_explanations(
            *teacher, nullptr, mild_in, mild_masks, pick(sc, mild), mo);
        j["mild_lesion_precision"] = num(me.lesion_precision.value());
        j["mild_pointing_game"] = num(me.pointing_game.value());
        j["mild_images"] = me.lesion_precision.evaluated;
      }
      j["method"] = name;
      j["seed"] = s;
      explanations.push_back(j);
    }
    if (s == 0) {
      // Overlays of the first images for the report.
      const int64_t show = std::min<int64_t>(8, m);
      const int grid = c.image_size / c.patch;
      for (const char* name : {"medtex", "l2x", "saliency", "grad-cam"}) {
        const Tensor sel = explain::select_topk(pick(scores[name], [&] {
          std::vector<int64_t> v;
          for (int64_t i = 0; i < show; ++i) v.push_back(i);
          return v;
        }()), c.k);
        std::vector<int64_t> first;
        for (int64_t i = 0; i < show; ++i) first.push_back(i);
        const std::vector<data::Image> ims =
            explain::draw_overlays(pick(ex_raw, first), sel, grid, grid, pick(ex_masks, first));
        const fs::path dir = root / "overlays" / name;
        fs::create_directories(dir);
        json files = json::array();
        for (size_t i = 0; i < ims.size(); ++i) {
          const std::string p = (dir / (std::to_string(i) + ".png")).string();
          data::write_png(p, ims[i]);
          files.push_back(p);
        }
        overlays_info[name] = files;
      }
    }
    stage(c, "[demo] seed " + std::to_string(s + 1) + ": explanations evaluated on " +
                 std::to_string(m) + " test images (" + std::to_string(mild.size()) +
                 " mild) (" + fmt("%.1f", since(te)) + " s)");
  }
  timings["students_and_explanations_s"] = since(t0);
  timings["total_s"] = since(t_all);
  out["runs"] = runs;
  out["explanations"] = explanations;
  out["overlays"] = overlays_info;
  out["timings"] = timings;
  return out;
}

// ---- tables ------------------------------------------------------------------
namespace {

struct Stat {
  double mean = NAN, sd = NAN;
  int n = 0;
};

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  s.n = int(f.size());
  if (f.empty()) return s;
  double sum = 0;
  for (double x : f) sum += x;
  s.mean = sum / double(f.size());
  if (f.size() > 1) {
    double ss = 0;
    for (double x : f) ss += (x - s.mean) * (x - s.mean);
    s.sd = std::sqrt(ss / double(f.size() - 1));
  }
  return s;
}

double val(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

std::string cell(const Stat& s) {
  if (!std::isfinite(s.mean)) return "     -      ";
  char buf[64];
  if (std::isfinite(s.sd))
    std::snprintf(buf, sizeof buf, "%.3f ± %.3f", s.mean, s.sd);
  else
    std::snprintf(buf, sizeof buf, "%.3f       ", s.mean);
  return buf;
}

report::LineChart chart(const char* title, const char* x, const char* y) {
  report::LineChart c;
  c.title = title;
  c.x_label = x;
  c.y_label = y;
  return c;
}

std::vector<std::string> method_order() { return {"scratch", "transfer", "kd", "medtex"}; }

// s padded with spaces to `width` columns of a terminal (UTF-8: one column
// per code point, which holds for the symbols used here: ± † ‡ ↓ ↑).
std::string pad(const std::string& s, size_t width) {
  size_t cols = 0;
  for (unsigned char ch : s) cols += (ch & 0xC0) != 0x80;
  return s + std::string(cols < width ? width - cols : 0, ' ');
}

// One table row: the columns padded to their widths, two spaces apart.
std::string row(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    out += i + 1 < cells.size() ? pad(cells[i], widths[i]) + "  " : cells[i];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\n";
}

}  // namespace

std::string format_results_table(const json& res) {
  std::ostringstream o;
  const json& t = res["teacher"];
  o << "Teacher (resnet18): source test accuracy " << fmt("%.3f", val(t["source_test"], "accuracy"))
    << ", clinic test accuracy " << fmt("%.3f", val(t["clinic_test"], "accuracy"))
    << ", clinic macro-F1 " << fmt("%.3f", val(t["clinic_test"], "macro_f1")) << ", kappa "
    << fmt("%.3f", val(t["clinic_test"], "kappa")) << "\n";
  for (const char* where : {"source", "clinic"}) {
    const std::string key = std::string("lesion_reliance_") + where;
    if (!t.contains(key)) continue;
    const json& l = t[key];
    o << "Teacher on " << l["images"].get<int64_t>() << " " << where
      << " test images with lesions: same call on " << fmt("%.3f", val(l, "kept_only_same"))
      << " with only the lesion patches kept, on " << fmt("%.3f", val(l, "removed_same"))
      << " with them removed (the rest / they set to the fill)\n";
  }
  const int seeds = res["config"]["seeds"].get<int>();
  o << "Students (cnn-small) on the clinic's test set, mean ± sd over " << seeds
    << " seed(s):\n";
  const std::vector<size_t> w = {10, 5, 13, 13, 13, 13, 13};
  o << row({"method", "    n", "accuracy", "macro-F1", "macro AUC", "QW kappa", "agreement"}, w);
  for (int64_t n : res["config"]["labelled_sizes"].get<std::vector<int64_t>>()) {
    for (const std::string& m : method_order()) {
      std::map<std::string, std::vector<double>> v;
      for (const json& r : res["runs"]) {
        if (r["method"] != m || r["n"].get<int64_t>() != n) continue;
        for (const char* k : {"accuracy", "macro_f1", "macro_auc", "kappa", "agreement"})
          v[k].push_back(val(r, k));
      }
      char nbuf[32];
      std::snprintf(nbuf, sizeof nbuf, "%5lld", (long long)n);
      o << row({method_label(m), nbuf, cell(stat_of(v["accuracy"])), cell(stat_of(v["macro_f1"])),
                cell(stat_of(v["macro_auc"])), cell(stat_of(v["kappa"])),
                cell(stat_of(v["agreement"]))},
               w);
    }
  }
  o << "† transfer: privileged reference, initialised from a student trained on the source "
       "images, which the clinic does not have; not a competitor.\n";
  // Paired by seed: MED-TEX minus KD and minus scratch, per n.
  o << "Paired differences in accuracy (same seed, same labelled subset):\n";
  for (int64_t n : res["config"]["labelled_sizes"].get<std::vector<int64_t>>()) {
    for (const std::string other : {"kd", "scratch", "transfer"}) {
      std::vector<double> d;
      for (int s = 0; s < seeds; ++s) {
        double a = NAN, b = NAN;
        for (const json& r : res["runs"]) {
          if (r["n"].get<int64_t>() != n || r["seed"].get<int>() != s) continue;
          if (r["method"] == "medtex") a = val(r, "accuracy");
          if (r["method"] == other) b = val(r, "accuracy");
        }
        d.push_back(a - b);
      }
      const Stat st = stat_of(d);
      int wins = 0;
      for (double x : d) wins += x > 0;
      o << "  " << pad("n=" + std::to_string(n), 7) << "medtex - " << pad(method_label(other), 10)
        << fmt("%+.3f", st.mean) << (std::isfinite(st.sd) ? " ± " + fmt("%.3f", st.sd) : "")
        << "  (medtex ahead in " << wins << " of " << st.n << ")\n";
    }
  }
  return o.str();
}

std::string format_explanation_table(const json& res) {
  std::ostringstream o;
  const json& cfg = res["config"];
  o << "Explanations of the teacher on " << res["explanations"][0]["images"].get<int64_t>()
    << " clinic test images (k = " << cfg["k"].get<int>() << " patches of "
    << cfg["patch"].get<int>() << " px; deletion/insertion with "
    << cfg["explain_steps"].get<int>() << " steps), mean ± sd over seeds:\n";
  const std::vector<size_t> w = {9, 13, 13, 13, 13, 13, 13, 13};
  o << row({"method", "post-hoc acc", "student fid.", "deletion↓", "insertion↑", "lesion P@k",
            "P@k grade 1-2", "pointing"},
           w);
  for (const char* m : {"random", "saliency", "grad-cam", "l2x", "medtex", "lesions"}) {
    std::map<std::string, std::vector<double>> v;
    for (const json& r : res["explanations"]) {
      if (r["method"] != m) continue;
      for (const char* k : {"post_hoc_accuracy", "student_fidelity", "deletion_auc",
                            "insertion_auc", "lesion_precision", "mild_lesion_precision",
                            "pointing_game"})
        v[k].push_back(val(r, k));
    }
    o << row({std::string(m) == "lesions" ? "lesions‡" : m,
              cell(stat_of(v["post_hoc_accuracy"])), cell(stat_of(v["student_fidelity"])),
              cell(stat_of(v["deletion_auc"])), cell(stat_of(v["insertion_auc"])),
              cell(stat_of(v["lesion_precision"])), cell(stat_of(v["mild_lesion_precision"])),
              cell(stat_of(v["pointing_game"]))},
             w);
  }
  o << "l2x: the explainer trained without distillation (L2X/VIBI); medtex: the explainer "
       "trained jointly with the student at the largest n; grad-cam on layer"
    << (cfg.contains("grad_cam_stage") ? cfg["grad_cam_stage"].get<int>() : 4)
    << "; student fid.: MED-TEX's student (largest n) on the k kept patches, normalised "
       "with the masked batch's statistics as in its training, agrees with the teacher on the "
       "whole image.\n"
       "‡ lesions: the ground-truth lesion masks as the scores (a reference, not an explainer: "
       "no method sees them).\n";
  return o.str();
}

void write_study_outputs(const json& res, const StudyConfig& c, int argc,
                         const char* const* argv) {
  const fs::path root(c.work_dir);
  report::write_file_atomic((root / "results.json").string(), res.dump(2));

  report::Report r(c.quick ? "medtex demo --quick (pipeline test)" : "medtex demo");
  report::RunInfo info = report::collect_run_info(argc, argv);
  info.seed = c.seed;
  r.set_run_info(info);
  r.section("Setting");
  r.paragraph(std::string(c.same_domain ? "Same-domain" : "Cross-domain") +
              " study: a resnet18 teacher trained on the synthetic source archive, cnn-small "
              "students trained on the clinic's few labelled images (and, for kd and medtex, its "
              "unlabelled archive through the teacher)." +
              (c.quick ? "\n\nThis is --quick: tiny sizes to test the pipeline; the numbers mean "
                         "nothing."
                       : ""));
  r.section("Teacher");
  {
    report::LineChart ch = chart("Teacher loss", "epoch", "loss");
    std::vector<double> x, tr, va;
    for (const json& e : res["teacher"]["history"]) {
      x.push_back(e["epoch"].get<double>());
      tr.push_back(val(e, "train_loss"));
      va.push_back(val(e, "val_loss"));
    }
    ch.add("train", x, tr);
    ch.add("val (source)", x, va).dashed = true;
    r.chart(ch);
  }
  r.section("Students");
  r.preformatted(format_results_table(res));
  {
    report::Table tb;
    tb.caption = "Clinic test set, mean ± sd over seeds";
    tb.headers = {"method", "n", "accuracy", "macro-F1", "QW kappa", "agreement"};
    tb.best = {report::Table::Best::kNone, report::Table::Best::kNone, report::Table::Best::kMax,
               report::Table::Best::kMax, report::Table::Best::kMax, report::Table::Best::kMax};
    for (int64_t n : res["config"]["labelled_sizes"].get<std::vector<int64_t>>()) {
      for (const std::string& m : method_order()) {
        std::map<std::string, std::vector<double>> v;
        for (const json& run : res["runs"])
          if (run["method"] == m && run["n"].get<int64_t>() == n)
            for (const char* k : {"accuracy", "macro_f1", "kappa", "agreement"})
              v[k].push_back(val(run, k));
        std::vector<report::Cell> cells = {report::Cell(m), report::Cell(double(n))};
        for (const char* k : {"accuracy", "macro_f1", "kappa", "agreement"}) {
          const Stat st = stat_of(v[k]);
          cells.push_back(report::Cell::mean_sd(st.mean, st.sd));
        }
        tb.add_row(cells, m == "transfer");
      }
    }
    r.table(tb);
  }
  {
    report::LineChart ch = chart("Learning curves (clinic test accuracy)", "labelled images n", "accuracy");
    ch.log_x = true;
    const auto ns = res["config"]["labelled_sizes"].get<std::vector<int64_t>>();
    for (const std::string& m : method_order()) {
      std::vector<double> x, y, e;
      for (int64_t n : ns) {
        std::vector<double> v;
        for (const json& run : res["runs"])
          if (run["method"] == m && run["n"].get<int64_t>() == n) v.push_back(val(run, "accuracy"));
        const Stat st = stat_of(v);
        x.push_back(double(n));
        y.push_back(st.mean);
        e.push_back(std::isfinite(st.sd) ? st.sd : 0.0);
      }
      ch.add(method_label(m), x, y, e);
    }
    r.chart(ch);
  }
  {
    report::LineChart ch = chart("Student training loss (seed 0, largest n)", "epoch", "loss");
    const auto ns = res["config"]["labelled_sizes"].get<std::vector<int64_t>>();
    const int64_t nmax = *std::max_element(ns.begin(), ns.end());
    for (const json& run : res["runs"]) {
      if (run["seed"].get<int>() != 0 || run["n"].get<int64_t>() != nmax) continue;
      std::vector<double> x, y;
      for (const json& e : run["history"]) {
        x.push_back(e["epoch"].get<double>());
        y.push_back(val(e, "train_loss"));
      }
      ch.add(run["method"].get<std::string>(), x, y);
    }
    r.chart(ch);
  }
  r.section("Explanations");
  r.preformatted(format_explanation_table(res));
  if (res.contains("overlays") && res["overlays"].is_object()) {
    for (const auto& [name, files] : res["overlays"].items()) {
      std::vector<report::Figure> figs;
      for (const json& f : files) figs.push_back({data::read_image(f.get<std::string>()), ""});
      r.figure_grid(figs, 4,
                    name + ": the k selected patches (yellow outline) and the lesions (cyan)");
    }
  }
  r.write((root / "report.html").string());
}

}  // namespace medtex::study
