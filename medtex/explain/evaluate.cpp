#include "medtex/explain/evaluate.h"

#include <algorithm>
#include <optional>
#include <span>
#include <string>

#include "engine/nn/layers.h"
#include "engine/ops.h"
#include "medtex/explain/patch_scores.h"
#include "medtex/explain/support.h"
#include "medtex/method/masking.h"

namespace medtex::explain {

namespace {

std::string describe(const Tensor& t) {
  return t.defined() ? t.str() : std::string("an undefined tensor");
}

struct Forward {
  std::vector<int> predicted;       // argmax per image
  std::vector<double> probability;  // softmax probability of `classes` (or of the argmax)
};

// One pass of `net` on x; the probability is read at classes[n] when given.
// x is on the host (masking happens there); the net runs on its own device.
Forward run(nn::Module& net, const Tensor& x, const std::vector<int>* classes = nullptr) {
  const Tensor logits = net.forward(x.to(net.device())).to(Device::cpu());
  MT_CHECK(logits.ndim() == 2 && logits.size(0) == x.size(0),
           "evaluate_explanations: the net must return logits [N, C], got ", logits.str());
  const int64_t n = logits.size(0), c = logits.size(1);
  const auto p = ops::softmax(logits, -1).to(DType::F64).to_vector<double>();
  Forward out;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = p.data() + i * c;
    const int top = int(std::max_element(row, row + c) - row);  // first maximum, as argmax
    out.predicted.push_back(top);
    out.probability.push_back(row[classes ? (*classes)[size_t(i)] : top]);
  }
  return out;
}

// Lesion masks [N, H', W'] or [N, 1, H', W'] as float32 [N, H', W']; one
// error line naming `who` for any other shape (an undefined tensor included).
Tensor masks_as_planes(const Tensor& lesion_masks, int64_t n, const char* who) {
  MT_CHECK(lesion_masks.defined() &&
               (lesion_masks.ndim() == 3 ||
                (lesion_masks.ndim() == 4 && lesion_masks.size(1) == 1)) &&
               lesion_masks.size(0) == n,
           who, ": lesion masks must be [", n, ", H, W] or [", n, ", 1, H, W], got ",
           describe(lesion_masks));
  return lesion_masks.detach()
      .reshape({n, lesion_masks.size(-2), lesion_masks.size(-1)})
      .to(DType::F32);
}

// keep: [B * d] 0/1 per patch -> the teacher's probability of its class on
// x with those patches kept and the rest set to fill.
std::vector<double> probability_kept(nn::Module& teacher, const Tensor& x,
                                     const std::vector<float>& keep, int64_t d, int patch,
                                     double fill, const std::vector<int>& classes) {
  const Tensor z = Tensor::from_vector(keep, {x.size(0), d}).to(x.dtype());
  return run(teacher, method::apply_patch_mask(x, z, patch, fill), &classes).probability;
}

}  // namespace

