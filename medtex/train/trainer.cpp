#include "medtex/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "engine/ops.h"
#include "engine/optim/optimizer.h"
#include "engine/optim/schedule.h"
#include "kernels/common/error.h"
#include "medtex/data/loader.h"
#include "medtex/method/multilabel.h"
#include "medtex/method/relaxed_topk.h"
#include "medtex/train/checkpoint.h"
#include "medtex/train/progress.h"
#include "models/explainer.h"

namespace medtex::train {

// ---- names -----------------------------------------------------------------------

namespace {
struct MethodName {
  Method method;
  const char* name;
};
constexpr MethodName kMethods[] = {
    {Method::kSupervised, "supervised"}, {Method::kScratch, "scratch"},
    {Method::kTransfer, "transfer"},     {Method::kKd, "kd"},
    {Method::kMedtex, "medtex"},         {Method::kL2x, "l2x"}};
}  // namespace

Method parse_method(const std::string& name) {
  std::string list;
  for (const MethodName& m : kMethods) {
    if (name == m.name) return m.method;
    list += (list.empty() ? "" : ", ") + std::string(m.name);
  }
  fail("unknown method '", name, "' (methods: ", list, ")");
}

const char* method_name(Method m) {
  for (const MethodName& x : kMethods) {
    if (x.method == m) return x.name;
  }
  return "?";
}

bool needs_teacher(Method m) {
  return m == Method::kKd || m == Method::kMedtex || m == Method::kL2x;
}
bool needs_explainer(Method m) {
  return m == Method::kMedtex || m == Method::kL2x;
}
bool is_privileged(Method m) {
  return m == Method::kTransfer;
}

Keep parse_keep(const std::string& name) {
  if (name == "auto") return Keep::kAuto;
  if (name == "best") return Keep::kBest;
  if (name == "last") return Keep::kLast;
  fail("unknown --keep '", name, "' (auto, best or last)");
}

models::ModelConfig explainer_config_for(const models::ModelConfig& student, int patch) {
  models::ModelConfig c;
  c.arch = "explainer";
  c.width = 1.0;
  c.num_classes = 1;
  c.in_channels = student.in_channels;
  c.input_size = student.input_size;
  c.patch = patch;
  c.norm_mean = student.norm_mean;
  c.norm_std = student.norm_std;
  return c;
}

// ---- JSON ------------------------------------------------------------------------

namespace {

using nlohmann::json;

json num(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);
}
double from_num(const json& j) {
  return j.is_null() ? EvalResult::kNaN : j.get<double>();
}

EpochRecord epoch_from_json(const json& j) {
  EpochRecord e;
  e.epoch = j.at("epoch").get<int64_t>();
  e.steps = j.at("steps").get<int64_t>();
  e.lr = j.at("lr").get<double>();
  e.train_loss = from_num(j.at("train_loss"));
  for (const auto& [k, v] : j.at("train_terms").items()) e.train_terms[k] = from_num(v);
  e.images = j.at("images").get<int64_t>();
  e.seconds = j.at("seconds").get<double>();
  e.images_per_second = j.at("images_per_second").get<double>();
  e.has_val = j.contains("val_loss");
  if (e.has_val) {
    e.val_loss = from_num(j.at("val_loss"));
    e.val_accuracy = from_num(j.at("val_accuracy"));
    e.val_macro_f1 = from_num(j.at("val_macro_f1"));
    e.val_agreement = from_num(j.at("val_agreement"));
  }
  return e;
}

}  // namespace

nlohmann::json to_json(const EpochRecord& e) {
  json j;
  j["epoch"] = e.epoch;
  j["steps"] = e.steps;
  j["lr"] = e.lr;
  j["train_loss"] = num(e.train_loss);
  json terms = json::object();
  for (const auto& [k, v] : e.train_terms) terms[k] = num(v);
  j["train_terms"] = terms;
  j["images"] = e.images;
  j["seconds"] = e.seconds;
  j["images_per_second"] = e.images_per_second;
  if (e.has_val) {
    j["val_loss"] = num(e.val_loss);
    j["val_accuracy"] = num(e.val_accuracy);
    j["val_macro_f1"] = num(e.val_macro_f1);
    j["val_agreement"] = num(e.val_agreement);
  }
  return j;
}

nlohmann::json to_json(const TrainResult& r) {
  json j;
  j["method"] = method_name(r.method);
  j["privileged"] = r.privileged;
  j["kept"] = r.kept;
  j["best_epoch"] = r.best_epoch;
  j["steps"] = r.steps;
  j["total_steps"] = r.total_steps;
  j["steps_per_epoch"] = r.steps_per_epoch;
  j["finished"] = r.finished;
  j["resumed_from_step"] = r.resumed_from;
  j["labelled_images"] = r.labelled_images;
  j["unlabeled_images"] = r.unlabeled_images;
  j["val_images"] = r.val_images;
  j["seconds"] = r.seconds;
  j["images_per_second"] = r.images_per_second;
  json h = json::array();
  for (const EpochRecord& e : r.history) h.push_back(to_json(e));
  j["history"] = h;
  if (r.final_val.images > 0) j["validation"] = to_json(r.final_val);
  return j;
}

