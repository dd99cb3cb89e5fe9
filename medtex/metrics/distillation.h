// Distillation metrics (DESIGN §6): how closely the student follows the
// teacher, on the same images.
//
// Logits are row-major [N, C] (sample n, class c at n * C + c), teacher and
// student of the same shape. They must be finite: a NaN or infinite logit
// means a diverged net, and it throws medtex::Error instead of giving a NaN.
#pragma once

#include <span>

namespace medtex::metrics {

// top-1 agreement = (1/N) sum_n [argmax_c t_nc == argmax_c s_nc], ties in the
// argmax going to the lowest index (as argmax_rows). Called "fidelity" or
// "top-1 agreement" in the KD literature (Stanton et al. 2021).
double top1_agreement(std::span<const float> teacher_logits, std::span<const float> student_logits,
                      int num_classes);
// The same from prediction vectors: (1/N) sum_n [teacher_n == student_n].
double top1_agreement(std::span<const int> teacher_predicted,
                      std::span<const int> student_predicted);

// mean KL = (1/N) sum_n sum_c p_nc (log p_nc - log q_nc),
//   p = softmax(t / T), q = softmax(s / T):
// KL(teacher || student), the direction of Hinton et al. 2015's distillation
// term, per sample and averaged (PyTorch F.kl_div(log_softmax(s/T),
// softmax(t/T), reduction='batchmean')). Unlike the loss, it is NOT
// multiplied by T^2. Computed in double from log-softmax, so a teacher
// probability that underflows to 0 contributes exactly 0.
double mean_kl(std::span<const float> teacher_logits, std::span<const float> student_logits,
               int num_classes, double temperature = 1.0);

// Multi-label (sigmoid heads): share of (sample, label) decisions on which
// teacher and student agree, a decision being "positive" when sigmoid > 1/2,
// i.e. logit > 0. logits: [N, L].
double multilabel_agreement(std::span<const float> teacher_logits,
                            std::span<const float> student_logits, int num_labels);

// Multi-label (sigmoid heads): mean over the N * L entries of
//   KL(Bern(p) || Bern(q)) = p (log p - log q) + (1 - p)(log(1 - p) - log(1 - q)),
//   p = sigmoid(t / T), q = sigmoid(s / T),
// the per-label Bernoulli form of the KD term; logs taken as
// log sigmoid(x) = -softplus(-x) so saturated logits stay finite.
double mean_bernoulli_kl(std::span<const float> teacher_logits,
                         std::span<const float> student_logits, int num_labels,
                         double temperature = 1.0);

}  // namespace medtex::metrics
