// The MED-TEX joint objective (DESIGN §5) and Hinton's KD loss.
//
// Notation: teacher logits t = T(x) (frozen), student logits s = S(x) on the
// full image and s~ = S(x~) on the masked image, explainer patch logits e over
// d patches, labels y where they exist.
//
//   L = a * T_kd^2 * KL(softmax(t / T_kd) || softmax(s / T_kd))   distillation
//     + b * CE(softmax(t), softmax(s~))                            explanation
//     + c * KL(softmax(e) || uniform(d))                           prior
//     + h * CE(y, s)                                               labels
//
// The explanation term is the variational bound on I(x~; y_T) of L2X/VIBI: a
// student that sees only the k selected patches must still predict what the
// teacher predicts on the whole image, which pushes the explainer to select
// the patches that carry the teacher's decision. The prior is VIBI's
// compression term; its direction is KL(p || r) = sum_j p_j log(p_j d), which
// is finite for any p and pulls the patch distribution towards uniform
// without forcing mass onto every patch. T_kd^2 keeps the distillation
// gradient's scale independent of T_kd (Hinton et al. 2015).
#pragma once

#include <functional>

#include <cstdint>

#include "engine/nn/module.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace medtex::method {

struct MedtexConfig {
  // Term weights. The defaults give the teacher terms and the label term the
  // same weight: with few labels the teacher terms carry most of the signal,
  // and where labels exist they should not be drowned out.
  double a = 1.0;  // distillation on the full image
  double b = 1.0;  // explanation: the student on x~ mimics the teacher
  // The prior only regularises: KL(softmax(e) || U) is at most log d
  // (4.16 for d = 64) and a larger weight flattens the patch logits until
  // the selection is random; 0.01 keeps it a tie-breaker.
  double c = 0.01;
  double h = 1.0;            // labels, where they exist
  double temperature = 4.0;  // T_kd: softens the teacher so its ranking of the wrong classes shows
  double tau = 0.5;          // Gumbel-softmax temperature (DESIGN §5)
  // Patches kept: 8 of 64 (1/8 of a 64x64 image in 8x8 patches), enough for a
  // few lesions, few enough that the selection has to be informative.
  int k = 8;
  double fill = 0.0;  // value of the removed pixels in x~

  // The explanation baseline "explainer trained without distillation"
  // (L2X, Chen et al. 2018; VIBI, Bang et al. 2021): the defaults with a = 0
  // and h = 0, everything else (b, c, T_kd, tau, k, fill) unchanged, so it
  // differs from MED-TEX in exactly the terms that train the student as a
  // classifier of full images. What remains is
  //   L = b * CE(softmax(t), softmax(S(x~))) + c * KL(softmax(e) || uniform(d)):
  // the student becomes L2X's approximator q(y_T | x~), trained only on
  // masked images to predict the teacher, and the explainer learns from that
  // alone. The kept prior (c = 0.01) is VIBI's compression term; set c = 0
  // for L2X proper. Run through medtex_pass as usual: the student's pass on
  // the full image still runs (and, in train mode, still moves its BatchNorm
  // running averages with full-image statistics) but contributes nothing to
  // the loss, so the approximator's eval-mode predictions on x~ (student
  // fidelity) use full-image running statistics; the explainer, which the
  // baseline is about, is evaluated through the teacher and is unaffected.
  static MedtexConfig l2x() {
    MedtexConfig c;
    c.a = 0.0;
    c.h = 0.0;
    return c;
  }
};

// Each term unweighted (for logging) and the weighted, differentiable total.
struct ObjectiveTerms {
  Tensor total;          // a * kd + b * explain + c * prior + h * label
  Tensor kd;             // T_kd^2 * KL(softmax(t / T_kd) || softmax(s / T_kd))
  Tensor explain;        // CE(softmax(t), softmax(s~))
  Tensor prior;          // KL(softmax(e) || uniform(d))
  Tensor label;          // CE(y, s) averaged over the labelled samples; 0 when none
  int64_t labelled = 0;  // how many samples of the batch had a label
};

// ---- the terms, on logits ----------------------------------------------------
// T^2 * kl_div(log_softmax(s, T), softmax(t, T)); student, teacher: [N, C].
// The teacher is detached: no gradient reaches it.
Tensor distillation_kl(const Tensor& student, const Tensor& teacher, double temperature);
// cross_entropy_soft(s~, softmax(t)): the teacher's full-image prediction as
// the target of the student's masked-image logits.
Tensor explanation_ce(const Tensor& masked_student, const Tensor& teacher);
// KL(softmax(e) || uniform(d)) = kl_div(log(1/d), softmax(e)), per-sample
// mean; e: [N, d].
Tensor uniform_prior_kl(const Tensor& explainer_logits);

