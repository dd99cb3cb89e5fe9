// medtex train: a classifier (the teacher, or any architecture) on labelled
// images, with a validation split, checkpoints and --resume; writes the model
// file, its checkpoint and a JSON report, and prints the epoch table.
#include <cstdio>
#include <memory>
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

struct TrainFlags {
  CommonFlags common;
  DeviceFlags dev;
  std::string data, val, out;
  RunFlags run;
  std::string arch = "resnet18";
  double width = 0;  // 0: the architecture's default
  int size = 64;
  int epochs = 20;
  int64_t steps = 0;
  int batch = 32;
  double lr = 1e-3;
  std::string optimizer = "adamw";
  double weight_decay = -1;
  double momentum = 0.9;
  double warmup = 0.05;
  double val_fraction = 0.1;
  std::string keep = "auto";
  bool no_augment = false;
};

void run(const TrainFlags& f) {
  apply_common_flags(f.common);
  const DeviceChoice choice = resolve_device(f.dev);
  const std::string device = choice.description;
  const double width = f.width > 0 ? f.width : (f.arch == "resnet18" ? 0.5 : 1.0);

  const data::ImageSet set = load_labelled(f.data, f.size);
  train::DataRef train_rows, val_rows;
  data::ImageSet val_set;
  train_rows.set = &set;
  if (!f.val.empty()) {
    val_set = load_labelled(f.val, f.size, set.classes);
    train_rows = train::all_rows(set);
    val_rows = train::all_rows(val_set);
  } else {
    const data::Split split =
        data::stratified_split(set.strata(), f.val_fraction, 0.0, f.common.seed);
    train_rows.rows = split.train;
    val_rows.set = &set;
    val_rows.rows = split.val;
  }
  MT_CHECK(!train_rows.empty(), f.data, ": no training images left after the validation split");

  models::ModelConfig cfg;
  cfg.arch = f.arch;
  cfg.width = width;
  cfg.num_classes = int(set.classes.size());
  cfg.input_size = f.size;
  Generator init = Generator(f.common.seed).fork("init");
  std::shared_ptr<nn::Module> model = models::make_model(cfg, init);

  train::TrainOptions o;
  o.epochs = f.epochs;
  o.steps = f.steps;
  o.batch_size = f.batch;
  o.optimizer.name = f.optimizer;
  o.optimizer.lr = f.lr;
  o.optimizer.weight_decay = f.weight_decay;
  o.optimizer.momentum = f.momentum;
  o.optimizer.warmup = f.warmup;
  o.augment = !f.no_augment;
  o.seed = f.common.seed;
  o.device = choice.device;
  o.keep = train::parse_keep(f.keep);
  apply_run_flags(f.run, f.out, o);
  o.tag = "train";

  const train::TrainResult r = train::fit_supervised(*model, cfg, train_rows, val_rows, o);
  if (report_stopped("train", r, o)) return;
  auto meta = r.metadata();
  for (const auto& [k, v] : class_metadata(set)) meta[k] = v;
  meta["medtex.seed"] = std::to_string(f.common.seed);
  models::save_model(f.out, *model, r.config, meta);

  nlohmann::json j;
  j["command"] = "train";
  j["model"] = f.out;
  j["checkpoint"] = o.checkpoint;
  j["data"] = f.data;
  j["device"] = device;
  j["threads"] = num_threads();
  j["seed"] = f.common.seed;
  j["config"] = models::config_to_metadata(r.config);
  j["classes"] = set.classes;
  j["options"] = {{"epochs", f.epochs},       {"steps", f.steps},
                  {"batch", f.batch},         {"lr", f.lr},
                  {"optimizer", f.optimizer}, {"weight_decay", f.weight_decay},
                  {"warmup", f.warmup},       {"val_fraction", f.val_fraction},
                  {"augment", !f.no_augment}, {"keep", f.keep}};
  j["result"] = train::to_json(r);
  const std::string json_path = run_json_path(f.run, f.out);
  write_json_file(json_path, j);

  std::printf("train: %s (width %g, %lld parameters) on %lld images (%lld validation), %dx%d, %s\n",
              cfg.arch.c_str(), width, (long long)model->num_parameters(),
              (long long)r.labelled_images, (long long)r.val_images, f.size, f.size,
              device.c_str());
  print_history(r);
  if (r.final_val.images > 0) print_eval(r.final_val, "validation (kept weights)");
  std::printf("kept: %s%s -> %s\n", r.kept.c_str(),
              r.kept == "best" ? (" (epoch " + std::to_string(r.best_epoch) + ")").c_str() : "",
              f.out.c_str());
  std::printf("%.1f s training, %.0f images/s on %d threads; json: %s\n", r.seconds,
              r.images_per_second, num_threads(), json_path.c_str());
}

void setup(CLI::App& app) {
  auto f = std::make_shared<TrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a classifier (the teacher, or any architecture) on labelled images");
  add_common_flags(*cmd, f->common);
  add_device_flags(*cmd, f->dev);
  cmd->add_option("--data", f->data,
                  "Labelled images: CSV (path,label), folder with labels.csv, "
                  "or one folder per class")
      ->required();
  cmd->add_option("--out", f->out, "Model file to write (.safetensors)")->required();
  cmd->add_option("--arch", f->arch, "Architecture: resnet18 or cnn-small")
      ->check(CLI::IsMember({"resnet18", "cnn-small"}))
      ->capture_default_str();
  cmd->add_option("--width", f->width, "Width multiplier (default: resnet18 0.5, cnn-small 1)");
  cmd->add_option("--size", f->size, "Image side in pixels")->capture_default_str();
  cmd->add_option("--epochs", f->epochs, "Passes over the training images")->capture_default_str();
  cmd->add_option("--steps", f->steps, "Total optimiser steps instead of --epochs (0: epochs)")
      ->capture_default_str();
  cmd->add_option("--batch", f->batch, "Images per step")->capture_default_str();
  cmd->add_option("--lr", f->lr, "Peak learning rate (cosine schedule after a linear warm-up)")
      ->capture_default_str();
  cmd->add_option("--optimizer", f->optimizer, "adamw, adam or sgd")
      ->check(CLI::IsMember({"adamw", "adam", "sgd"}))
      ->capture_default_str();
  cmd->add_option("--weight-decay", f->weight_decay,
                  "Weight decay (default: adamw 0.01, adam 0, sgd 5e-4)");
  cmd->add_option("--momentum", f->momentum, "SGD momentum")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "Warm-up as a fraction of the steps")
      ->capture_default_str();
  cmd->add_option("--val-fraction", f->val_fraction,
                  "Stratified share of --data held out for validation (ignored with --val)")
      ->capture_default_str();
  cmd->add_option("--val", f->val, "A separate labelled validation set");
  cmd->add_option("--keep", f->keep,
                  "Weights to write: best (on validation), last, or auto (best when there is a "
                  "validation set)")
      ->check(CLI::IsMember({"auto", "best", "last"}))
      ->capture_default_str();
  cmd->add_flag("--no-augment", f->no_augment, "Train without augmentation");
  add_run_flags(*cmd, f->run);
  cmd->callback([f] { run(*f); });
}

}  // namespace
}  // namespace medtex::cli

MEDTEX_COMMAND(train, 20, medtex::cli::setup);
