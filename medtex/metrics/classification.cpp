#include "medtex/metrics/classification.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "medtex/metrics/check.h"

namespace medtex::metrics {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::vector<int> argmax_rows(std::span<const float> scores, int num_classes) {
  const size_t n = detail::rows_of("argmax_rows", "scores", scores.size(), num_classes);
  detail::check_not_nan("argmax_rows", "scores", scores);
  std::vector<int> out(n);
  for (size_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * size_t(num_classes);
    int best = 0;
    for (int c = 1; c < num_classes; ++c) {
      if (row[c] > row[best]) best = c;  // strict: the first maximum wins
    }
    out[i] = best;
  }
  return out;
}

double accuracy(std::span<const int> predicted, std::span<const int> labels) {
  detail::check_same_length("accuracy", "predicted", predicted.size(), "labels", labels.size());
  detail::check_nonempty("accuracy", labels.size());
  int64_t hits = 0;
  for (size_t i = 0; i < labels.size(); ++i) hits += predicted[i] == labels[i];
  return double(hits) / double(labels.size());
}

int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts.begin(), counts.end(), int64_t{0});
}

ConfusionMatrix confusion_matrix(std::span<const int> predicted, std::span<const int> labels,
                                 int num_classes) {
  detail::check_same_length("confusion_matrix", "predicted", predicted.size(), "labels",
                            labels.size());
  detail::check_classes("confusion_matrix", "predicted", predicted, num_classes);
  detail::check_classes("confusion_matrix", "labels", labels, num_classes);
  ConfusionMatrix cm;
  cm.num_classes = num_classes;
  cm.counts.assign(size_t(num_classes) * size_t(num_classes), 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    ++cm.counts[size_t(labels[i]) * size_t(num_classes) + size_t(predicted[i])];
  }
  return cm;
}

std::vector<double> f1_per_class(const ConfusionMatrix& cm) {
  const int c_count = cm.num_classes;
  std::vector<double> f1(size_t(c_count), 0.0);
  for (int c = 0; c < c_count; ++c) {
    int64_t tp = cm.at(c, c), fp = 0, fn = 0;
    for (int o = 0; o < c_count; ++o) {
      if (o == c) continue;
      fp += cm.at(o, c);  // predicted c, truly o
      fn += cm.at(c, o);  // truly c, predicted o
    }
    // 2TP / (2TP + FP + FN) is the harmonic mean of precision and recall
    // without their separate 0/0 cases; only "never predicted, never present"
    // leaves it 0/0, which zero_division=0 sets to 0.
    const int64_t denom = 2 * tp + fp + fn;
    f1[size_t(c)] = denom == 0 ? 0.0 : double(2 * tp) / double(denom);
  }
  return f1;
}

std::vector<double> f1_per_class(std::span<const int> predicted, std::span<const int> labels,
                                 int num_classes) {
  detail::check_nonempty("f1", labels.size());
  return f1_per_class(confusion_matrix(predicted, labels, num_classes));
}

double macro_f1(const ConfusionMatrix& cm) {
  MT_CHECK(cm.num_classes > 0, "macro_f1: empty confusion matrix");
  const std::vector<double> f1 = f1_per_class(cm);
  double sum = 0.0;
  for (double v : f1) sum += v;
  return sum / double(f1.size());
}

double macro_f1(std::span<const int> predicted, std::span<const int> labels, int num_classes) {
  detail::check_nonempty("macro_f1", labels.size());
  return macro_f1(confusion_matrix(predicted, labels, num_classes));
}

namespace {

// The binary AUC on a strided column, so the one-vs-rest and multi-label
// callers need no copies. positive(i) says whether sample i is a positive.
template <class IsPositive>
double mann_whitney_auc(const float* scores, size_t n, size_t stride, IsPositive positive) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return scores[a * stride] < scores[b * stride]; });
  // Walk groups of equal score in ascending order. A positive in a group with
  // q negatives beats the negatives below it and ties with the q in its group:
  // 2U = sum over groups of p * (2 * negatives_below + q). Integers stay exact.
  int64_t twice_u = 0, negatives_below = 0, positives = 0;
  for (size_t g = 0; g < n;) {
    const float v = scores[order[g] * stride];
    int64_t p = 0, q = 0;
    size_t e = g;
    for (; e < n && scores[order[e] * stride] == v; ++e) {
      if (positive(order[e])) {
        ++p;
      } else {
        ++q;
      }
    }
    twice_u += p * (2 * negatives_below + q);
    negatives_below += q;
    positives += p;
    g = e;
  }
  const int64_t negatives = negatives_below;
  if (positives == 0 || negatives == 0) return kNaN;
  return double(twice_u) / (2.0 * double(positives) * double(negatives));
}

}  // namespace

