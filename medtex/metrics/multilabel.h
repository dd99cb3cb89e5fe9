// Multi-label metrics for sigmoid heads (chest-X-ray-style data, DESIGN §6):
// per-label ROC AUC and their mean.
//
// scores and targets are row-major [N, L] (sample n, label l at n * L + l).
// Scores may be logits or sigmoid probabilities: the sigmoid is monotone, so
// each label's AUC is the same either way. Targets are 0 or 1 (float, as the
// BCE loss takes them, or int); anything else throws medtex::Error.
#pragma once

#include <span>
#include <vector>

namespace medtex::metrics {

// AUC_l = roc_auc(scores[:, l], targets[:, l]): the Mann-Whitney form with
// ties counting 1/2 (see classification.h), i.e. sklearn
// roc_auc_score(targets, scores, average=None). A label whose column holds
// only one class (no positives, or no negatives) has an undefined AUC: NaN
// (sklearn raises there).
std::vector<double> roc_auc_per_label(std::span<const float> scores, std::span<const float> targets,
                                      int num_labels);
std::vector<double> roc_auc_per_label(std::span<const float> scores, std::span<const int> targets,
                                      int num_labels);

// mean AUC = (1/|D|) sum_{l in D} AUC_l over the labels D with a defined AUC;
// NaN when D is empty. With every label defined this is sklearn
// roc_auc_score(targets, scores, average='macro'), the "mean AUC" reported
// for CheXNet-style models.
double mean_roc_auc(std::span<const float> scores, std::span<const float> targets, int num_labels);
double mean_roc_auc(std::span<const float> scores, std::span<const int> targets, int num_labels);

}  // namespace medtex::metrics