std::map<std::string, std::string> TrainResult::metadata() const {
  return {{"medtex.method", method_name(method)},
          {"medtex.privileged", privileged ? "1" : "0"},
          {"medtex.kept", kept},
          {"medtex.best_epoch", std::to_string(best_epoch)},
          {"medtex.steps", std::to_string(steps)}};
}

// ---- the loop ----------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

// One source of batches: the labelled images or the unlabelled archive.
struct Stream {
  DataRef data;
  std::unique_ptr<data::Loader> loader;
  int64_t batches_per_epoch = 0;
  int64_t epoch = -1;  // the loader's current epoch
  bool labelled = true;

  // Batch (s mod B) of epoch (s div B): a pure function of the step.
  data::Batch batch_at(int64_t step) {
    const int64_t e = step / batches_per_epoch, b = step % batches_per_epoch;
    if (e != epoch || b == 0) {
      loader->start_epoch(e, b);
      epoch = e;
    }
    data::Batch out;
    MT_CHECK(loader->next(out), "trainer: the loader ran out of batches at step ", step);
    return out;
  }
};

Stream make_stream(const DataRef& d, int batch_size, bool labelled, const TrainOptions& o,
                   const Generator& gen) {
  Stream s;
  s.data = d;
  s.labelled = labelled;
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = true;
  // A last batch of one image would train BatchNorm on a single sample's
  // statistics; leave it out (it is another image each epoch).
  lo.drop_last = d.size() > 1 && d.size() % batch_size == 1;
  lo.augment = o.augment;
  lo.aug = o.augmentation;
  s.loader = std::make_unique<data::Loader>(*d.set, d.rows, lo, gen);
  s.batches_per_epoch = s.loader->batches_per_epoch();
  return s;
}

std::unique_ptr<optim::Optimizer> make_optimizer(const OptimizerOptions& o,
                                                 std::vector<Tensor> params) {
  MT_CHECK(std::isfinite(o.lr) && o.lr > 0, "optimizer: lr must be positive, got ", o.lr);
  if (o.name == "adamw" || o.name == "adam") {
    optim::AdamOptions a = o.name == "adamw" ? optim::adamw_defaults() : optim::AdamOptions{};
    a.lr = o.lr;
    if (o.weight_decay >= 0) a.weight_decay = o.weight_decay;
    return std::make_unique<optim::Adam>(std::move(params), a);
  }
  if (o.name == "sgd") {
    optim::SgdOptions s;
    s.lr = o.lr;
    s.momentum = o.momentum;
    s.weight_decay = o.weight_decay >= 0 ? o.weight_decay : 5e-4;
    s.nesterov = o.nesterov;
    return std::make_unique<optim::SGD>(std::move(params), s);
  }
  fail("unknown optimizer '", o.name, "' (adamw, adam or sgd)");
}

struct StepTerms {
  Tensor total;
  std::vector<std::pair<std::string, Tensor>> terms;  // unweighted, for the history
  int64_t labelled = 0;
};

std::string dump(double v) {
  return json(v).dump();
}

