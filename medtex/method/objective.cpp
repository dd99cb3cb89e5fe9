#include "medtex/method/objective.h"

#include <cmath>
#include <string>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/method/masking.h"
#include "medtex/method/relaxed_topk.h"

namespace medtex::method {

namespace {

std::string describe(const Tensor& t) {
  return t.defined() ? t.str() : "an undefined tensor";
}

void check_logits(const char* what, const Tensor& t) {
  MT_CHECK(t.defined() && t.ndim() == 2 && t.size(0) > 0 && t.size(1) > 0,
           "medtex objective: ", what, " must be logits [N, C], got ", describe(t));
}

void check_pair(const char* what, const Tensor& a, const char* other, const Tensor& b) {
  check_logits(what, a);
  check_logits(other, b);
  MT_CHECK(a.shape() == b.shape(), "medtex objective: ", what, " ", a.shape(), " and ", other, " ",
           b.shape(), " differ in shape");
}

template <class L>
void fill_one_hot(const Tensor& labels, Tensor& one_hot, int64_t classes, int64_t& count) {
  const L* y = labels.data<L>();
  const int64_t n = labels.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (y[i] < 0) continue;  // unlabelled
    MT_CHECK(int64_t(y[i]) < classes, "labelled_cross_entropy: label ", int64_t(y[i]), " in row ",
             i, " is out of range for ", classes, " classes");
    one_hot.data<double>()[i * classes + int64_t(y[i])] = 1.0;
    ++count;
  }
}


}  // namespace

void check_config(const MedtexConfig& c, const char* who) {
  for (double w : {c.a, c.b, c.c, c.h}) {
    MT_CHECK(std::isfinite(w) && w >= 0, who,
             ": the weights a, b, c, h must be finite and >= 0, got a=", c.a, " b=", c.b,
             " c=", c.c, " h=", c.h);
  }
  MT_CHECK(std::isfinite(c.temperature) && c.temperature > 0, who,
           ": temperature must be positive, got ", c.temperature);
  MT_CHECK(std::isfinite(c.tau) && c.tau > 0, who, ": tau must be positive, got ", c.tau);
  MT_CHECK(c.k >= 1, who, ": k must be >= 1, got ", c.k);
  MT_CHECK(std::isfinite(c.fill), who, ": fill must be finite, got ", c.fill);
}

Tensor weighted_total(const ObjectiveTerms& t, const MedtexConfig& config, bool with_label) {
  Tensor total = ops::add(ops::mul_scalar(t.kd, config.a), ops::mul_scalar(t.explain, config.b));
  total = ops::add(total, ops::mul_scalar(t.prior, config.c));
  if (with_label) total = ops::add(total, ops::mul_scalar(t.label, config.h));
  return total;
}


Tensor distillation_kl(const Tensor& student, const Tensor& teacher, double temperature) {
  check_pair("student", student, "teacher", teacher);
  const Tensor p_teacher = ops::softmax(teacher.detach(), -1, temperature);
  const Tensor log_q_student = ops::log_softmax(student, -1, temperature);
  return ops::mul_scalar(ops::kl_div(log_q_student, p_teacher), temperature * temperature);
}

Tensor explanation_ce(const Tensor& masked_student, const Tensor& teacher) {
  check_pair("masked student", masked_student, "teacher", teacher);
  return ops::cross_entropy_soft(masked_student, ops::softmax(teacher.detach(), -1));
}

Tensor uniform_prior_kl(const Tensor& explainer_logits) {
  check_logits("explainer logits", explainer_logits);
  const int64_t d = explainer_logits.size(1);
  // KL(p || r) is kl_div(log r, p): the uniform's log-probabilities first.
  const Tensor log_uniform = Tensor::full(explainer_logits.shape(), -std::log(double(d)),
                                          explainer_logits.dtype(), explainer_logits.device());
  return ops::kl_div(log_uniform, ops::softmax(explainer_logits, -1));
}

LabelTerm labelled_cross_entropy(const Tensor& student, const Tensor& labels) {
  check_logits("student", student);
  LabelTerm out;
  if (!labels.defined()) {
    out.loss = Tensor::zeros({}, student.dtype(), student.device());
    return out;
  }
  const int64_t n = student.size(0), classes = student.size(1);
  MT_CHECK(labels.ndim() == 1 && labels.size(0) == n, "labelled_cross_entropy: labels ",
           labels.shape(), " do not match logits ", student.shape());
  MT_CHECK(labels.dtype() == DType::I64 || labels.dtype() == DType::I32,
           "labelled_cross_entropy: labels must be int32 or int64, got ", labels.str());
  // One-hot targets with zero rows for the unlabelled samples: their terms
  // vanish from cross_entropy_soft's batch sum, and rescaling its batch mean
  // by N / n_labelled averages over the labelled samples only.
  // Built on the host (labels are a few bytes), then moved to the logits' device.
  Tensor one_hot = Tensor::zeros({n, classes}, DType::F64);
  const Tensor host_labels = labels.to(Device::cpu());
  if (labels.dtype() == DType::I64) {
    fill_one_hot<int64_t>(host_labels, one_hot, classes, out.labelled);
  } else {
    fill_one_hot<int32_t>(host_labels, one_hot, classes, out.labelled);
  }
  if (out.labelled == 0) {
    out.loss = Tensor::zeros({}, student.dtype(), student.device());
    return out;
  }
  const Tensor target = one_hot.to(student.dtype()).to(student.device());
  out.loss =
      ops::mul_scalar(ops::cross_entropy_soft(student, target), double(n) / double(out.labelled));
  return out;
}