double roc_auc(std::span<const float> scores, std::span<const int> is_positive) {
  detail::check_same_length("roc_auc", "scores", scores.size(), "labels", is_positive.size());
  detail::check_nonempty("roc_auc", scores.size());
  detail::check_not_nan("roc_auc", "scores", scores);
  detail::check_classes("roc_auc", "labels", is_positive, 2);
  return mann_whitney_auc(scores.data(), scores.size(), 1,
                          [&](size_t i) { return is_positive[i] == 1; });
}

std::vector<double> roc_auc_ovr(std::span<const float> scores, std::span<const int> labels,
                                int num_classes) {
  const size_t n = detail::rows_of("roc_auc_ovr", "scores", scores.size(), num_classes);
  detail::check_same_length("roc_auc_ovr", "score rows", n, "labels", labels.size());
  detail::check_nonempty("roc_auc_ovr", n);
  detail::check_not_nan("roc_auc_ovr", "scores", scores);
  detail::check_classes("roc_auc_ovr", "labels", labels, num_classes);
  std::vector<double> auc(static_cast<size_t>(num_classes));
  for (int c = 0; c < num_classes; ++c) {
    auc[size_t(c)] = mann_whitney_auc(scores.data() + c, n, size_t(num_classes),
                                      [&](size_t i) { return labels[i] == c; });
  }
  return auc;
}

double mean_defined(std::span<const double> values) {
  double sum = 0.0;
  int64_t count = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    ++count;
  }
  return count == 0 ? kNaN : sum / double(count);
}

double macro_roc_auc_ovr(std::span<const float> scores, std::span<const int> labels,
                         int num_classes) {
  const std::vector<double> per_class = roc_auc_ovr(scores, labels, num_classes);
  return mean_defined(per_class);
}

double quadratic_weighted_kappa(const ConfusionMatrix& cm) {
  const int c_count = cm.num_classes;
  MT_CHECK(c_count > 0, "quadratic_weighted_kappa: empty confusion matrix");
  const int64_t n = cm.total();
  MT_CHECK(n > 0, "quadratic_weighted_kappa: empty input");
  std::vector<int64_t> rows(size_t(c_count), 0), cols(size_t(c_count), 0);
  int64_t observed = 0;  // sum_ij w_ij O_ij
  for (int i = 0; i < c_count; ++i) {
    for (int j = 0; j < c_count; ++j) {
      const int64_t o = cm.at(i, j);
      rows[size_t(i)] += o;
      cols[size_t(j)] += o;
      observed += int64_t(i - j) * int64_t(i - j) * o;
    }
  }
  // N * sum_ij w_ij E_ij = sum_ij w_ij r_i c_j; multiplying the observed side
  // by N instead of dividing the expected side keeps both sides integral
  // until the last step (double: r_i c_j may pass 2^63 for huge N).
  double expected_times_n = 0.0;
  for (int i = 0; i < c_count; ++i) {
    for (int j = 0; j < c_count; ++j) {
      expected_times_n += double(int64_t(i - j) * int64_t(i - j)) * double(rows[size_t(i)]) *
                          double(cols[size_t(j)]);
    }
  }
  if (expected_times_n == 0.0) return kNaN;
  return 1.0 - double(observed) * double(n) / expected_times_n;
}

double quadratic_weighted_kappa(std::span<const int> predicted, std::span<const int> labels,
                                int num_classes) {
  detail::check_nonempty("quadratic_weighted_kappa", labels.size());
  return quadratic_weighted_kappa(confusion_matrix(predicted, labels, num_classes));
}

}  // namespace medtex::metrics