ExplanationEval evaluate_explanations(nn::Module& teacher, nn::Module* student,
                                      const Tensor& images, const Tensor& lesion_masks,
                                      const Tensor& patch_scores, const EvaluateOptions& options) {
  const char* who = "evaluate_explanations";
  MT_CHECK(images.defined() && images.ndim() == 4 && images.size(0) >= 1, who,
           ": expects images [N, C, H, W], got ", describe(images));
  const int64_t n = images.size(0);
  MT_CHECK(patch_scores.defined() && patch_scores.ndim() == 2 && patch_scores.size(0) == n, who,
           ": patch scores must be [", n, ", d] for images ", images.shape(), ", got ",
           describe(patch_scores));
  const int64_t d = patch_scores.size(1);
  const int patch = method::patch_size_for(images.shape(), d);
  const metrics::PatchGrid grid{int(images.size(2) / patch), int(images.size(3) / patch)};
  MT_CHECK(options.k >= 1 && options.k <= d, who, ": k = ", options.k, " is outside 1..", d);
  MT_CHECK(options.steps >= 1, who, ": steps must be >= 1, got ", options.steps);
  MT_CHECK(options.batch_size >= 1, who, ": batch_size must be >= 1, got ", options.batch_size);
  const Tensor& student_images =
      options.student_images.defined() ? options.student_images : images;
  MT_CHECK(student_images.shape() == images.shape(), who,
           ": the student's images must have the teacher's shape ", images.shape(), ", got ",
           student_images.shape());

  // float32 [N, H', W'] or undefined
  const Tensor masks = lesion_masks.defined() ? masks_as_planes(lesion_masks, n, who) : Tensor();

  ExplanationEval out;
  out.images = n;
  out.patches = d;
  out.k = options.k;
  out.steps = int(std::min<int64_t>(options.steps, d));
  out.has_student = student != nullptr;
  out.has_masks = masks.defined();
  const std::vector<int> counts = metrics::curve_patch_counts(int(d), out.steps);
  for (int c : counts) out.curve_fraction.push_back(double(c) / double(d));
  out.deletion_curve.assign(counts.size(), 0.0);
  out.insertion_curve.assign(counts.size(), 0.0);

  EvalMode teacher_eval(teacher);
  std::optional<EvalMode> student_eval;
  if (student) student_eval.emplace(*student);
  NoGradGuard no_grad;

  const Tensor scores = patch_scores.detach().to(DType::F32);
  const std::vector<float> all_scores = scores.to_vector<float>();
  std::vector<int> teacher_full, teacher_masked, student_masked;
  double deletion_sum = 0.0, insertion_sum = 0.0;

  for (int64_t b0 = 0; b0 < n; b0 += options.batch_size) {
    const int64_t b1 = std::min(n, b0 + options.batch_size), bn = b1 - b0;
    const Tensor x = rows(images, b0, b1).detach();
    const std::span<const float> s(all_scores.data() + b0 * d, size_t(bn * d));

    const Forward full = run(teacher, x);
    const std::vector<int>& cls = full.predicted;
    teacher_full.insert(teacher_full.end(), cls.begin(), cls.end());

    // The hard top-k selection and the masked image x~.
    const Tensor selection = select_topk(rows(scores, b0, b1), options.k);  // float32 [B, d]
    const Tensor masked = method::apply_patch_mask(x, selection.to(x.dtype()), patch, options.fill);
    const auto tm = run(teacher, masked).predicted;
    teacher_masked.insert(teacher_masked.end(), tm.begin(), tm.end());
    if (student) {
      const Tensor xs = rows(student_images, b0, b1).detach();
      const Tensor smasked =
          method::apply_patch_mask(xs, selection.to(xs.dtype()), patch, options.fill);
      std::vector<int> sm;
      if (options.student_batch_statistics) {
        student->train();
        nn::FreezeRunningStats keep_running_stats;
        try {
          sm = run(*student, smasked).predicted;
        } catch (...) {
          student->eval();
          throw;
        }
        student->eval();
      } else {
        sm = run(*student, smasked).predicted;
      }
      student_masked.insert(student_masked.end(), sm.begin(), sm.end());
    }

    // Deletion and insertion. No patch removed is the full image; all
    // removed is the blank image, computed once per batch.
    std::vector<std::vector<int>> order(static_cast<size_t>(bn));
    for (int64_t i = 0; i < bn; ++i) {
      order[size_t(i)] = metrics::patch_order(s.subspan(size_t(i * d), size_t(d)));
    }
    const std::vector<double> blank = probability_kept(
        teacher, x, std::vector<float>(size_t(bn * d), 0.0f), d, patch, options.fill, cls);
    std::vector<std::vector<double>> del(static_cast<size_t>(bn)), ins(static_cast<size_t>(bn));
    for (int c : counts) {
      std::vector<double> pd, pi;
      if (c == 0 || c == d) {
        pd = c == 0 ? full.probability : blank;
        pi = c == 0 ? blank : full.probability;
      } else {
        std::vector<float> keep_del, keep_ins;
        for (int64_t i = 0; i < bn; ++i) {
          const auto kd = metrics::deletion_keep_mask(order[size_t(i)], c);
          const auto ki = metrics::insertion_keep_mask(order[size_t(i)], c);
          keep_del.insert(keep_del.end(), kd.begin(), kd.end());
          keep_ins.insert(keep_ins.end(), ki.begin(), ki.end());
        }
        pd = probability_kept(teacher, x, keep_del, d, patch, options.fill, cls);
        pi = probability_kept(teacher, x, keep_ins, d, patch, options.fill, cls);
      }
      for (int64_t i = 0; i < bn; ++i) {
        del[size_t(i)].push_back(pd[size_t(i)]);
        ins[size_t(i)].push_back(pi[size_t(i)]);
      }
    }
    for (int64_t i = 0; i < bn; ++i) {
      deletion_sum += metrics::curve_auc(out.curve_fraction, del[size_t(i)]);
      insertion_sum += metrics::curve_auc(out.curve_fraction, ins[size_t(i)]);
      for (size_t j = 0; j < counts.size(); ++j) {
        out.deletion_curve[j] += del[size_t(i)][j];
        out.insertion_curve[j] += ins[size_t(i)][j];
      }
    }

    if (masks.defined()) {
      const int mh = int(masks.size(1)), mw = int(masks.size(2));
      const auto sel = selection.to_vector<float>();
      const auto m = rows(masks, b0, b1).to_vector<float>();
      out.lesion_precision.merge(metrics::lesion_precision_at_k(sel, m, mh, mw, grid));
      out.pointing_game.merge(metrics::pointing_game(s, m, mh, mw, grid));
    }
  }

  out.post_hoc_accuracy = metrics::post_hoc_accuracy(teacher_masked, teacher_full);
  if (student) out.student_fidelity = metrics::student_fidelity(student_masked, teacher_full);
  out.deletion_auc = deletion_sum / double(n);
  out.insertion_auc = insertion_sum / double(n);
  for (double& v : out.deletion_curve) v /= double(n);
  for (double& v : out.insertion_curve) v /= double(n);
  return out;
}

