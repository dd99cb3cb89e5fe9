#include "medtex/method/multilabel.h"

#include <cmath>
#include <string>
#include <vector>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/method/masking.h"
#include "medtex/method/relaxed_topk.h"

namespace medtex::method {

namespace {

std::string describe(const Tensor& t) {
  return t.defined() ? t.str() : std::string("an undefined tensor");
}

void check_logits(const char* what, const Tensor& t) {
  MT_CHECK(t.defined() && t.ndim() == 2 && t.size(0) > 0 && t.size(1) > 0,
           "multi-label objective: ", what, " must be logits [N, L], got ", describe(t));
}

void check_pair(const char* what, const Tensor& a, const char* other, const Tensor& b) {
  check_logits(what, a);
  check_logits(other, b);
  MT_CHECK(a.shape() == b.shape(), "multi-label objective: ", what, " ", a.shape(), " and ", other,
           " ", b.shape(), " differ in shape");
}


}  // namespace

Tensor bernoulli_pairs(const Tensor& logits) {
  check_logits("logits", logits);
  const int64_t rows = logits.numel();
  const Tensor selector =
      Tensor::from_vector(std::vector<double>{0.0, 1.0}, {1, 2}).to(logits.dtype()).to(logits.device());
  return ops::mul(ops::reshape(logits, {rows, 1}), selector);
}

Tensor bernoulli_distillation_kl(const Tensor& student, const Tensor& teacher, double temperature) {
  check_pair("student", student, "teacher", teacher);
  MT_CHECK(std::isfinite(temperature) && temperature > 0,
           "multi-label objective: temperature must be positive, got ", temperature);
  const Tensor p_teacher = ops::softmax(bernoulli_pairs(teacher.detach()), -1, temperature);
  const Tensor log_q_student = ops::log_softmax(bernoulli_pairs(student), -1, temperature);
  // kl_div divides by its N * L rows: the mean over labels and images.
  return ops::mul_scalar(ops::kl_div(log_q_student, p_teacher), temperature * temperature);
}

Tensor bernoulli_explanation_ce(const Tensor& masked_student, const Tensor& teacher) {
  check_pair("masked student", masked_student, "teacher", teacher);
  return ops::cross_entropy_soft(bernoulli_pairs(masked_student),
                                 ops::softmax(bernoulli_pairs(teacher.detach()), -1));
}

MultiLabelTerm known_bce_with_logits(const Tensor& logits, const Tensor& targets,
                                     const Tensor& known) {
  check_logits("logits", logits);
  MultiLabelTerm out;
  if (!targets.defined()) {
    out.loss = Tensor::zeros({}, logits.dtype(), logits.device());
    return out;
  }
  const int64_t n = logits.size(0), l = logits.size(1);
  MT_CHECK(targets.shape() == logits.shape(), "known_bce_with_logits: targets ", targets.shape(),
           " do not match logits ", logits.shape());
  MT_CHECK(!known.defined() || known.shape() == logits.shape(), "known_bce_with_logits: known ",
           describe(known), " does not match logits ", logits.shape());
  const std::vector<double> y = targets.to(DType::F64).to_vector<double>();
  const std::vector<double> m = known.defined() ? known.to(DType::F64).to_vector<double>()
                                                : std::vector<double>(size_t(n * l), 1.0);
  // Two-class targets [1 - y, y] for known entries and [0, 0] for blanks:
  // a blank row adds nothing to cross_entropy_soft's sum and gets no
  // gradient, and rescaling its mean over N * L rows by N * L / known
  // averages over the known entries only.
  std::vector<double> pairs(size_t(2 * n * l), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    bool any = false;
    for (int64_t j = 0; j < l; ++j) {
      const size_t e = size_t(i * l + j);
      MT_CHECK(m[e] == 0.0 || m[e] == 1.0, "known_bce_with_logits: known[", i, ", ", j,
               "] = ", m[e], " is neither 0 nor 1");
      if (m[e] == 0.0) continue;
      MT_CHECK(y[e] >= 0.0 && y[e] <= 1.0, "known_bce_with_logits: target[", i, ", ", j,
               "] = ", y[e], " is outside [0, 1]");
      pairs[2 * e] = 1.0 - y[e];
      pairs[2 * e + 1] = y[e];
      ++out.known;
      any = true;
    }
    if (any) ++out.labelled;
  }
  if (out.known == 0) {
    out.loss = Tensor::zeros({}, logits.dtype(), logits.device());
    return out;
  }
  const Tensor target =
      Tensor::from_vector(pairs, {n * l, 2}).to(logits.dtype()).to(logits.device());
  out.loss = ops::mul_scalar(ops::cross_entropy_soft(bernoulli_pairs(logits), target),
                             double(n * l) / double(out.known));
  return out;
}

ObjectiveTerms multilabel_objective(const Tensor& teacher, const Tensor& student,
                                    const Tensor& masked_student, const Tensor& explainer_logits,
                                    const Tensor& targets, const Tensor& known,
                                    const MedtexConfig& config) {
  check_config(config, "multi-label objective");
  check_pair("student", student, "teacher", teacher);
  check_pair("masked student", masked_student, "teacher", teacher);
  MT_CHECK(explainer_logits.defined() && explainer_logits.ndim() == 2 &&
               explainer_logits.size(0) == student.size(0),
           "multi-label objective: explainer logits ", describe(explainer_logits),
           " and student logits ", student.shape(), " disagree on the batch size");
  ObjectiveTerms out;
  out.kd = bernoulli_distillation_kl(student, teacher, config.temperature);
  out.explain = bernoulli_explanation_ce(masked_student, teacher);
  out.prior = uniform_prior_kl(explainer_logits);
  const MultiLabelTerm label = known_bce_with_logits(student, targets, known);
  out.label = label.loss;
  out.labelled = label.labelled;
  out.total = weighted_total(out, config, label.known > 0);
  return out;
}

namespace {
constexpr const char* kWho = "multi-label objective";

MedtexPass with_objective(MedtexPass out, const Tensor& targets, const Tensor& known,
                          const MedtexConfig& config) {
  out.terms = multilabel_objective(out.teacher_logits, out.student_logits,
                                   out.masked_student_logits, out.explainer_logits, targets,
                                   known, config);
  return out;
}
}  // namespace

MedtexPass multilabel_pass_from(const Tensor& t, nn::Module& student, nn::Module& explainer,
                                const Tensor& x, const Tensor& targets, const Tensor& known,
                                const MedtexConfig& config, const Tensor& noise) {
  return with_objective(
      forward_three_nets(t, student, explainer, x, config, fixed_noise(noise, config, kWho), kWho),
      targets, known, config);
}

MedtexPass multilabel_pass(nn::Module& teacher, nn::Module& student, nn::Module& explainer,
                           const Tensor& x, const Tensor& targets, const Tensor& known,
                           const MedtexConfig& config, Generator& gumbel) {
  return with_objective(forward_three_nets(teacher_logits(teacher, x), student, explainer, x,
                                           config, fresh_noise(config, gumbel), kWho),
                        targets, known, config);
}

KdTerms multilabel_hinton_kd(const Tensor& student, const Tensor& teacher, const Tensor& targets,
                             const Tensor& known, const KdConfig& config) {
  MT_CHECK(std::isfinite(config.a) && config.a >= 0 && config.a <= 1,
           "multilabel_hinton_kd: a must be in [0, 1], got ", config.a);
  KdTerms out;
  out.kd = bernoulli_distillation_kl(student, teacher, config.temperature);
  const MultiLabelTerm label = known_bce_with_logits(student, targets, known);
  out.label = label.loss;
  out.labelled = label.labelled;
  out.total = ops::mul_scalar(out.kd, config.a);
  if (label.known > 0) out.total = ops::add(out.total, ops::mul_scalar(out.label, 1.0 - config.a));
  return out;
}

}  // namespace medtex::method
