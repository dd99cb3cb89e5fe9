// Evaluating a classifier on labelled images (DESIGN §6): the classification
// metrics, and with a teacher the distillation metrics (top-1 agreement and
// KL(teacher || student)). Every number comes from medtex/metrics; this file
// only runs the nets and gathers logits and labels.
//
// Single-label: accuracy, macro-F1 (all classes, absent ones as 0), per-class
// and macro one-vs-rest AUC on softmax probabilities (undefined classes NaN,
// left out of the macro mean), quadratic-weighted kappa, the confusion matrix,
// and the mean cross-entropy. Multi-label: per-label and mean AUC, each label
// over the images where it is known; the share of known decisions (logit > 0)
// that match; the mean BCE over known entries.
//
// NaN means "undefined on this data" (an AUC without positives); the JSON
// writes it as null.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/nn/module.h"
#include "medtex/metrics/classification.h"
#include "medtex/train/batching.h"
#include "models/model_io.h"

namespace medtex::train {

struct EvalOptions {
  int64_t batch_size = 64;
  double kl_temperature = 1.0;  // temperature of the teacher-KL metric (not T_kd)
};

struct EvalResult {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  int64_t images = 0;
  int num_classes = 0;  // classes, or labels when multi-label
  bool multi_label = false;
  std::vector<std::string> classes;
  double loss = kNaN;  // mean cross-entropy (single) or BCE over known entries (multi)

  // single-label
  double accuracy = kNaN;
  double macro_f1 = kNaN;
  double macro_auc = kNaN;
  double kappa = kNaN;  // quadratic-weighted
  std::vector<double> per_class_f1, per_class_auc;
  std::vector<int64_t> class_counts;  // true labels per class
  metrics::ConfusionMatrix confusion;

  // multi-label
  double mean_auc = kNaN;
  std::vector<double> per_label_auc;
  double label_accuracy = kNaN;  // known (image, label) decisions that match

  // with a teacher: the student's agreement with it, KL(teacher || student),
  // and the teacher's own score on these labels (accuracy, or mean AUC)
  bool has_teacher = false;
  double teacher_agreement = kNaN;
  double teacher_kl = kNaN;
  double teacher_accuracy = kNaN;
  double teacher_mean_auc = kNaN;

  double seconds = 0.0;  // forward passes and metrics
  double images_per_second = 0.0;

  // The headline score used to pick the best epoch: accuracy, or mean AUC.
  double score() const { return multi_label ? mean_auc : accuracy; }
};

// Labels come from data.set (single-label `labels` or multi-label
// `targets`/`known`); every row must be labelled (a negative label fails).
// The model and teacher run in eval mode (restored after), each on images
// normalised with its own config. teacher: nullptr for none.
EvalResult evaluate(nn::Module& model, const models::ModelConfig& config, const DataRef& data,
                    nn::Module* teacher = nullptr,
                    const models::ModelConfig* teacher_config = nullptr,
                    const EvalOptions& options = {});

// The same from logits already computed: [N, C] float32 each, teacher
// undefined for none.
EvalResult evaluate_logits(const Tensor& logits, const DataRef& data,
                           const Tensor& teacher_logits = Tensor(),
                           const EvalOptions& options = {});

nlohmann::json to_json(const EvalResult& r);

}  // namespace medtex::train