LesionReliance lesion_reliance(nn::Module& teacher, const Tensor& images,
                               const Tensor& lesion_masks, int patch, double fill,
                               int64_t batch_size) {
  const char* who = "lesion_reliance";
  MT_CHECK(images.defined() && images.ndim() == 4 && images.size(0) >= 1, who,
           ": expects images [N, C, H, W], got ", describe(images));
  const int64_t n = images.size(0);
  const auto m = masks_as_planes(lesion_masks, n, who).to_vector<float>();
  MT_CHECK(patch >= 1 && images.size(2) % patch == 0 && images.size(3) % patch == 0, who,
           ": patch ", patch, " does not tile images ", images.shape());
  MT_CHECK(batch_size >= 1, who, ": batch_size must be >= 1, got ", batch_size);
  const int mh = int(lesion_masks.size(-2)), mw = int(lesion_masks.size(-1));
  const metrics::PatchGrid grid{int(images.size(2) / patch), int(images.size(3) / patch)};
  const int64_t d = grid.count();
  EvalMode eval(teacher);
  NoGradGuard no_grad;
  LesionReliance out;
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    const int64_t b1 = std::min(n, b0 + batch_size);
    std::vector<float> keep, drop;
    std::vector<bool> has_lesion;
    for (int64_t i = b0; i < b1; ++i) {
      const auto flags = metrics::lesion_patches(
          std::span<const float>(m.data() + i * mh * mw, size_t(mh) * size_t(mw)), mh, mw, grid);
      bool any = false;
      for (uint8_t f : flags) {
        keep.push_back(float(f));
        drop.push_back(1.0f - float(f));
        any = any || f != 0;
      }
      has_lesion.push_back(any);
    }
    const Tensor x = rows(images, b0, b1).detach();
    const std::vector<int> full = run(teacher, x).predicted;
    auto predict_with = [&](const std::vector<float>& z) {
      const Tensor zt = Tensor::from_vector(z, {b1 - b0, d}).to(x.dtype());
      return run(teacher, method::apply_patch_mask(x, zt, patch, fill)).predicted;
    };
    const std::vector<int> kept = predict_with(keep), removed = predict_with(drop);
    for (size_t i = 0; i < full.size(); ++i) {
      if (!has_lesion[i]) {
        ++out.kept.excluded;
        ++out.removed.excluded;
        continue;
      }
      ++out.kept.evaluated;
      ++out.removed.evaluated;
      out.kept.sum += full[i] == kept[i] ? 1.0 : 0.0;
      out.removed.sum += full[i] == removed[i] ? 1.0 : 0.0;
    }
  }
  return out;
}

}  // namespace medtex::explain
