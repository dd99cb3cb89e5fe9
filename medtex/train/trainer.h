// Training: the supervised trainer (the teacher on source images, a student
// from scratch or from source weights on labelled target images) and the
// distillation trainers (Hinton KD, MED-TEX, and the L2X/VIBI explainer
// baseline), all on one loop.
//
//   fit_supervised(model, config, train, val, options)
//   distill(nets, labelled, unlabeled, val, options)
//
// both return a TrainResult: per-epoch history (train loss and its terms,
// validation loss / accuracy / agreement with the teacher), which weights
// were kept, timing. The nets are trained in place and end holding the kept
// weights; the caller saves them (models::save_model with
// result.config; the commands add result.metadata()).
//
// The loop, per step s of S = epochs * steps_per_epoch (or options.steps):
//   1. batches: a labelled batch and, when there is an unlabelled archive, an
//      unlabelled batch, joined into one forward pass (below);
//   2. lr = cosine schedule with linear warm-up at s (optim::CosineSchedule);
//   3. the method's loss; every term checked finite (else one Error naming
//      the step and the term); backward; optimiser step;
//   4. at the end of each epoch: validation (eval mode), history, best
//      weights, checkpoint.
//
// Labelled and unlabelled images (DESIGN §5): two streams. Each step draws
// one batch of `batch_size` labelled images and one of
// `unlabeled_batch_size` unlabelled images and concatenates them, the
// unlabelled rows carrying label -1 (multi-label: known = 0), which every
// label term skips (method::labelled_cross_entropy, known_bce_with_logits);
// the teacher terms (KD, MED-TEX's distillation and explanation) see every
// row. The loader of the unlabelled archive is never asked for labels, and an
// unlabelled set may have none. An epoch is one pass over the larger stream;
// the smaller one cycles through its own reshuffled epochs meanwhile. So every
// step has labels to learn from, however few labelled images there are (a
// single loader over the union would give most batches none at n = 50 of
// 2000), and the label term keeps its weight per step whatever the archive's
// size. Stream positions are pure functions of s, which is what makes resume
// exact.
//
// Best or last: with a validation set the weights of the epoch with the best
// validation score (accuracy; mean AUC multi-label; ties to the lower
// validation loss, then the earlier epoch) are kept (`Keep::kAuto`), without
// one the last. TrainResult::kept says which.
//
// Reproducibility (DESIGN §9): every random choice comes from Generator(seed)
// forks: "data"/"labelled" and "data"/"unlabeled" (order, augmentation),
// "gumbel" (MED-TEX's relaxed top-k). The caller initialises the nets (the
// commands use Generator(seed).fork("init") and .fork("init explainer")).
// CPU training is bitwise identical for any thread count. Checkpoints
// (checkpoint.h) hold the nets, the optimiser state, the step, the gumbel
// generator's state, the history and the best weights so far; a run killed
// and resumed from its last checkpoint ends with the same weights, bit for
// bit, as one that ran through.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/nn/module.h"
#include "medtex/data/augment.h"
#include "medtex/method/objective.h"
#include "medtex/train/batching.h"
#include "medtex/train/evaluate.h"
#include "models/model_io.h"

namespace medtex::train {

// supervised: labels only (the teacher; `train`). scratch: the same on the
// clinic's labelled images. transfer: the same, starting from source-domain
// weights (privileged: needs what the source site keeps). kd: Hinton.
// medtex: the joint objective, student and explainer together. l2x: the
// explainer baseline trained without distillation (MedtexConfig::l2x()).
enum class Method { kSupervised, kScratch, kTransfer, kKd, kMedtex, kL2x };
Method parse_method(const std::string& name);  // "scratch", ...; one clear error otherwise
const char* method_name(Method m);
bool needs_teacher(Method m);    // kd, medtex, l2x
bool needs_explainer(Method m);  // medtex, l2x
bool is_privileged(Method m);    // transfer: uses source-domain weights

enum class Keep { kAuto, kBest, kLast };
Keep parse_keep(const std::string& name);  // "auto", "best", "last"

struct OptimizerOptions {
  std::string name = "adamw";  // "adamw" | "adam" | "sgd"
  double lr = 1e-3;
  double weight_decay = -1;  // < 0: the optimiser's default (adamw 0.01, adam 0, sgd 5e-4)
  double momentum = 0.9;     // sgd
  bool nesterov = false;     // sgd
  double warmup = 0.05;      // linear warm-up over this fraction of the steps
  double min_lr = 0.0;       // the cosine's floor, as a fraction of lr
};

// What a progress line reports; `epoch_end` marks the per-epoch summary.
struct EpochRecord;
struct Progress {
  std::string tag;  // "train", "distill:medtex", ...
  int64_t step = 0, total_steps = 0;
  int64_t epoch = 0, epochs = 0;  // 1-based
  double loss = 0.0;              // mean over the steps since the last line
  double lr = 0.0;
  double images_per_second = 0.0;
  double eta_seconds = 0.0;
  bool epoch_end = false;
  const EpochRecord* record = nullptr;  // with epoch_end
  bool best = false;                    // with epoch_end: the new best epoch
};
using ProgressFn = std::function<void(const Progress&)>;

struct TrainOptions {
  int epochs = 20;
  int64_t steps = 0;             // total optimiser steps; 0: epochs * steps_per_epoch
  int batch_size = 32;           // labelled images per step
  int unlabeled_batch_size = 0;  // unlabelled images per step; 0: batch_size
  OptimizerOptions optimizer{};
  bool augment = true;
  data::AugmentOptions augmentation{};
  bool normalize = true;  // compute the input statistics when the config has none
  uint64_t seed = 0;
  Keep keep = Keep::kAuto;