// Everything that decides the trajectory, as flat "run.*" metadata: a resumed
// run must match it entry for entry.
Metadata run_signature(const Nets& nets, const DataRef& labelled, const DataRef& unlabeled,
                       const DataRef& val, const DistillOptions& o, int64_t total_steps) {
  Metadata m;
  m["run.method"] = method_name(o.method);
  m["run.total_steps"] = std::to_string(total_steps);
  m["run.batch_size"] = std::to_string(o.batch_size);
  m["run.unlabeled_batch_size"] = std::to_string(o.unlabeled_batch_size);
  m["run.optimizer"] = o.optimizer.name;
  m["run.lr"] = dump(o.optimizer.lr);
  m["run.weight_decay"] = dump(o.optimizer.weight_decay);
  m["run.momentum"] = dump(o.optimizer.momentum);
  m["run.nesterov"] = o.optimizer.nesterov ? "1" : "0";
  m["run.warmup"] = dump(o.optimizer.warmup);
  m["run.min_lr"] = dump(o.optimizer.min_lr);
  m["run.augment"] = o.augment ? "1" : "0";
  m["run.seed"] = std::to_string(o.seed);
  m["run.keep"] = std::to_string(int(o.keep));
  m["run.precise_bn_images"] = std::to_string(o.precise_bn_images);
  // The rows themselves, by a 64-bit FNV-1a hash of their stable sample ids.
  auto rows_hash = [](const DataRef& d) {
    uint64_t h = 1469598103934665603ull;
    if (d.set == nullptr) return std::string("none");
    for (int64_t r : d.rows) {
      const uint64_t id = uint64_t(d.set->sample[size_t(r)]);
      for (int b = 0; b < 8; ++b) h = (h ^ ((id >> (8 * b)) & 0xff)) * 1099511628211ull;
    }
    return std::to_string(d.rows.size()) + " rows, hash " + std::to_string(h);
  };
  m["run.labelled"] = rows_hash(labelled);
  m["run.unlabeled"] = rows_hash(unlabeled);
  m["run.val"] = rows_hash(val);
  if (o.method == Method::kKd) {
    m["run.kd.a"] = dump(o.kd.a);
    m["run.kd.temperature"] = dump(o.kd.temperature);
  }
  if (needs_explainer(o.method)) {
    m["run.medtex.a"] = dump(o.medtex.a);
    m["run.medtex.b"] = dump(o.medtex.b);
    m["run.medtex.c"] = dump(o.medtex.c);
    m["run.medtex.h"] = dump(o.medtex.h);
    m["run.medtex.temperature"] = dump(o.medtex.temperature);
    m["run.medtex.tau"] = dump(o.medtex.tau);
    m["run.medtex.k"] = std::to_string(o.medtex.k);
    m["run.medtex.fill"] = dump(o.medtex.fill);
  }
  for (const auto& [k, v] : models::config_to_metadata(nets.student_config)) {
    m["run.student." + k] = v;
  }
  if (nets.explainer) {
    for (const auto& [k, v] : models::config_to_metadata(nets.explainer_config)) {
      m["run.explainer." + k] = v;
    }
  }
  if (nets.teacher) {
    for (const auto& [k, v] : models::config_to_metadata(nets.teacher_config)) {
      m["run.teacher." + k] = v;
    }
  }
  return m;
}

class Trainer {
 public:
  Trainer(const Nets& nets, const DataRef& labelled, const DataRef& unlabeled, const DataRef& val,
          const DistillOptions& o)
      : nets_(nets), labelled_(labelled), unlabeled_(unlabeled), val_(val), o_(o) {}

  TrainResult run();

 private:
  void validate_inputs();
  StepTerms compute(const Tensor& images, const Tensor& labels, const Tensor& targets,
                    const Tensor& known);
  void check_finite(const StepTerms& t, int64_t step, int64_t epoch) const;
  void save(int64_t step);
  void resume();
  void end_epoch(int64_t step);
  void refresh_batchnorm();
  void report(const Progress& p) const;

  Nets nets_;
  DataRef labelled_, unlabeled_, val_;
  DistillOptions o_;
  bool multi_label_ = false;
  bool keep_best_ = false;
  std::string tag_;

  std::vector<Stream> streams_;
  std::unique_ptr<optim::Optimizer> opt_;
  std::vector<Tensor> params_;
  Generator gumbel_{0};
  int64_t steps_per_epoch_ = 0, total_steps_ = 0, epochs_ = 0;
  int64_t step_ = 0;
  Metadata signature_;

  // The running epoch's sums (saved with mid-epoch checkpoints).
  double sum_loss_ = 0.0;
  std::map<std::string, double> sum_terms_;
  int64_t epoch_steps_ = 0, epoch_images_ = 0;
  double epoch_seconds_ = 0.0;
  double last_lr_ = 0.0;
  // This process's training time, steps and images (for rates and the ETA).
  double train_seconds_ = 0.0;
  int64_t run_steps_ = 0, run_images_ = 0;

  std::vector<EpochRecord> history_;
  int64_t best_epoch_ = 0;
  double best_score_ = -INFINITY, best_loss_ = INFINITY;
  TensorMap best_;

  TrainResult result_;
};