ObjectiveTerms medtex_objective(const Tensor& teacher, const Tensor& student,
                                const Tensor& masked_student, const Tensor& explainer_logits,
                                const Tensor& labels, const MedtexConfig& config) {
  check_config(config);
  check_pair("student", student, "teacher", teacher);
  check_pair("masked student", masked_student, "teacher", teacher);
  check_logits("explainer logits", explainer_logits);
  MT_CHECK(explainer_logits.size(0) == student.size(0), "medtex objective: explainer logits ",
           explainer_logits.shape(), " and student logits ", student.shape(),
           " disagree on the batch size");
  ObjectiveTerms out;
  out.kd = distillation_kl(student, teacher, config.temperature);
  out.explain = explanation_ce(masked_student, teacher);
  out.prior = uniform_prior_kl(explainer_logits);
  LabelTerm label = labelled_cross_entropy(student, labels);
  out.label = label.loss;
  out.labelled = label.labelled;
  out.total = weighted_total(out, config, out.labelled > 0);
  return out;
}

Tensor teacher_logits(nn::Module& teacher, const Tensor& x) {
  teacher.eval();
  NoGradGuard no_grad;
  return teacher.forward(x);
}

MedtexPass forward_three_nets(const Tensor& t, nn::Module& student, nn::Module& explainer,
                              const Tensor& x, const MedtexConfig& config,
                              const NoiseFn& noise_for, const char* who) {
  check_config(config, who);
  MT_CHECK(x.defined() && x.ndim() == 4, who, " pass: expects images [N, C, H, W], got ",
           describe(x));
  MedtexPass out;
  out.teacher_logits = t.detach();
  out.explainer_logits = explainer.forward(x);
  out.mask =
      relaxed_topk_from_noise(out.explainer_logits, noise_for(out.explainer_logits), config.tau);
  const int patch = patch_size_for(x.shape(), out.explainer_logits.size(1));
  out.masked_images = apply_patch_mask(x, out.mask, patch, config.fill);
  out.student_logits = student.forward(x);
  {
    nn::FreezeRunningStats freeze;  // DESIGN §5: batch statistics, no running update
    out.masked_student_logits = student.forward(out.masked_images);
  }
  return out;
}

NoiseFn fixed_noise(const Tensor& noise, const MedtexConfig& config, const char* who) {
  return [noise, k = config.k, who](const Tensor&) {
    MT_CHECK(noise.defined() && noise.ndim() == 3 && noise.size(0) == k, who,
             " pass: noise must be [k, N, d] with k = ", k, ", got ", describe(noise));
    return noise;
  };
}

NoiseFn fresh_noise(const MedtexConfig& config, Generator& gumbel) {
  return [k = config.k, &gumbel](const Tensor& e) { return gumbel_noise(k, e, gumbel); };
}

namespace {
MedtexPass with_objective(MedtexPass out, const Tensor& labels, const MedtexConfig& config) {
  out.terms = medtex_objective(out.teacher_logits, out.student_logits, out.masked_student_logits,
                               out.explainer_logits, labels, config);
  return out;
}
}  // namespace

MedtexPass medtex_pass_from(const Tensor& t, nn::Module& student, nn::Module& explainer,
                            const Tensor& x, const Tensor& labels, const MedtexConfig& config,
                            const Tensor& noise) {
  const char* who = "medtex objective";
  return with_objective(forward_three_nets(t, student, explainer, x, config,
                                           fixed_noise(noise, config, who), who),
                        labels, config);
}

MedtexPass medtex_pass(nn::Module& teacher, nn::Module& student, nn::Module& explainer,
                       const Tensor& x, const Tensor& labels, const MedtexConfig& config,
                       Generator& gumbel) {
  return with_objective(forward_three_nets(teacher_logits(teacher, x), student, explainer, x,
                                           config, fresh_noise(config, gumbel), "medtex objective"),
                        labels, config);
}

KdTerms hinton_kd(const Tensor& student, const Tensor& teacher, const Tensor& labels,
                  const KdConfig& config) {
  MT_CHECK(std::isfinite(config.a) && config.a >= 0 && config.a <= 1,
           "hinton_kd: a must be in [0, 1], got ", config.a);
  KdTerms out;
  out.kd = distillation_kl(student, teacher, config.temperature);
  LabelTerm label = labelled_cross_entropy(student, labels);
  out.label = label.loss;
  out.labelled = label.labelled;
  out.total = ops::mul_scalar(out.kd, config.a);
  if (out.labelled > 0) out.total = ops::add(out.total, ops::mul_scalar(out.label, 1.0 - config.a));
  return out;
}

}  // namespace medtex::method
