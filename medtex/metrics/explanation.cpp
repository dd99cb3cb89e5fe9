#include "medtex/metrics/explanation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "medtex/metrics/check.h"

namespace medtex::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double agreement(const char* metric, std::span<const int> a, const char* what_a,
                 std::span<const int> b, const char* what_b) {
  detail::check_same_length(metric, what_a, a.size(), what_b, b.size());
  detail::check_nonempty(metric, a.size());
  int64_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  return double(same) / double(a.size());
}

void check_order(const char* metric, std::span<const int> order, int count) {
  const int d = int(order.size());
  MT_CHECK(count >= 0 && count <= d, metric, ": count ", count, " is outside 0..", d);
  std::vector<uint8_t> seen(order.size(), 0);
  for (size_t i = 0; i < order.size(); ++i) {
    MT_CHECK(order[i] >= 0 && order[i] < d && !seen[size_t(order[i])], metric, ": order[", i,
             "] = ", order[i], " is not a permutation of 0..", d - 1);
    seen[size_t(order[i])] = 1;
  }
}

void check_grid(const char* metric, int height, int width, PatchGrid grid) {
  MT_CHECK(grid.rows > 0 && grid.cols > 0, metric, ": patch grid ", grid.rows, " x ", grid.cols,
           " is empty");
  MT_CHECK(height >= grid.rows && width >= grid.cols, metric, ": a ", height, " x ", width,
           " mask cannot hold a ", grid.rows, " x ", grid.cols, " patch grid");
}

template <class M>
std::vector<uint8_t> lesion_patches_impl(std::span<const M> mask, int height, int width,
                                         PatchGrid grid) {
  check_grid("lesion_patches", height, width, grid);
  detail::check_same_length("lesion_patches", "lesion mask", mask.size(), "height * width",
                            size_t(height) * size_t(width));
  std::vector<uint8_t> flags(size_t(grid.count()), 0);
  // Integer cell edges: floor(r * H / G), so every pixel lies in exactly one cell.
  for (int r = 0; r < grid.rows; ++r) {
    const int y0 = int(int64_t(r) * height / grid.rows);
    const int y1 = int(int64_t(r + 1) * height / grid.rows);
    for (int c = 0; c < grid.cols; ++c) {
      const int x0 = int(int64_t(c) * width / grid.cols);
      const int x1 = int(int64_t(c + 1) * width / grid.cols);
      bool touch = false;
      for (int y = y0; y < y1 && !touch; ++y) {
        for (int x = x0; x < x1; ++x) {
          if (mask[size_t(y) * size_t(width) + size_t(x)] != M(0)) {
            touch = true;
            break;
          }
        }
      }
      flags[size_t(r) * size_t(grid.cols) + size_t(c)] = touch ? 1 : 0;
    }
  }
  return flags;
}

// Splits the batched inputs into images; per-image checks happen inside.
template <class M, class PerImage>
ImageRate over_images(const char* metric, std::span<const float> per_patch,
                      std::span<const M> masks, int height, int width, PatchGrid grid,
                      PerImage per_image) {
  check_grid(metric, height, width, grid);
  const size_t d = size_t(grid.count());
  const size_t pixels = size_t(height) * size_t(width);
  const size_t n = detail::rows_of(metric, "patch values", per_patch.size(), grid.count());
  detail::check_nonempty(metric, n);
  detail::check_same_length(metric, "lesion masks", masks.size(), "images * height * width",
                            n * pixels);
  detail::check_not_nan(metric, "patch values", per_patch);
  ImageRate rate;
  for (size_t i = 0; i < n; ++i) {
    const std::vector<uint8_t> flags =
        lesion_patches_impl(masks.subspan(i * pixels, pixels), height, width, grid);
    if (std::none_of(flags.begin(), flags.end(), [](uint8_t f) { return f != 0; })) {
      ++rate.excluded;
      continue;
    }
    rate.sum += per_image(per_patch.subspan(i * d, d), std::span<const uint8_t>(flags));
    ++rate.evaluated;
  }
  return rate;
}

}  // namespace

double post_hoc_accuracy(std::span<const int> teacher_on_masked,
                         std::span<const int> teacher_on_full) {
  return agreement("post_hoc_accuracy", teacher_on_masked, "teacher-on-masked predictions",
                   teacher_on_full, "teacher-on-full predictions");
}

double student_fidelity(std::span<const int> student_on_masked,
                        std::span<const int> teacher_on_full) {
  return agreement("student_fidelity", student_on_masked, "student-on-masked predictions",
                   teacher_on_full, "teacher-on-full predictions");
}

std::vector<int> patch_order(std::span<const float> patch_scores) {
  detail::check_nonempty("patch_order", patch_scores.size());
  detail::check_not_nan("patch_order", "patch scores", patch_scores);
  std::vector<int> order(patch_scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return patch_scores[size_t(a)] > patch_scores[size_t(b)]; });
  return order;
}

std::vector<float> deletion_keep_mask(std::span<const int> order, int count) {
  check_order("deletion_keep_mask", order, count);
  std::vector<float> keep(order.size(), 1.0f);
  for (int i = 0; i < count; ++i) keep[size_t(order[size_t(i)])] = 0.0f;
  return keep;
}

std::vector<float> insertion_keep_mask(std::span<const int> order, int count) {
  check_order("insertion_keep_mask", order, count);
  std::vector<float> keep(order.size(), 0.0f);
  for (int i = 0; i < count; ++i) keep[size_t(order[size_t(i)])] = 1.0f;
  return keep;
}

