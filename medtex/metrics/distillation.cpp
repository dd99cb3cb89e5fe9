#include "medtex/metrics/distillation.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "medtex/metrics/check.h"
#include "medtex/metrics/classification.h"

namespace medtex::metrics {

namespace {

// Teacher and student logits of the same [N, C] shape, all finite.
size_t check_pair(const char* metric, std::span<const float> teacher,
                  std::span<const float> student, int columns) {
  const size_t n = detail::rows_of(metric, "teacher logits", teacher.size(), columns);
  detail::check_same_length(metric, "teacher logits", teacher.size(), "student logits",
                            student.size());
  detail::check_nonempty(metric, n);
  auto check_finite = [&](std::span<const float> v, const char* who) {
    for (size_t i = 0; i < v.size(); ++i) {
      MT_CHECK(std::isfinite(v[i]), metric, ": ", who, " logit [", i / size_t(columns), ", ",
               i % size_t(columns), "] is ", v[i]);
    }
  };
  check_finite(teacher, "teacher");
  check_finite(student, "student");
  return n;
}

void check_temperature(const char* metric, double temperature) {
  MT_CHECK(temperature > 0.0 && std::isfinite(temperature), metric,
           ": temperature must be positive and finite, got ", temperature);
}

// out[c] = log softmax(z / T)[c] = z_c / T - logsumexp(z / T), shifted by the
// maximum so exp never overflows.
void log_softmax(const float* z, int c_count, double temperature, double* out) {
  double m = -INFINITY;
  for (int c = 0; c < c_count; ++c) {
    out[c] = double(z[c]) / temperature;
    m = std::max(m, out[c]);
  }
  double s = 0.0;
  for (int c = 0; c < c_count; ++c) s += std::exp(out[c] - m);
  const double lse = m + std::log(s);
  for (int c = 0; c < c_count; ++c) out[c] -= lse;
}

// softplus(x) = log(1 + e^x), without overflow for large x.
double softplus(double x) {
  return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

}  // namespace

double top1_agreement(std::span<const int> teacher_predicted,
                      std::span<const int> student_predicted) {
  detail::check_same_length("top1_agreement", "teacher predictions", teacher_predicted.size(),
                            "student predictions", student_predicted.size());
  detail::check_nonempty("top1_agreement", teacher_predicted.size());
  return accuracy(student_predicted, teacher_predicted);
}

double top1_agreement(std::span<const float> teacher_logits, std::span<const float> student_logits,
                      int num_classes) {
  check_pair("top1_agreement", teacher_logits, student_logits, num_classes);
  const std::vector<int> t = argmax_rows(teacher_logits, num_classes);
  const std::vector<int> s = argmax_rows(student_logits, num_classes);
  return top1_agreement(t, s);
}

double mean_kl(std::span<const float> teacher_logits, std::span<const float> student_logits,
               int num_classes, double temperature) {
  const size_t n = check_pair("mean_kl", teacher_logits, student_logits, num_classes);
  check_temperature("mean_kl", temperature);
  const size_t c_count = size_t(num_classes);
  std::vector<double> lp(c_count), lq(c_count);
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    log_softmax(teacher_logits.data() + i * c_count, num_classes, temperature, lp.data());
    log_softmax(student_logits.data() + i * c_count, num_classes, temperature, lq.data());
    double kl = 0.0;
    for (size_t c = 0; c < c_count; ++c) {
      const double p = std::exp(lp[c]);
      if (p > 0.0) kl += p * (lp[c] - lq[c]);  // 0 log 0 = 0
    }
    total += kl;
  }
  return total / double(n);
}

double multilabel_agreement(std::span<const float> teacher_logits,
                            std::span<const float> student_logits, int num_labels) {
  check_pair("multilabel_agreement", teacher_logits, student_logits, num_labels);
  int64_t same = 0;
  for (size_t i = 0; i < teacher_logits.size(); ++i) {
    same += (teacher_logits[i] > 0.0f) == (student_logits[i] > 0.0f);
  }
  return double(same) / double(teacher_logits.size());
}

double mean_bernoulli_kl(std::span<const float> teacher_logits,
                         std::span<const float> student_logits, int num_labels,
                         double temperature) {
  check_pair("mean_bernoulli_kl", teacher_logits, student_logits, num_labels);
  check_temperature("mean_bernoulli_kl", temperature);
  double total = 0.0;
  for (size_t i = 0; i < teacher_logits.size(); ++i) {
    const double t = double(teacher_logits[i]) / temperature;
    const double s = double(student_logits[i]) / temperature;
    const double log_p = -softplus(-t), log_1mp = -softplus(t);
    const double log_q = -softplus(-s), log_1mq = -softplus(s);
    const double p = std::exp(log_p), one_minus_p = std::exp(log_1mp);
    double kl = 0.0;
    if (p > 0.0) kl += p * (log_p - log_q);
    if (one_minus_p > 0.0) kl += one_minus_p * (log_1mp - log_1mq);
    total += kl;
  }
  return total / double(teacher_logits.size());
}

}  // namespace medtex::metrics
