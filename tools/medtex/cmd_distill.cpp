// medtex distill: a student on the clinic's images, by one of the methods of
// DESIGN §5: scratch (labels only), transfer (source weights fine-tuned;
// privileged), kd (Hinton), medtex (student + explainer, the joint
// objective), or l2x (the explainer baseline without distillation).
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "engine/rng.h"
#include "kernels/common/error.h"
#include "kernels/common/parallel.h"
#include "medtex/data/split.h"
#include "medtex/train/trainer.h"
#include "tools/medtex/command.h"
#include "tools/medtex/train_common.h"

namespace medtex::cli {
namespace {

struct DistillFlags {
  CommonFlags common;
  DeviceFlags dev;
  std::string method;
  std::string teacher, data, unlabeled, val, init, out, explainer_out;
  RunFlags run;
  int64_t n = 0;
  std::string arch = "cnn-small";
  double width = 1.0;
  int size = 0;
  int epochs = 20;
  int64_t steps = 0;
  int batch = 32;
  int unlabeled_batch = 0;
  std::optional<double> lr;
  std::string optimizer = "adamw";
  double weight_decay = -1;
  double warmup = 0.05;
  double val_fraction = 0.0;
  std::string keep = "auto";
  bool no_augment = false;
  std::optional<double> a, b, c, h, kd_temp, tau, fill;
  std::optional<int> k;
  int patch = 8;
};

void run(const DistillFlags& f) {
  apply_common_flags(f.common);
  const DeviceChoice choice = resolve_device(f.dev);
  const std::string device = choice.description;
  const train::Method method = train::parse_method(f.method);
  MT_CHECK(method != train::Method::kSupervised,
           "distill: --method supervised is the train command");
  MT_CHECK(!train::needs_teacher(method) || !f.teacher.empty(), "distill --method ", f.method,
           " needs --teacher");
  MT_CHECK(method != train::Method::kTransfer || !f.teacher.empty() || !f.init.empty(),
           "distill --method transfer needs --init (source-domain weights) or --teacher");
  MT_CHECK(f.unlabeled.empty() || train::needs_teacher(method), "distill --method ", f.method,
           " learns from labels only; --unlabeled is for kd, medtex and l2x");

  models::LoadedModel teacher;
  if (!f.teacher.empty()) teacher = models::load_model(f.teacher);
  MT_CHECK(!teacher.model || teacher.config.arch != "explainer", f.teacher,
           ": is an explainer, not a classifier");
  const int size = f.size > 0 ? f.size : teacher.model ? teacher.config.input_size : 64;
  const std::vector<std::string> classes =
      teacher.model ? model_classes(teacher.metadata) : std::vector<std::string>{};

  // Labelled images: the validation split first (when asked), then the
  // nested subset of size n of what remains, so for one seed a larger n
  // contains every smaller one and the validation images never move.
  const data::ImageSet set = load_labelled(f.data, size, classes);
  train::DataRef labelled, val;
  data::ImageSet val_set;
  std::vector<int64_t> pool;
  if (!f.val.empty()) {
    val_set = load_labelled(f.val, size, set.classes);
    val = train::all_rows(val_set);
    pool = train::all_rows(set).rows;
  } else {
    const data::Split split =
        data::stratified_split(set.strata(), f.val_fraction, 0.0, f.common.seed);
    pool = split.train;
    val.set = &set;
    val.rows = split.val;
  }
  MT_CHECK(f.n >= 0, "--n must be >= 0, got ", f.n);
  MT_CHECK(f.n <= int64_t(pool.size()), "--n ", f.n, " but only ", pool.size(),
           " labelled training images are available");
  labelled.set = &set;
  labelled.rows = data::nested_subset(pool, set.strata(), f.n, f.common.seed);
  data::ImageSet archive;
  train::DataRef unlabeled;
  if (!f.unlabeled.empty()) {
    archive = load_unlabeled(f.unlabeled, size);
    unlabeled = train::all_rows(archive);
  }

  // The student: fresh, or (transfer) the source-domain model as it is.
  train::Nets nets;
  std::shared_ptr<nn::Module> student, explainer;
  std::string init_path;
  if (method == train::Method::kTransfer) {
    init_path = f.init.empty() ? f.teacher : f.init;
    models::LoadedModel src = models::load_model(init_path);
    MT_CHECK(src.config.arch != "explainer", init_path, ": is an explainer, not a classifier");
    student = src.model;
    nets.student_config = src.config;
  } else {
    models::ModelConfig sc;
    sc.arch = f.arch;
    sc.width = f.width;
    sc.num_classes = int(set.classes.size());
    sc.input_size = size;
    Generator init = Generator(f.common.seed).fork("init");
    student = models::make_model(sc, init);
    nets.student_config = sc;
  }
  nets.student = student.get();
  if (teacher.model) {
    nets.teacher = teacher.model.get();
    nets.teacher_config = teacher.config;
  }
  if (train::needs_explainer(method)) {
    nets.explainer_config = train::explainer_config_for(nets.student_config, f.patch);
    Generator einit = Generator(f.common.seed).fork("init explainer");
    explainer = models::make_model(nets.explainer_config, einit);
    nets.explainer = explainer.get();
  }

  train::DistillOptions o;
  o.method = method;
  o.epochs = f.epochs;
  o.steps = f.steps;
  o.batch_size = f.batch;
  o.unlabeled_batch_size = f.unlabeled_batch;
  o.optimizer.name = f.optimizer;
  // Fine-tuning starts from trained weights: a smaller step keeps what the
  // source taught (the usual transfer-learning practice).
  o.optimizer.lr = f.lr ? *f.lr : (method == train::Method::kTransfer ? 3e-4 : 1e-3);
  o.optimizer.weight_decay = f.weight_decay;
  o.optimizer.warmup = f.warmup;
  o.augment = !f.no_augment;
  o.seed = f.common.seed;
  o.device = choice.device;
  o.keep = train::parse_keep(f.keep);
  apply_run_flags(f.run, f.out, o);
  // --a and --kd-temp mean the teacher term's weight and temperature for
  // both kd and medtex; each method keeps its own defaults otherwise.
  if (f.a) o.kd.a = o.medtex.a = *f.a;
  if (f.kd_temp) o.kd.temperature = o.medtex.temperature = *f.kd_temp;
  if (f.b) o.medtex.b = *f.b;
  if (f.c) o.medtex.c = *f.c;
  if (f.h) o.medtex.h = *f.h;
  if (f.tau) o.medtex.tau = *f.tau;
  if (f.k) o.medtex.k = *f.k;
  if (f.fill) o.medtex.fill = *f.fill;

  const train::TrainResult r = train::distill(nets, labelled, unlabeled, val, o);
  if (report_stopped("distill", r, o)) return;
  auto meta = r.metadata();
  for (const auto& [key, v] : class_metadata(set)) meta[key] = v;
  meta["medtex.seed"] = std::to_string(f.common.seed);
  meta["medtex.labelled_images"] = std::to_string(r.labelled_images);
  meta["medtex.unlabeled_images"] = std::to_string(r.unlabeled_images);
  if (!f.teacher.empty()) meta["medtex.teacher"] = f.teacher;
  if (!init_path.empty()) meta["medtex.init"] = init_path;
  models::save_model(f.out, *student, r.config, meta);
  std::string explainer_path;
  if (explainer) {
    explainer_path =
        f.explainer_out.empty() ? beside(f.out, ".explainer.safetensors") : f.explainer_out;
    models::save_model(explainer_path, *explainer, r.explainer_config, meta);
  }

  nlohmann::json j;
  j["command"] = "distill";
  j["method"] = train::method_name(method);
  j["privileged"] = r.privileged;
  if (r.privileged)
    j["privileged_reason"] = "initialised from source-domain weights (" + init_path + ")";
  j["model"] = f.out;
  if (!explainer_path.empty()) j["explainer"] = explainer_path;
  j["checkpoint"] = o.checkpoint;
  j["teacher"] = f.teacher;
  j["data"] = f.data;
  j["unlabeled"] = f.unlabeled;
  j["device"] = device;
  j["threads"] = num_threads();
  j["seed"] = f.common.seed;
  j["config"] = models::config_to_metadata(r.config);
  j["classes"] = set.classes;
  nlohmann::json opts = {{"epochs", f.epochs},
                         {"steps", f.steps},
                         {"batch", f.batch},
                         {"unlabeled_batch", o.unlabeled_batch_size},
                         {"lr", o.optimizer.lr},
                         {"optimizer", f.optimizer},
                         {"n", f.n},
                         {"val_fraction", f.val_fraction},
                         {"augment", !f.no_augment},
                         {"keep", f.keep}};
  if (method == train::Method::kKd) {
    opts["kd"] = {{"a", o.kd.a}, {"temperature", o.kd.temperature}};
  }
  if (train::needs_explainer(method)) {
    opts["medtex"] = {{"a", method == train::Method::kL2x ? 0.0 : o.medtex.a},
                      {"b", o.medtex.b},
                      {"c", o.medtex.c},
                      {"h", method == train::Method::kL2x ? 0.0 : o.medtex.h},
                      {"temperature", o.medtex.temperature},
                      {"tau", o.medtex.tau},
                      {"k", o.medtex.k},
                      {"patch", f.patch},
                      {"fill", o.medtex.fill}};
  }
  j["options"] = opts;
  j["result"] = train::to_json(r);
  const std::string json_path = run_json_path(f.run, f.out);
  write_json_file(json_path, j);

  std::printf("distill: method %s%s, student %s (width %g, %lld parameters), %dx%d, %s\n",
              train::method_name(method),
              r.privileged ? " [privileged: uses the source-domain weights]" : "",
              r.config.arch.c_str(), r.config.width, (long long)student->num_parameters(), size,
              size, device.c_str());
  std::printf("  %lld labelled + %lld unlabelled training images, %lld validation; %lld steps\n",
              (long long)r.labelled_images, (long long)r.unlabeled_images, (long long)r.val_images,
              (long long)r.steps);
  print_history(r);
  if (r.final_val.images > 0) print_eval(r.final_val, "validation (kept weights)");
  std::printf("kept: %s -> %s%s%s\n", r.kept.c_str(), f.out.c_str(),
              explainer_path.empty() ? "" : ", explainer ", explainer_path.c_str());
  std::printf("%.1f s training, %.0f images/s on %d threads; json: %s\n", r.seconds,
              r.images_per_second, num_threads(), json_path.c_str());
}

void setup(CLI::App& app) {
  auto f = std::make_shared<DistillFlags>();
  CLI::App* cmd = app.add_subcommand(
      "distill",
      "Train a student on the clinic's images: scratch, transfer (privileged), kd, medtex, l2x");
  add_common_flags(*cmd, f->common);
  add_device_flags(*cmd, f->dev);
  cmd->add_option("--method", f->method,
                  "scratch (labels only), transfer (source weights fine-tuned; privileged), kd "
                  "(Hinton), medtex (student + explainer), l2x (explainer without distillation)")
      ->required()
      ->check(CLI::IsMember({"scratch", "transfer", "kd", "medtex", "l2x"}));
  cmd->add_option("--teacher", f->teacher, "Teacher model file (needed by kd, medtex, l2x)");
  cmd->add_option("--data", f->data,
                  "Labelled images: CSV, folder with labels.csv, or class "
                  "folders")
      ->required();
  cmd->add_option("--unlabeled", f->unlabeled,
                  "Unlabelled images (kd, medtex, l2x): a CSV / dataset folder (labels ignored) "
                  "or a plain folder of images");
  cmd->add_option("--n", f->n,
                  "Use the first N labelled images of a stratified nested order "
                  "(0: all)")
      ->capture_default_str();
  cmd->add_option("--init", f->init,
                  "transfer: source-domain model to fine-tune (default: the teacher)");
  cmd->add_option("--out", f->out, "Student model file to write (.safetensors)")->required();
  cmd->add_option("--explainer-out", f->explainer_out,
                  "Explainer file (medtex, l2x; default: beside --out, .explainer.safetensors)");
  cmd->add_option("--arch", f->arch, "Student architecture (not transfer)")
      ->check(CLI::IsMember({"cnn-small", "resnet18"}))
      ->capture_default_str();
  cmd->add_option("--width", f->width, "Student width multiplier")->capture_default_str();
  cmd->add_option("--size", f->size, "Image side (0: the teacher's, else 64)")
      ->capture_default_str();
  cmd->add_option("--epochs", f->epochs,
                  "Epochs: passes over the larger of the labelled set and the unlabelled archive")
      ->capture_default_str();
  cmd->add_option("--steps", f->steps, "Total optimiser steps instead of --epochs (0: epochs)")
      ->capture_default_str();
  cmd->add_option("--batch", f->batch, "Labelled images per step")->capture_default_str();
  cmd->add_option("--unlabeled-batch", f->unlabeled_batch,
                  "Unlabelled images per step (0: --batch)")
      ->capture_default_str();
  cmd->add_option("--lr", f->lr, "Peak learning rate (default: 1e-3; transfer 3e-4)");
  cmd->add_option("--optimizer", f->optimizer, "adamw, adam or sgd")
      ->check(CLI::IsMember({"adamw", "adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", f->weight_decay,
                  "Weight decay (default: adamw 0.01, adam 0, sgd 5e-4)");
  cmd->add_option("--warmup", f->warmup, "Warm-up as a fraction of the steps")
      ->capture_default_str();
  cmd->add_option("--val-fraction", f->val_fraction,
                  "Stratified share of --data held out for validation (0: none, last weights)")
      ->capture_default_str();
  cmd->add_option("--val", f->val, "A separate labelled validation set");
  cmd->add_option("--keep", f->keep, "best, last, or auto (best when there is a validation set)")
      ->check(CLI::IsMember({"auto", "best", "last"}))
      ->capture_default_str();
  cmd->add_flag("--no-augment", f->no_augment, "Train without augmentation");
  cmd->add_option("--a", f->a,
                  "Teacher-term weight (kd: a in (1-a) CE + a T^2 KL, default 0.9; medtex: "
                  "distillation weight, default 1)");
  cmd->add_option("--b", f->b, "medtex: explanation term weight (default 1)");
  cmd->add_option("--c", f->c, "medtex: KL(p || uniform) prior weight (default 0.01)");
  cmd->add_option("--h", f->h, "medtex: label term weight (default 1)");
  cmd->add_option("--kd-temp", f->kd_temp, "Distillation temperature T_kd (default 4)");
  cmd->add_option("--tau", f->tau, "medtex: Gumbel-softmax temperature (default 0.5)");
  cmd->add_option("--k", f->k, "medtex: patches kept (default 8)");
  cmd->add_option("--patch", f->patch, "medtex: patch side in pixels, a power of two")
      ->capture_default_str();
  cmd->add_option("--fill", f->fill, "medtex: value of removed pixels after normalisation (0)");
  add_run_flags(*cmd, f->run);
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(distill, 30, medtex::cli::setup);