void Trainer::validate_inputs() {
  const Method m = o_.method;
  MT_CHECK(nets_.student != nullptr, "trainer: no student net");
  MT_CHECK(!needs_teacher(m) || nets_.teacher != nullptr, method_name(m),
           " needs a teacher (--teacher)");
  MT_CHECK(!needs_explainer(m) || nets_.explainer != nullptr, method_name(m),
           " needs an explainer");
  MT_CHECK(o_.batch_size >= 1, "trainer: batch size must be positive, got ", o_.batch_size);
  MT_CHECK(o_.unlabeled_batch_size >= 0, "trainer: unlabelled batch size must be >= 0, got ",
           o_.unlabeled_batch_size);
  MT_CHECK(o_.epochs >= 1 || o_.steps > 0, "trainer: epochs must be positive, got ", o_.epochs);
  MT_CHECK(o_.steps >= 0, "trainer: steps must be >= 0, got ", o_.steps);
  MT_CHECK(o_.optimizer.warmup >= 0 && o_.optimizer.warmup <= 1,
           "trainer: warm-up must be a fraction in [0, 1], got ", o_.optimizer.warmup);
  MT_CHECK(o_.optimizer.min_lr >= 0 && o_.optimizer.min_lr <= 1,
           "trainer: min_lr must be a fraction of lr in [0, 1], got ", o_.optimizer.min_lr);
  const bool uses_unlabeled = needs_teacher(m);
  MT_CHECK(uses_unlabeled || unlabeled_.empty(), method_name(m),
           " learns from labels only; it cannot use unlabelled images (--unlabeled is for kd, "
           "medtex and l2x)");
  MT_CHECK(!labelled_.empty() || (uses_unlabeled && !unlabeled_.empty()), method_name(m),
           uses_unlabeled ? " needs labelled or unlabelled training images"
                          : " needs labelled training images");
  const data::ImageSet* ref = !labelled_.empty() ? labelled_.set : unlabeled_.set;
  multi_label_ = !labelled_.empty() ? labelled_.set->multi_label : false;
  if (!labelled_.empty()) check_model_fits(nets_.student_config, *labelled_.set, "the student");
  if (!val_.empty()) {
    check_model_fits(nets_.student_config, *val_.set, "the student");
    MT_CHECK(val_.set->multi_label == ref->multi_label || labelled_.empty(),
             "trainer: the validation set is ", val_.set->multi_label ? "" : "not ",
             "multi-label but the training set is ", multi_label_ ? "" : "not");
    if (labelled_.empty()) multi_label_ = val_.set->multi_label;
  }
  MT_CHECK(unlabeled_.empty() || unlabeled_.set->size == nets_.student_config.input_size,
           "the student was built for ", nets_.student_config.input_size, "x",
           nets_.student_config.input_size, " images but the unlabelled images are loaded at ",
           unlabeled_.empty() ? 0 : unlabeled_.set->size);
  if (nets_.teacher) {
    MT_CHECK(nets_.teacher_config.num_classes == nets_.student_config.num_classes,
             "the teacher has ", nets_.teacher_config.num_classes, " outputs but the student ",
             nets_.student_config.num_classes);
    MT_CHECK(nets_.teacher_config.input_size == ref->size, "the teacher was built for ",
             nets_.teacher_config.input_size, "x", nets_.teacher_config.input_size,
             " images but the data are loaded at ", ref->size, "x", ref->size);
  }
  if (nets_.explainer) {
    MT_CHECK(nets_.explainer_config.input_size == ref->size, "the explainer was built for ",
             nets_.explainer_config.input_size, " px images but the data are ", ref->size, " px");
  }
  const bool has_val = !val_.empty();
  MT_CHECK(o_.keep != Keep::kBest || has_val,
           "keeping the best weights needs a validation set (--val-fraction or --val)");
  keep_best_ = o_.keep == Keep::kBest || (o_.keep == Keep::kAuto && has_val);
  tag_ = !o_.tag.empty()            ? o_.tag
         : m == Method::kSupervised ? std::string("train")
                                    : std::string("distill:") + method_name(m);
}

StepTerms Trainer::compute(const Tensor& images, const Tensor& labels, const Tensor& targets_host,
                           const Tensor& known_host) {
  StepTerms out;
  nn::Module& student = *nets_.student;
  // Batches are prepared on the host; labels stay there (the label terms
  // build their targets on the host), everything else goes to the device.
  const Tensor x = normalized(images, nets_.student_config).to(o_.device);
  const Tensor targets = targets_host.defined() ? targets_host.to(o_.device) : Tensor();
  const Tensor known = known_host.defined() ? known_host.to(o_.device) : Tensor();
  const Method m = o_.method;
  if (m == Method::kSupervised || m == Method::kScratch || m == Method::kTransfer) {
    const Tensor s = student.forward(x);
    if (multi_label_) {
      const method::MultiLabelTerm t = method::known_bce_with_logits(s, targets, known);
      out.total = t.loss;
      out.labelled = t.labelled;
    } else {
      const method::LabelTerm t = method::labelled_cross_entropy(s, labels);
      out.total = t.loss;
      out.labelled = t.labelled;
    }
    out.terms = {{"label", out.total}};
    return out;
  }
  const Tensor t = method::teacher_logits(
      *nets_.teacher, normalized(images, nets_.teacher_config).to(o_.device));
  if (m == Method::kKd) {
    const Tensor s = student.forward(x);
    const method::KdTerms k = multi_label_
                                  ? method::multilabel_hinton_kd(s, t, targets, known, o_.kd)
                                  : method::hinton_kd(s, t, labels, o_.kd);
    out.total = k.total;
    out.labelled = k.labelled;
    out.terms = {{"kd", k.kd}, {"label", k.label}};
    return out;
  }
  method::MedtexConfig mc = o_.medtex;
  if (m == Method::kL2x) {
    mc.a = 0.0;
    mc.h = 0.0;
  }
  const int64_t d =
      models::patch_count(nets_.explainer_config.patch, images.size(2), images.size(3));
  // The noise has the explainer logits' shape [N, d]; drawn before the pass
  // so the pass itself is a pure function of its inputs.
  const Tensor noise =
      method::gumbel_noise(mc.k, Tensor::empty({images.size(0), d}, x.dtype(), x.device()), gumbel_);
  const method::MedtexPass p =
      multi_label_
          ? method::multilabel_pass_from(t, student, *nets_.explainer, x, targets, known, mc, noise)
          : method::medtex_pass_from(t, student, *nets_.explainer, x, labels, mc, noise);
  out.total = p.terms.total;
  out.labelled = p.terms.labelled;
  out.terms = {{"kd", p.terms.kd},
               {"explain", p.terms.explain},
               {"prior", p.terms.prior},
               {"label", p.terms.label}};
  return out;
}

