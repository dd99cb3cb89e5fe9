// Multi-label mode (DESIGN §4, chest-X-ray-style data): L independent yes/no
// findings per image, one sigmoid head each. Logits are [N, L]; entry (n, l)
// is the Bernoulli distribution with P(yes) = sigmoid(x[n, l]). Each term of
// the MED-TEX objective (objective.h) is replaced by its Bernoulli twin:
//
//   label        BCE(y, s) = -[y log sig(s) + (1 - y) log(1 - sig(s))]
//                averaged over the KNOWN entries only (blank = not labelled,
//                as in the CSV's empty fields: no loss, no gradient)
//   distillation T^2 * mean_{n,l} KL(Bern(sig(t / T)) || Bern(sig(s / T)))
//                (Hinton's softened KD, per label, every entry: the teacher
//                has an opinion on every finding of every image)
//   explanation  mean_{n,l} CE(Bern(sig(t)), Bern(sig(s~)))
//                = mean -[sig(t) log sig(s~) + (1 - sig(t)) log(1 - sig(s~))]
//   prior        KL(softmax(e) || uniform(d)), unchanged (it is about patches)
//
// with the same weights a, b, c, h, temperature, tau, k and fill as
// MedtexConfig. Averaging over labels as well as images keeps each term's
// scale independent of L, so the single-label defaults carry over.
//
// How it is computed: the engine has no sigmoid op, and none is needed. A
// Bernoulli with logit x is the two-class softmax of [0, x]:
//   softmax([0, x]) = [1 - sig(x), sig(x)],
//   log_softmax([0, x]) = [log sig(-x), log sig(x)],
// so stacking [N, L] -> [N * L, 2] (bernoulli_pairs) turns every term into
// one existing op on two-class rows: kl_div (batchmean over N * L rows = the
// mean over labels and images), cross_entropy_soft, with their stable
// log-sum-exp forms and their tested gradients. The stack is a broadcast
// multiply x[:, None] * [0, 1], so the gradient reaches x through mul.
#pragma once

#include <cstdint>

#include "engine/nn/module.h"
#include "engine/rng.h"
#include "engine/tensor.h"
#include "medtex/method/objective.h"

namespace medtex::method {

// x: [N, L] -> [N * L, 2], row n * L + l = [0, x[n, l]]; differentiable.
Tensor bernoulli_pairs(const Tensor& logits);

// T^2 * mean over labels and images of KL(Bern(sig(t/T)) || Bern(sig(s/T))).
// student, teacher: [N, L]; the teacher is detached.
Tensor bernoulli_distillation_kl(const Tensor& student, const Tensor& teacher, double temperature);

// Mean over labels and images of the Bernoulli cross-entropy of the
// teacher's full-image sig(t) against the student's masked-image sig(s~).
// masked_student, teacher: [N, L]; the teacher is detached.
Tensor bernoulli_explanation_ce(const Tensor& masked_student, const Tensor& teacher);

// Per-label BCE with logits over the known entries. logits: [N, L];
// targets: float [N, L] in [0, 1] (0/1 labels; soft targets allowed);
// known: float or uint8 [N, L], 1 = labelled, 0 = blank (undefined: all
// known); targets undefined: nothing labelled. With every entry known it
// equals ops::bce_with_logits(logits, targets).
struct MultiLabelTerm {
  Tensor loss;           // mean over known entries; an undifferentiated 0 when none
  int64_t known = 0;     // known entries
  int64_t labelled = 0;  // images with at least one known entry
};
MultiLabelTerm known_bce_with_logits(const Tensor& logits, const Tensor& targets,
                                     const Tensor& known);

// The multi-label MED-TEX objective (the terms at the top of the file).
// ObjectiveTerms::labelled counts the images with at least one known label.
ObjectiveTerms multilabel_objective(const Tensor& teacher, const Tensor& student,
                                    const Tensor& masked_student, const Tensor& explainer_logits,
                                    const Tensor& targets, const Tensor& known,
                                    const MedtexConfig& config);

// The training pass of the three nets, as medtex_pass / medtex_pass_from
// (objective.h): same order, same frozen running statistics on the masked
// pass, same noise, the multi-label objective at the end.
MedtexPass multilabel_pass(nn::Module& teacher, nn::Module& student, nn::Module& explainer,
                           const Tensor& x, const Tensor& targets, const Tensor& known,
                           const MedtexConfig& config, Generator& gumbel);
MedtexPass multilabel_pass_from(const Tensor& teacher_logits, nn::Module& student,
                                nn::Module& explainer, const Tensor& x, const Tensor& targets,
                                const Tensor& known, const MedtexConfig& config,
                                const Tensor& noise);

// Hinton KD in multi-label mode (the kd baseline):
// (1 - a) * known_bce_with_logits + a * bernoulli_distillation_kl.
// KdTerms::labelled counts the images with at least one known label.
KdTerms multilabel_hinton_kd(const Tensor& student, const Tensor& teacher, const Tensor& targets,
                             const Tensor& known, const KdConfig& config = {});

}  // namespace medtex::method
