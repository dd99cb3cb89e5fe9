#include "medtex/train/evaluate.h"

#include <chrono>
#include <cmath>

#include "kernels/common/error.h"
#include "medtex/metrics/distillation.h"

namespace medtex::train {

namespace {

using Clock = std::chrono::steady_clock;

// Row-wise softmax in double, stored as float (the AUC takes probabilities:
// a per-column ranking of raw logits differs from one of probabilities).
std::vector<float> softmax_rows(const std::vector<float>& z, int64_t n, int c) {
  std::vector<float> p(z.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* row = z.data() + i * c;
    double m = row[0];
    for (int j = 1; j < c; ++j) m = std::max(m, double(row[j]));
    double s = 0.0;
    for (int j = 0; j < c; ++j) s += std::exp(double(row[j]) - m);
    for (int j = 0; j < c; ++j) p[size_t(i * c + j)] = float(std::exp(double(row[j]) - m) / s);
  }
  return p;
}

// Mean over rows of -log softmax(z)[label], in double.
double mean_cross_entropy(const std::vector<float>& z, const std::vector<int>& labels, int c) {
  double total = 0.0;
  const int64_t n = int64_t(labels.size());
  for (int64_t i = 0; i < n; ++i) {
    const float* row = z.data() + i * c;
    double m = row[0];
    for (int j = 1; j < c; ++j) m = std::max(m, double(row[j]));
    double s = 0.0;
    for (int j = 0; j < c; ++j) s += std::exp(double(row[j]) - m);
    total += (m + std::log(s)) - double(row[labels[size_t(i)]]);
  }
  return total / double(n);
}

void single_label(EvalResult& r, const std::vector<float>& z, const DataRef& data,
                  const Tensor& teacher_logits, const EvalOptions& options) {
  const int c = r.num_classes;
  const int64_t n = r.images;
  std::vector<int> labels(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = data.set->labels[size_t(data.rows[size_t(i)])];
    MT_CHECK(y >= 0 && y < c, "evaluate: row ", data.rows[size_t(i)], " has label ", y,
             ", outside 0..", c - 1, " (evaluation needs every image labelled)");
    labels[size_t(i)] = int(y);
  }
  const std::vector<int> pred = metrics::argmax_rows(z, c);
  const std::vector<float> prob = softmax_rows(z, n, c);
  r.loss = mean_cross_entropy(z, labels, c);
  r.accuracy = metrics::accuracy(pred, labels);
  r.confusion = metrics::confusion_matrix(pred, labels, c);
  r.per_class_f1 = metrics::f1_per_class(r.confusion);
  r.macro_f1 = metrics::macro_f1(r.confusion);
  r.per_class_auc = metrics::roc_auc_ovr(prob, labels, c);
  r.macro_auc = metrics::mean_defined(r.per_class_auc);
  r.kappa = metrics::quadratic_weighted_kappa(r.confusion);
  r.class_counts.assign(size_t(c), 0);
  for (int y : labels) ++r.class_counts[size_t(y)];
  if (teacher_logits.defined()) {
    const std::vector<float> t = teacher_logits.to_vector<float>();
    r.has_teacher = true;
    r.teacher_agreement = metrics::top1_agreement(t, z, c);
    r.teacher_kl = metrics::mean_kl(t, z, c, options.kl_temperature);
    r.teacher_accuracy = metrics::accuracy(metrics::argmax_rows(t, c), labels);
  }
}

// Per-label AUC over the images where the label is known.
std::vector<double> known_auc(const std::vector<float>& z, const std::vector<float>& targets,
                              const std::vector<float>& known, int64_t n, int k) {
  std::vector<double> out(static_cast<size_t>(k));
  for (int l = 0; l < k; ++l) {
    std::vector<float> s;
    std::vector<int> y;
    for (int64_t i = 0; i < n; ++i) {
      if (known[size_t(i * k + l)] <= 0.5f) continue;
      s.push_back(z[size_t(i * k + l)]);
      y.push_back(targets[size_t(i * k + l)] > 0.5f ? 1 : 0);
    }
    out[size_t(l)] = s.empty() ? EvalResult::kNaN : metrics::roc_auc(s, y);
  }
  return out;
}

void multi_label(EvalResult& r, const std::vector<float>& z, const DataRef& data,
                 const Tensor& teacher_logits, const EvalOptions& options) {
  const int k = r.num_classes;
  const int64_t n = r.images;
  Tensor targets_t, known_t;
  gather_targets(data, 0, n, targets_t, known_t);
  const std::vector<float> targets = targets_t.to_vector<float>();
  const std::vector<float> known = known_t.to_vector<float>();
  double bce = 0.0;
  int64_t entries = 0, right = 0;
  for (size_t e = 0; e < z.size(); ++e) {
    if (known[e] <= 0.5f) continue;
    const double x = z[e], y = targets[e];
    bce += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
    right += ((x > 0) == (y > 0.5)) ? 1 : 0;
    ++entries;
  }
  r.loss = entries ? bce / double(entries) : EvalResult::kNaN;
  r.label_accuracy = entries ? double(right) / double(entries) : EvalResult::kNaN;
  r.per_label_auc = known_auc(z, targets, known, n, k);
  r.mean_auc = metrics::mean_defined(r.per_label_auc);
  if (teacher_logits.defined()) {
    const std::vector<float> t = teacher_logits.to_vector<float>();
    r.has_teacher = true;
    r.teacher_agreement = metrics::multilabel_agreement(t, z, k);
    r.teacher_kl = metrics::mean_bernoulli_kl(t, z, k, options.kl_temperature);
    r.teacher_mean_auc = metrics::mean_defined(known_auc(t, targets, known, n, k));
  }
}

}  // namespace

EvalResult evaluate_logits(const Tensor& logits, const DataRef& data, const Tensor& teacher_logits,
                           const EvalOptions& options) {
  MT_CHECK(!data.empty(), "evaluate: no images");
  const int64_t n = data.size();
  MT_CHECK(
      logits.defined() && logits.ndim() == 2 && logits.size(0) == n && logits.dtype() == DType::F32,
      "evaluate: expected float32 logits [", n, ", C], got ",
      logits.defined() ? logits.str() : std::string("nothing"));
  MT_CHECK(!teacher_logits.defined() || teacher_logits.shape() == logits.shape(),
           "evaluate: teacher logits ", teacher_logits.defined() ? teacher_logits.str() : "",
           " and student logits ", logits.str(), " differ in shape");
  EvalResult r;
  r.images = n;
  r.multi_label = data.set->multi_label;
  r.classes = data.set->classes;
  r.num_classes = int(logits.size(1));
  MT_CHECK(r.classes.empty() || int(r.classes.size()) == r.num_classes, "evaluate: the model has ",
           r.num_classes, " outputs but the data have ", r.classes.size(),
           r.multi_label ? " labels" : " classes");
  const std::vector<float> z = logits.to_vector<float>();
  for (float v : z) {
    MT_CHECK(std::isfinite(v), "evaluate: the model's logits are not finite (", v,
             "): the weights have diverged");
  }
  if (r.multi_label) {
    multi_label(r, z, data, teacher_logits, options);
  } else {
    single_label(r, z, data, teacher_logits, options);
  }
  return r;
}

EvalResult evaluate(nn::Module& model, const models::ModelConfig& config, const DataRef& data,
                    nn::Module* teacher, const models::ModelConfig* teacher_config,
                    const EvalOptions& options) {
  MT_CHECK(teacher == nullptr || teacher_config != nullptr,
           "evaluate: a teacher needs its config (for its input normalisation)");
  MT_CHECK(!data.empty(), "evaluate: no images");
  check_model_fits(config, *data.set, "the model");
  if (teacher) check_model_fits(*teacher_config, *data.set, "the teacher");
  const auto start = Clock::now();
  const Tensor logits = predict_logits(model, config, data, options.batch_size);
  const Tensor t =
      teacher ? predict_logits(*teacher, *teacher_config, data, options.batch_size) : Tensor();
  EvalResult r = evaluate_logits(logits, data, t, options);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.images_per_second = r.seconds > 0 ? double(r.images) / r.seconds : 0.0;
  return r;
}

nlohmann::json to_json(const EvalResult& r) {
  using nlohmann::json;
  // NaN (undefined metric) becomes null: JSON has no NaN.
  auto num = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  auto list = [&](const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(num(x));
    return a;
  };
  json j;
  j["images"] = r.images;
  j["multi_label"] = r.multi_label;
  j["classes"] = r.classes;
  j["loss"] = num(r.loss);
  if (r.multi_label) {
    j["mean_auc"] = num(r.mean_auc);
    j["per_label_auc"] = list(r.per_label_auc);
    j["label_accuracy"] = num(r.label_accuracy);
  } else {
    j["accuracy"] = num(r.accuracy);
    j["macro_f1"] = num(r.macro_f1);
    j["macro_auc"] = num(r.macro_auc);
    j["quadratic_weighted_kappa"] = num(r.kappa);
    j["per_class_f1"] = list(r.per_class_f1);
    j["per_class_auc"] = list(r.per_class_auc);
    j["class_counts"] = r.class_counts;
    json cm = json::array();
    for (int t = 0; t < r.confusion.num_classes; ++t) {
      json row = json::array();
      for (int p = 0; p < r.confusion.num_classes; ++p) row.push_back(r.confusion.at(t, p));
      cm.push_back(row);
    }
    j["confusion"] = cm;  // rows: true class, columns: prediction
  }
  if (r.has_teacher) {
    json t;
    t["agreement"] = num(r.teacher_agreement);
    t["kl"] = num(r.teacher_kl);
    if (r.multi_label) {
      t["teacher_mean_auc"] = num(r.teacher_mean_auc);
    } else {
      t["teacher_accuracy"] = num(r.teacher_accuracy);
    }
    j["teacher"] = t;
  }
  j["seconds"] = r.seconds;
  j["images_per_second"] = r.images_per_second;
  return j;
}

}  // namespace medtex::train