void Trainer::check_finite(const StepTerms& t, int64_t step, int64_t epoch) const {
  // Named terms first: the message says which one went wrong, not just "total".
  for (const auto& [name, v] : t.terms) {
    const double x = v.item();
    MT_CHECK(std::isfinite(x), "training diverged at step ", step + 1, "/", total_steps_,
             " (epoch ", epoch + 1, "): the ", name, " loss term is ", x,
             "; stopped instead of training on (lower the learning rate, now ", last_lr_,
             ", or check the images for NaN)");
  }
  const double total = t.total.item();
  MT_CHECK(std::isfinite(total), "training diverged at step ", step + 1, "/", total_steps_,
           " (epoch ", epoch + 1, "): the total loss is ", total,
           "; stopped instead of training on (lower the learning rate, now ", last_lr_, ")");
}

void Trainer::save(int64_t step) {
  if (o_.checkpoint.empty()) return;
  TensorMap tensors;
  add_module_tensors(tensors, "student", *nets_.student);
  if (nets_.explainer) add_module_tensors(tensors, "explainer", *nets_.explainer);
  for (const auto& [name, t] : best_) tensors["best." + name] = t;
  Metadata meta = signature_;
  meta["step"] = std::to_string(step);
  meta["rng.gumbel"] = encode_generator(gumbel_);
  json h = json::array();
  for (const EpochRecord& e : history_) h.push_back(to_json(e));
  meta["history"] = h.dump();
  json acc;
  acc["sum_loss"] = sum_loss_;
  acc["sum_terms"] = sum_terms_;
  acc["steps"] = epoch_steps_;
  acc["images"] = epoch_images_;
  acc["seconds"] = epoch_seconds_;
  acc["lr"] = last_lr_;
  meta["epoch_sums"] = acc.dump();
  json best;
  best["epoch"] = best_epoch_;
  best["score"] = num(best_score_);
  best["loss"] = num(best_loss_);
  meta["best"] = best.dump();
  write_checkpoint(o_.checkpoint, std::move(tensors), *opt_, std::move(meta));
}

void Trainer::resume() {
  const std::string& path = o_.checkpoint;
  const SafetensorsFile f = read_checkpoint(path);
  Metadata saved;
  for (const auto& [k, v] : f.metadata) {
    if (k.compare(0, 4, "run.") == 0) saved[k] = v;
  }
  // The settings that say "another run" most plainly are compared first.
  std::string diff;
  for (const char* key : {"run.method", "run.student.arch", "run.student.width",
                          "run.student.num_classes", "run.student.input_size"}) {
    const auto a = saved.find(key), b = signature_.find(key);
    if (a != saved.end() && b != signature_.end() && a->second != b->second) {
      diff = std::string(key) + ": the checkpoint has " + a->second + ", this run has " + b->second;
      break;
    }
  }
  if (diff.empty()) diff = first_difference(saved, signature_);
  MT_CHECK(diff.empty(), path, ": cannot resume: ", diff,
           " (a resumed run needs the settings and data of the run that wrote the checkpoint)");
  auto meta = [&](const std::string& key) -> const std::string& {
    const auto it = f.metadata.find(key);
    MT_CHECK(it != f.metadata.end(), path, ": checkpoint metadata has no '", key, "'");
    return it->second;
  };
  try {
    step_ = std::stoll(meta("step"));
    const int64_t opt_steps = std::stoll(meta("optim.steps"));
    MT_CHECK(step_ >= 0 && step_ <= total_steps_ && opt_steps == step_, path, ": step ", step_,
             " / optimiser steps ", opt_steps, " do not fit a run of ", total_steps_, " steps");
    load_module_tensors(f.tensors, "student", *nets_.student, path);
    if (nets_.explainer) load_module_tensors(f.tensors, "explainer", *nets_.explainer, path);
    restore_optimizer(*opt_, f.tensors, opt_steps, path);
    decode_generator(meta("rng.gumbel"), gumbel_, path);
    history_.clear();
    for (const json& e : json::parse(meta("history"))) history_.push_back(epoch_from_json(e));
    const json acc = json::parse(meta("epoch_sums"));
    sum_loss_ = acc.at("sum_loss").get<double>();
    sum_terms_ = acc.at("sum_terms").get<std::map<std::string, double>>();
    epoch_steps_ = acc.at("steps").get<int64_t>();
    epoch_images_ = acc.at("images").get<int64_t>();
    epoch_seconds_ = acc.at("seconds").get<double>();
    last_lr_ = acc.at("lr").get<double>();
    const json best = json::parse(meta("best"));
    best_epoch_ = best.at("epoch").get<int64_t>();
    best_score_ = best.at("score").is_null() ? -INFINITY : best.at("score").get<double>();
    best_loss_ = best.at("loss").is_null() ? INFINITY : best.at("loss").get<double>();
    best_.clear();
    for (const auto& [name, t] : with_prefix(f.tensors, "best")) best_[name] = t;
  } catch (const json::exception& e) {
    fail(path, ": malformed checkpoint metadata (", e.what(), ")");
  } catch (const std::logic_error& e) {
    // std::stoll's invalid_argument / out_of_range (medtex::Error is a runtime_error).
    fail(path, ": malformed checkpoint step (", e.what(), ")");
  }
  result_.resumed_from = step_;
}

