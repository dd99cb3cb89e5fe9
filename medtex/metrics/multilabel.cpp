#include "medtex/metrics/multilabel.h"

#include "medtex/metrics/check.h"
#include "medtex/metrics/classification.h"

namespace medtex::metrics {

namespace {

template <class Target>
std::vector<double> per_label(std::span<const float> scores, std::span<const Target> targets,
                              int num_labels) {
  const char* name = "roc_auc_per_label";
  const size_t n = detail::rows_of(name, "scores", scores.size(), num_labels);
  detail::check_same_length(name, "scores", scores.size(), "targets", targets.size());
  detail::check_nonempty(name, n);
  detail::check_not_nan(name, "scores", scores);
  std::vector<int> column(n);
  std::vector<float> column_scores(n);
  std::vector<double> auc(static_cast<size_t>(num_labels));
  for (int l = 0; l < num_labels; ++l) {
    for (size_t i = 0; i < n; ++i) {
      const Target t = targets[i * size_t(num_labels) + size_t(l)];
      MT_CHECK(t == Target(0) || t == Target(1), name, ": target[", i, ", ", l, "] = ", t,
               " is neither 0 nor 1");
      column[i] = t == Target(1) ? 1 : 0;
      column_scores[i] = scores[i * size_t(num_labels) + size_t(l)];
    }
    auc[size_t(l)] = roc_auc(column_scores, column);
  }
  return auc;
}

}  // namespace

std::vector<double> roc_auc_per_label(std::span<const float> scores, std::span<const float> targets,
                                      int num_labels) {
  return per_label(scores, targets, num_labels);
}

std::vector<double> roc_auc_per_label(std::span<const float> scores, std::span<const int> targets,
                                      int num_labels) {
  return per_label(scores, targets, num_labels);
}

double mean_roc_auc(std::span<const float> scores, std::span<const float> targets, int num_labels) {
  return mean_defined(roc_auc_per_label(scores, targets, num_labels));
}

double mean_roc_auc(std::span<const float> scores, std::span<const int> targets, int num_labels) {
  return mean_defined(roc_auc_per_label(scores, targets, num_labels));
}

}  // namespace medtex::metrics