std::vector<int> curve_patch_counts(int num_patches, int steps) {
  MT_CHECK(num_patches > 0, "curve_patch_counts: need at least one patch, got ", num_patches);
  MT_CHECK(steps > 0, "curve_patch_counts: need at least one step, got ", steps);
  std::vector<int> counts(size_t(steps) + 1);
  for (int i = 0; i <= steps; ++i) counts[size_t(i)] = int(int64_t(i) * num_patches / steps);
  return counts;
}

double curve_auc(std::span<const double> curve) {
  MT_CHECK(curve.size() >= 2, "curve_auc: a curve needs at least two points, got ", curve.size());
  detail::check_not_nan("curve_auc", "curve", curve);
  // Inner points enter twice (end of one trapezoid, start of the next), the
  // two ends once.
  double sum = 0.5 * (curve.front() + curve.back());
  for (size_t i = 1; i + 1 < curve.size(); ++i) sum += curve[i];
  return sum / double(curve.size() - 1);
}

double curve_auc(std::span<const float> curve) {
  const std::vector<double> wide(curve.begin(), curve.end());
  return curve_auc(std::span<const double>(wide));
}

double curve_auc(std::span<const double> x, std::span<const double> curve) {
  detail::check_same_length("curve_auc", "x", x.size(), "curve", curve.size());
  MT_CHECK(curve.size() >= 2, "curve_auc: a curve needs at least two points, got ", curve.size());
  detail::check_not_nan("curve_auc", "x", x);
  detail::check_not_nan("curve_auc", "curve", curve);
  for (size_t i = 1; i < x.size(); ++i) {
    MT_CHECK(x[i] >= x[i - 1], "curve_auc: x must not decrease, but x[", i, "] = ", x[i], " < x[",
             i - 1, "] = ", x[i - 1]);
  }
  const double range = x.back() - x.front();
  MT_CHECK(range > 0.0, "curve_auc: x covers no interval (all ", x.front(), ")");
  double area = 0.0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    area += 0.5 * (x[i + 1] - x[i]) * (curve[i] + curve[i + 1]);
  }
  return area / range;
}

double deletion_auc(std::span<const double> curve) {
  return curve_auc(curve);
}
double insertion_auc(std::span<const double> curve) {
  return curve_auc(curve);
}

std::vector<uint8_t> lesion_patches(std::span<const float> lesion_mask, int height, int width,
                                    PatchGrid grid) {
  detail::check_not_nan("lesion_patches", "lesion mask", lesion_mask);
  return lesion_patches_impl(lesion_mask, height, width, grid);
}

std::vector<uint8_t> lesion_patches(std::span<const uint8_t> lesion_mask, int height, int width,
                                    PatchGrid grid) {
  return lesion_patches_impl(lesion_mask, height, width, grid);
}

double lesion_precision(std::span<const float> selection, std::span<const uint8_t> lesion_flags) {
  detail::check_same_length("lesion_precision", "selection", selection.size(), "lesion flags",
                            lesion_flags.size());
  detail::check_not_nan("lesion_precision", "selection", selection);
  int64_t selected = 0, on_lesion = 0;
  for (size_t p = 0; p < selection.size(); ++p) {
    if (selection[p] > 0.5f) {
      ++selected;
      on_lesion += lesion_flags[p] != 0;
    }
  }
  MT_CHECK(selected > 0, "lesion_precision: no patch is selected (no value > 0.5 among ",
           selection.size(), ")");
  return double(on_lesion) / double(selected);
}

bool pointing_hit(std::span<const float> patch_scores, std::span<const uint8_t> lesion_flags) {
  detail::check_same_length("pointing_hit", "patch scores", patch_scores.size(), "lesion flags",
                            lesion_flags.size());
  detail::check_nonempty("pointing_hit", patch_scores.size());
  detail::check_not_nan("pointing_hit", "patch scores", patch_scores);
  size_t best = 0;
  for (size_t p = 1; p < patch_scores.size(); ++p) {
    if (patch_scores[p] > patch_scores[best]) best = p;  // strict: the first maximum wins
  }
  return lesion_flags[best] != 0;
}

double ImageRate::value() const {
  return evaluated == 0 ? kNaN : sum / double(evaluated);
}

void ImageRate::merge(const ImageRate& other) {
  sum += other.sum;
  evaluated += other.evaluated;
  excluded += other.excluded;
}

ImageRate lesion_precision_at_k(std::span<const float> selections,
                                std::span<const float> lesion_masks, int height, int width,
                                PatchGrid grid) {
  detail::check_not_nan("lesion_precision_at_k", "lesion masks", lesion_masks);
  return over_images("lesion_precision_at_k", selections, lesion_masks, height, width, grid,
                     lesion_precision);
}

ImageRate lesion_precision_at_k(std::span<const float> selections,
                                std::span<const uint8_t> lesion_masks, int height, int width,
                                PatchGrid grid) {
  return over_images("lesion_precision_at_k", selections, lesion_masks, height, width, grid,
                     lesion_precision);
}

ImageRate pointing_game(std::span<const float> patch_scores, std::span<const float> lesion_masks,
                        int height, int width, PatchGrid grid) {
  detail::check_not_nan("pointing_game", "lesion masks", lesion_masks);
  return over_images("pointing_game", patch_scores, lesion_masks, height, width, grid,
                     [](std::span<const float> s, std::span<const uint8_t> f) {
                       return pointing_hit(s, f) ? 1.0 : 0.0;
                     });
}

ImageRate pointing_game(std::span<const float> patch_scores, std::span<const uint8_t> lesion_masks,
                        int height, int width, PatchGrid grid) {
  return over_images("pointing_game", patch_scores, lesion_masks, height, width, grid,
                     [](std::span<const float> s, std::span<const uint8_t> f) {
                       return pointing_hit(s, f) ? 1.0 : 0.0;
                     });
}

}  // namespace medtex::metrics