  // Checkpoints: written at the end of every epoch (and every
  // `checkpoint_every` steps when > 0) to `checkpoint` (empty: none).
  std::string checkpoint;
  int64_t checkpoint_every = 0;
  // Continue from `checkpoint` when it exists (a fresh start, with a note,
  // when it does not). The run's settings must match the checkpoint's.
  bool resume = false;
  // Stop after this many steps as if killed (having written a checkpoint),
  // to test resume; < 0: run to the end.
  int64_t stop_after = -1;

  // Progress on stderr: a line every `log_every` steps (0: every ~10 s) and
  // one per epoch; nothing when quiet. on_progress replaces the printer.
  bool quiet = false;
  int64_t log_every = 0;
  ProgressFn on_progress;
  std::string tag;  // progress prefix; empty: the method's name

  int64_t eval_batch_size = 64;

  // At the end of every epoch (so before validation, and on the weights
  // training ends with), the student's BatchNorm running statistics are
  // recomputed with its current weights over up to this many of its training
  // images, un-augmented, eval_batch_size at a time (nn::precise_batchnorm):
  // the labelled images first, then the unlabelled ones. Training itself is
  // unchanged (it normalises with batch statistics). 0: keep the running
  // averages training accumulated. Measured on the teacher at 64 px: without
  // it the validation accuracy swung between 0.37 and 0.90 from epoch to
  // epoch.
  int64_t precise_bn_images = 1024;

  // Where the nets train: the CPU, or Device::cuda() (the backend selected by
  // gpu::use). Batches are prepared on the host and uploaded per step; the
  // nets are back on the CPU when training returns.
  Device device = Device::cpu();
};

struct DistillOptions : TrainOptions {
  Method method = Method::kMedtex;
  method::KdConfig kd{};          // kd
  method::MedtexConfig medtex{};  // medtex, l2x (l2x: a = h = 0 forced)
};

struct EpochRecord {
  int64_t epoch = 0;                          // 1-based
  int64_t steps = 0;                          // steps done at its end
  double lr = 0.0;                            // at its last step
  double train_loss = 0.0;                    // mean over its steps of the total loss
  std::map<std::string, double> train_terms;  // mean over its steps of each unweighted term
  int64_t images = 0;                         // images through the student (both streams)
  double seconds = 0.0;                       // training time, validation excluded
  double images_per_second = 0.0;
  bool has_val = false;
  double val_loss = EvalResult::kNaN;      // cross-entropy (BCE) on the validation labels
  double val_accuracy = EvalResult::kNaN;  // accuracy, or mean AUC multi-label
  double val_macro_f1 = EvalResult::kNaN;
  double val_agreement = EvalResult::kNaN;  // with the teacher, when there is one
};

struct TrainResult {
  Method method = Method::kSupervised;
  bool privileged = false;
  std::vector<EpochRecord> history;
  models::ModelConfig config;            // the trained net's, normalisation filled in
  models::ModelConfig explainer_config;  // medtex / l2x
  std::string kept;                      // "best" or "last"
  int64_t best_epoch = 0;                // with kept = best
  int64_t steps = 0, total_steps = 0, steps_per_epoch = 0;
  bool finished = false;      // false when stopped by stop_after
  int64_t resumed_from = -1;  // the checkpoint's step, or -1
  int64_t labelled_images = 0, unlabeled_images = 0, val_images = 0;
  double seconds = 0.0;  // this process's training time (validation excluded)
  double images_per_second = 0.0;
  EvalResult final_val;  // the kept weights on the validation set (when any)

  // Extra model-file metadata for save_model: method, privileged, kept, ...
  std::map<std::string, std::string> metadata() const;
};

nlohmann::json to_json(const EpochRecord& e);
nlohmann::json to_json(const TrainResult& r);

// The teacher (or any net) on labelled images. model: built by make_model
// from `config`; when config has no normalisation (and options.normalize),
// it is computed on `train` and returned in result.config.
TrainResult fit_supervised(nn::Module& model, const models::ModelConfig& config,
                           const DataRef& train, const DataRef& val, const TrainOptions& options);

struct Nets {
  nn::Module* teacher = nullptr;  // kd, medtex, l2x; optional otherwise (validation agreement)
  models::ModelConfig teacher_config;
  nn::Module* student = nullptr;
  models::ModelConfig student_config;
  nn::Module* explainer = nullptr;  // medtex, l2x
  models::ModelConfig explainer_config;
};

// The distillation trainers and the scratch / transfer baselines. labelled:
// the clinic's labelled images (may be empty for kd / medtex / l2x when
// unlabeled is not); unlabeled: images whose labels are never read. For
// transfer the student arrives initialised from source weights (the caller
// loads them), and its config's normalisation is kept.
TrainResult distill(const Nets& nets, const DataRef& labelled, const DataRef& unlabeled,
                    const DataRef& val, const DistillOptions& options);

// The explainer's config for a student: same input size, channels and
// normalisation, width 1 (32 channels), the given patch.
models::ModelConfig explainer_config_for(const models::ModelConfig& student, int patch);

}  // namespace medtex::train