void Trainer::report(const Progress& p) const {
  if (o_.on_progress) {
    o_.on_progress(p);
  } else if (!o_.quiet) {
    print_progress(p);
  }
}

void Trainer::refresh_batchnorm() {
  if (o_.precise_bn_images <= 0) return;
  // The student's own training images, labelled first; un-augmented, in
  // their order (fixed, so the statistics are a pure function of the weights).
  DataRef pick;
  for (const DataRef* d : {&labelled_, &unlabeled_}) {
    if (d->empty()) continue;
    if (pick.set == nullptr) pick.set = d->set;
    if (d->set != pick.set) break;  // two image sets: the first one's rows only
    for (int64_t r : d->rows) {
      if (int64_t(pick.rows.size()) >= o_.precise_bn_images) break;
      pick.rows.push_back(r);
    }
  }
  if (pick.empty()) return;
  const int64_t bs = std::max<int64_t>(1, o_.eval_batch_size);
  const int64_t n = pick.size();
  // Whole batches only (a short last one would weigh as much as a full one).
  nn::precise_batchnorm(*nets_.student, std::max<int64_t>(1, n / bs), [&](int64_t t) {
    const int64_t b = t * bs, e = std::min(n, b + bs);
    return normalized(gather_images(pick, b, e), nets_.student_config)
        .to(nets_.student->device());
  });
}

void Trainer::end_epoch(int64_t step) {
  refresh_batchnorm();
  EpochRecord e;
  e.epoch = (step - 1) / steps_per_epoch_ + 1;
  e.steps = step;
  e.lr = last_lr_;
  e.train_loss = epoch_steps_ ? sum_loss_ / double(epoch_steps_) : EvalResult::kNaN;
  for (const auto& [k, v] : sum_terms_) e.train_terms[k] = v / double(epoch_steps_);
  e.images = epoch_images_;
  e.seconds = epoch_seconds_;
  e.images_per_second = epoch_seconds_ > 0 ? double(epoch_images_) / epoch_seconds_ : 0.0;
  bool is_best = false;
  if (!val_.empty()) {
    EvalOptions eo;
    eo.batch_size = o_.eval_batch_size;
    const EvalResult r = evaluate(*nets_.student, nets_.student_config, val_, nets_.teacher,
                                  nets_.teacher ? &nets_.teacher_config : nullptr, eo);
    e.has_val = true;
    e.val_loss = r.loss;
    e.val_accuracy = r.score();
    e.val_macro_f1 = r.macro_f1;
    e.val_agreement = r.teacher_agreement;
    if (keep_best_) {
      const double score = std::isnan(r.score()) ? -INFINITY : r.score();
      const double loss = std::isnan(r.loss) ? INFINITY : r.loss;
      is_best =
          best_epoch_ == 0 || score > best_score_ || (score == best_score_ && loss < best_loss_);
      if (is_best) {
        best_epoch_ = e.epoch;
        best_score_ = score;
        best_loss_ = loss;
        best_.clear();
        add_module_tensors(best_, "student", *nets_.student, /*copy=*/true);
        if (nets_.explainer) add_module_tensors(best_, "explainer", *nets_.explainer, true);
      }
    }
  }
  history_.push_back(e);
  sum_loss_ = 0.0;
  sum_terms_.clear();
  epoch_steps_ = epoch_images_ = 0;
  epoch_seconds_ = 0.0;
  Progress p;
  p.tag = tag_;
  p.step = step;
  p.total_steps = total_steps_;
  p.epoch = e.epoch;
  p.epochs = epochs_;
  p.loss = e.train_loss;
  p.lr = e.lr;
  p.images_per_second = e.images_per_second;
  p.eta_seconds =
      run_steps_ > 0 ? train_seconds_ / double(run_steps_) * double(total_steps_ - step) : 0.0;
  p.epoch_end = true;
  p.record = &history_.back();
  p.best = is_best;
  report(p);
}

