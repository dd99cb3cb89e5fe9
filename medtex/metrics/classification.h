// Classification metrics of the study (DESIGN §6): accuracy, confusion matrix,
// macro-F1, one-vs-rest ROC AUC and quadratic-weighted kappa.
//
// Pure functions on spans of labels and scores: no Tensor, no model, so every
// number can be checked against a hand-computed case. Scores arrive as float
// (what the nets produce) and every sum is taken in double or in integers.
//
// Conventions, shared by all files in medtex/metrics:
// - classes are 0 .. C-1; a label or prediction outside that range, a length
//   mismatch, an empty input or a NaN score throws medtex::Error naming the
//   metric (DESIGN §9: bad input is one clear line, never a silent NaN);
// - a score matrix is row-major [N, C] (sample n, class c at n * C + c);
// - a metric that is undefined on the given data (an AUC with no positives, a
//   kappa with no expected disagreement) returns NaN, and every average
//   documents whether it skips such entries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace medtex::metrics {

// pred[n] = argmax_c scores[n, c]; ties go to the lowest index (numpy and
// PyTorch argmax agree on this). scores: [N, C].
std::vector<int> argmax_rows(std::span<const float> scores, int num_classes);

// accuracy = (1/N) sum_n [pred_n == label_n]  (sklearn accuracy_score).
double accuracy(std::span<const int> predicted, std::span<const int> labels);

// counts[t * C + p] = #{n : label_n = t, pred_n = p}: rows are the true class,
// columns the prediction (sklearn confusion_matrix's layout).
struct ConfusionMatrix {
  int num_classes = 0;
  std::vector<int64_t> counts;  // [C, C]
  int64_t at(int true_class, int predicted_class) const {
    return counts[size_t(true_class) * size_t(num_classes) + size_t(predicted_class)];
  }
  int64_t total() const;
};
ConfusionMatrix confusion_matrix(std::span<const int> predicted, std::span<const int> labels,
                                 int num_classes);

// F1_c = 2 TP_c / (2 TP_c + FP_c + FN_c) for every class c in 0..C-1. When the
// denominator is 0 (class c never predicted and never present) F1_c = 0:
// sklearn's zero_division=0 convention. That form also gives 0, as sklearn
// does, for a class that is present but never predicted (precision 0/0 -> 0)
// and for one predicted but absent (recall 0/0 -> 0).
std::vector<double> f1_per_class(std::span<const int> predicted, std::span<const int> labels,
                                 int num_classes);
std::vector<double> f1_per_class(const ConfusionMatrix& cm);

// macro-F1 = (1/C) sum_c F1_c over ALL C classes, absent ones included as 0:
// sklearn f1_score(average='macro', labels=range(C), zero_division=0).
// (sklearn without labels= would drop a class that is in neither vector.)
double macro_f1(std::span<const int> predicted, std::span<const int> labels, int num_classes);
double macro_f1(const ConfusionMatrix& cm);

// Binary ROC AUC as the Mann-Whitney U statistic (Hanley & McNeil 1982):
//   AUC = (1 / (n+ n-)) sum_{i in +} sum_{j in -} ([s_i > s_j] + 1/2 [s_i == s_j]),
// i.e. ties count 1/2, which is exactly the trapezoidal area under the ROC
// curve that sklearn roc_auc_score computes. Counted in integers after a sort
// (O(N log N)), so the result is exact up to the final division.
// NaN when the labels hold only one class (the AUC is undefined there;
// sklearn raises). is_positive: [N], each 0 or 1.
double roc_auc(std::span<const float> scores, std::span<const int> is_positive);

// One-vs-rest AUC of class c: roc_auc(scores[:, c], labels == c), per class.
// A class absent from the labels (or the only class present) has an undefined
// AUC: NaN. scores: [N, C] (pass probabilities, as for sklearn's
// multi_class='ovr'; a per-column ranking changes under softmax).
std::vector<double> roc_auc_ovr(std::span<const float> scores, std::span<const int> labels,
                                int num_classes);

// Macro one-vs-rest AUC = mean of the per-class AUCs that are defined (NaN
// ones excluded); NaN when none is. With every class present this is sklearn
// roc_auc_score(multi_class='ovr', average='macro').
double macro_roc_auc_ovr(std::span<const float> scores, std::span<const int> labels,
                         int num_classes);
// The same average over a precomputed per-class vector.
double mean_defined(std::span<const double> values);

// Quadratic-weighted Cohen's kappa (Cohen 1968):
//   kappa = 1 - sum_ij w_ij O_ij / sum_ij w_ij E_ij,  w_ij = (i - j)^2,
//   E_ij = (row_i total)(column_j total) / N,
// on the C x C confusion matrix O of classes 0..C-1 (the weight's scale
// cancels). Matches sklearn cohen_kappa_score(weights='quadratic',
// labels=range(C)); without labels= sklearn weights by the index among the
// labels present, which differs when a middle grade is missing. NaN when
// sum w E = 0 (e.g. both raters always give the same single class).
double quadratic_weighted_kappa(std::span<const int> predicted, std::span<const int> labels,
                                int num_classes);
double quadratic_weighted_kappa(const ConfusionMatrix& cm);

}  // namespace medtex::metrics