// Cross-entropy over the samples that have a label. labels: int32/int64 [N],
// a negative value meaning "no label" (an undefined tensor: none labelled).
// Averaged over the labelled samples; an undifferentiated 0 when there are none.
struct LabelTerm {
  Tensor loss;
  int64_t labelled = 0;
};
LabelTerm labelled_cross_entropy(const Tensor& student, const Tensor& labels);

// The joint objective from the four logits tensors (see the top of the file).
ObjectiveTerms medtex_objective(const Tensor& teacher, const Tensor& student,
                                const Tensor& masked_student, const Tensor& explainer_logits,
                                const Tensor& labels, const MedtexConfig& config);

// Fails unless a, b, c, h are finite and >= 0, the temperatures positive, k >= 1
// and fill finite. `who` starts the message ("medtex objective", ...).
void check_config(const MedtexConfig& config, const char* who = "medtex objective");

// a * kd + b * explain + c * prior (+ h * label when `with_label`): the weighted
// total both the single- and the multi-label objective report.
Tensor weighted_total(const ObjectiveTerms& terms, const MedtexConfig& config, bool with_label);

// ---- one training pass of the three nets ------------------------------------
// The teacher's logits: eval mode (running statistics) and no graph; the
// teacher is frozen.
Tensor teacher_logits(nn::Module& teacher, const Tensor& x);

struct MedtexPass {
  ObjectiveTerms terms;
  Tensor teacher_logits;         // t [N, C], no graph
  Tensor student_logits;         // s = S(x) [N, C]
  Tensor masked_student_logits;  // s~ = S(x~) [N, C]
  Tensor explainer_logits;       // e = E(x) [N, d]
  Tensor mask;                   // z [N, d], relaxed k-hot
  Tensor masked_images;          // x~ [N, C, H, W]
};

// x: [N, C, H, W] -> the objective, with the graph through the student and the
// explainer (call total.backward()). The student's pass on x (in its current
// mode; train mode updates BatchNorm running statistics as usual) comes first;
// its pass on x~ runs under nn::FreezeRunningStats: batch statistics, but the
// running averages and counters stay untouched (masked images are not what
// the student will see at test time; DESIGN §5 measured 18-28 points of
// accuracy lost otherwise). The patch size follows from x and the explainer's
// output (masking.h: patch_size_for). Fresh Gumbel noise from `gumbel`.
MedtexPass medtex_pass(nn::Module& teacher, nn::Module& student, nn::Module& explainer,
                       const Tensor& x, const Tensor& labels, const MedtexConfig& config,
                       Generator& gumbel);
// The same with the teacher's logits computed beforehand (teacher_logits) and
// explicit Gumbel noise [config.k, N, d] (gumbel_noise in relaxed_topk.h).
MedtexPass medtex_pass_from(const Tensor& teacher_logits, nn::Module& student,
                            nn::Module& explainer, const Tensor& x, const Tensor& labels,
                            const MedtexConfig& config, const Tensor& noise);

// The forward part of a pass, shared by the single- and the multi-label
// objectives: e = E(x), the relaxed mask from noise_for(e), x~, s = S(x), and
// s~ = S(x~) under nn::FreezeRunningStats. `terms` is left for the caller.
using NoiseFn = std::function<Tensor(const Tensor& explainer_logits)>;
MedtexPass forward_three_nets(const Tensor& teacher_logits, nn::Module& student,
                              nn::Module& explainer, const Tensor& x, const MedtexConfig& config,
                              const NoiseFn& noise_for, const char* who);
// Noise suppliers for forward_three_nets: explicit [k, N, d] noise (checked),
// or fresh noise from a generator.
NoiseFn fixed_noise(const Tensor& noise, const MedtexConfig& config, const char* who);
NoiseFn fresh_noise(const MedtexConfig& config, Generator& gumbel);

// ---- Hinton knowledge distillation (the kd baseline) ------------------------
struct KdConfig {
  double a = 0.9;            // weight of the teacher term; 1 - a goes to the labels
  double temperature = 4.0;  // as MedtexConfig::temperature
};
struct KdTerms {
  Tensor total;  // (1 - a) * label + a * kd
  Tensor kd;     // T^2 * KL(softmax(t / T) || softmax(s / T)), every sample
  Tensor label;  // CE(y, s) over the labelled samples; 0 when none
  int64_t labelled = 0;
};
// (1 - a) CE(y, s) + a T^2 KL(p_t^T || p_s^T). The teacher term runs on every
// sample, labelled or not; labels as in labelled_cross_entropy.
KdTerms hinton_kd(const Tensor& student, const Tensor& teacher, const Tensor& labels,
                  const KdConfig& config = {});

}  // namespace medtex::method