TrainResult Trainer::run() {
  validate_inputs();
  const Method m = o_.method;
  // Input statistics over every local training image (labelled and
  // unlabelled: the labels play no part), unless the net comes with its own
  // (transfer keeps the source weights' normalisation: its first layers were
  // trained on images normalised that way).
  if (o_.normalize && nets_.student_config.norm_mean.empty()) {
    compute_normalization({&labelled_, &unlabeled_}, nets_.student_config);
  }
  if (nets_.explainer) {
    nets_.explainer_config.norm_mean = nets_.student_config.norm_mean;
    nets_.explainer_config.norm_std = nets_.student_config.norm_std;
  }

  const Generator base(o_.seed);
  const Generator data_gen = base.fork("data");
  gumbel_ = base.fork("gumbel");
  if (!labelled_.empty()) {
    streams_.push_back(make_stream(labelled_, o_.batch_size, true, o_, data_gen.fork("labelled")));
  }
  if (!unlabeled_.empty()) {
    const int ub = o_.unlabeled_batch_size > 0 ? o_.unlabeled_batch_size : o_.batch_size;
    streams_.push_back(make_stream(unlabeled_, ub, false, o_, data_gen.fork("unlabeled")));
  }
  for (const Stream& s : streams_) {
    steps_per_epoch_ = std::max(steps_per_epoch_, s.batches_per_epoch);
  }
  MT_CHECK(steps_per_epoch_ > 0, "trainer: no batches to train on");
  total_steps_ = o_.steps > 0 ? o_.steps : int64_t(o_.epochs) * steps_per_epoch_;
  epochs_ = (total_steps_ + steps_per_epoch_ - 1) / steps_per_epoch_;

  // Train on the chosen device; hand the nets back on the CPU whatever happens.
  struct OnDevice {
    std::vector<nn::Module*> nets;
    OnDevice(std::vector<nn::Module*> n, Device d) : nets(std::move(n)) {
      for (nn::Module* m : nets) m->to(d);
    }
    ~OnDevice() {
      for (nn::Module* m : nets) m->to(Device::cpu());
    }
  };
  std::vector<nn::Module*> moved = {nets_.student};
  if (nets_.explainer) moved.push_back(nets_.explainer);
  if (nets_.teacher) moved.push_back(nets_.teacher);
  const OnDevice on_device(moved, o_.device);

  params_ = nets_.student->parameters();
  if (nets_.explainer) {
    for (const Tensor& p : nets_.explainer->parameters()) params_.push_back(p);
  }
  opt_ = make_optimizer(o_.optimizer, params_);
  optim::CosineSchedule schedule;
  schedule.base_lr = o_.optimizer.lr;
  schedule.total_steps = total_steps_;
  schedule.warmup_steps =
      std::min<int64_t>(total_steps_, std::llround(o_.optimizer.warmup * double(total_steps_)));
  schedule.min_lr = o_.optimizer.min_lr * o_.optimizer.lr;

  signature_ = run_signature(nets_, labelled_, unlabeled_, val_, o_, total_steps_);
  MT_CHECK(!o_.resume || !o_.checkpoint.empty(), "resume needs a checkpoint path");
  if (o_.resume) {
    if (std::filesystem::exists(o_.checkpoint)) {
      resume();
    } else if (!o_.quiet) {
      std::fprintf(stderr, "medtex: note: no checkpoint at %s; starting from step 0\n",
                   o_.checkpoint.c_str());
    }
  }

  nets_.student->train();
  if (nets_.explainer) nets_.explainer->train();
  // Progress lines between epoch summaries.
  double line_loss = 0.0;
  int64_t line_steps = 0, line_images = 0;
  double line_seconds = 0.0;
  auto last_line = Clock::now();
  int64_t saved_at = -1;
  bool stopped = false;

  while (step_ < total_steps_) {
    if (o_.stop_after >= 0 && step_ >= o_.stop_after) {
      stopped = true;
      break;
    }
    const auto t0 = Clock::now();
    const int64_t epoch = step_ / steps_per_epoch_;
    Tensor images, labels, targets, known;
    for (Stream& s : streams_) {
      data::Batch b = s.batch_at(step_);
      const int64_t n = b.images.size(0);
      images = concat_rows(images, b.images);
      if (multi_label_) {
        const int64_t k = nets_.student_config.num_classes;
        if (s.labelled) {
          targets = concat_rows(targets, b.targets);
          known = concat_rows(known, b.known);
        } else {
          // Unlabelled rows: nothing known, whatever the archive's CSV says.
          targets = concat_rows(targets, Tensor::zeros({n, k}));
          known = concat_rows(known, Tensor::zeros({n, k}));
        }
      } else {
        // Unlabelled rows get -1 ("no label"); their labels are never read.
        labels = concat_rows(labels, s.labelled ? b.labels : Tensor::full({n}, -1, DType::I64));
      }
    }
    last_lr_ = schedule.at(step_);
    opt_->set_lr(last_lr_);
    opt_->zero_grad();
    const StepTerms terms = compute(images, labels, targets, known);
    check_finite(terms, step_, epoch);
    MT_CHECK(terms.total.requires_grad(), "trainer: step ", step_ + 1,
             " has no differentiable loss (no labelled images in the batch for ", method_name(m),
             "?)");
    terms.total.backward();
    opt_->step();

    const double loss = terms.total.item();
    sum_loss_ += loss;
    for (const auto& [name, v] : terms.terms) sum_terms_[name] += v.item();
    ++epoch_steps_;
    epoch_images_ += images.size(0);
    const double dt = std::chrono::duration<double>(Clock::now() - t0).count();
    epoch_seconds_ += dt;
    train_seconds_ += dt;
    run_images_ += images.size(0);
    ++run_steps_;
    line_loss += loss;
    ++line_steps;
    line_images += images.size(0);
    line_seconds += dt;
    ++step_;

    const bool epoch_end = step_ % steps_per_epoch_ == 0 || step_ == total_steps_;
    const bool line_due =
        o_.log_every > 0 ? step_ % o_.log_every == 0
                         : std::chrono::duration<double>(Clock::now() - last_line).count() >= 10.0;
    if (line_due && !epoch_end) {
      Progress p;
      p.tag = tag_;
      p.step = step_;
      p.total_steps = total_steps_;
      p.epoch = epoch + 1;
      p.epochs = epochs_;
      p.loss = line_loss / double(line_steps);
      p.lr = last_lr_;
      p.images_per_second = line_seconds > 0 ? double(line_images) / line_seconds : 0.0;
      p.eta_seconds = train_seconds_ / double(run_steps_) * double(total_steps_ - step_);
      report(p);
      line_loss = line_seconds = 0.0;
      line_steps = line_images = 0;
      last_line = Clock::now();
    }
    if (epoch_end) {
      end_epoch(step_);
      save(step_);
      saved_at = step_;
      line_loss = line_seconds = 0.0;
      line_steps = line_images = 0;
      last_line = Clock::now();
    } else if (o_.checkpoint_every > 0 && step_ % o_.checkpoint_every == 0) {
      save(step_);
      saved_at = step_;
    }
  }
  if (stopped && saved_at != step_) save(step_);

  TrainResult& r = result_;
  r.method = m;
  r.privileged = is_privileged(m);
  r.history = history_;
  r.config = nets_.student_config;
  r.explainer_config = nets_.explainer_config;
  r.steps = step_;
  r.total_steps = total_steps_;
  r.steps_per_epoch = steps_per_epoch_;
  r.finished = !stopped;
  r.labelled_images = labelled_.size();
  r.unlabeled_images = unlabeled_.size();
  r.val_images = val_.size();
  r.seconds = train_seconds_;
  r.images_per_second = train_seconds_ > 0 ? double(run_images_) / train_seconds_ : 0.0;
  r.kept = keep_best_ ? "best" : "last";
  if (stopped) return r;
  if (keep_best_ && best_epoch_ > 0) {
    load_module_tensors(best_, "student", *nets_.student, "best weights");
    if (nets_.explainer) load_module_tensors(best_, "explainer", *nets_.explainer, "best weights");
    r.best_epoch = best_epoch_;
  }
  if (!val_.empty()) {
    EvalOptions eo;
    eo.batch_size = o_.eval_batch_size;
    r.final_val = evaluate(*nets_.student, nets_.student_config, val_, nets_.teacher,
                           nets_.teacher ? &nets_.teacher_config : nullptr, eo);
  }
  return r;
}

}  // namespace

TrainResult fit_supervised(nn::Module& model, const models::ModelConfig& config,
                           const DataRef& train, const DataRef& val, const TrainOptions& options) {
  Nets nets;
  nets.student = &model;
  nets.student_config = config;
  DistillOptions o;
  static_cast<TrainOptions&>(o) = options;
  o.method = Method::kSupervised;
  return Trainer(nets, train, DataRef{}, val, o).run();
}

TrainResult distill(const Nets& nets, const DataRef& labelled, const DataRef& unlabeled,
                    const DataRef& val, const DistillOptions& options) {
  MT_CHECK(options.method != Method::kSupervised,
           "distill: use fit_supervised for the supervised trainer");
  return Trainer(nets, labelled, unlabeled, val, options).run();
}

}  // namespace medtex::train
