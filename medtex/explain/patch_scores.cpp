#include "medtex/explain/patch_scores.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/ops.h"
#include "medtex/explain/support.h"
#include "models/explainer.h"

namespace medtex::explain {

namespace {

std::string describe(const Tensor& t) {
  return t.defined() ? t.str() : std::string("an undefined tensor");
}

// [N, h, w] or [N, 1, h, w] -> [N, h, w] (a view).
Tensor squeeze_channel(const Tensor& map, const char* who) {
  MT_CHECK(map.defined() && (map.ndim() == 3 || (map.ndim() == 4 && map.size(1) == 1)), who,
           ": expects a map [N, H, W] or [N, 1, H, W], got ", describe(map));
  return map.ndim() == 3 ? map : map.reshape({map.size(0), map.size(2), map.size(3)});
}

// weights[i * from + a]: how much map cell a contributes to grid cell i along
// one axis (see resize_to_grid).
std::vector<double> axis_weights(int64_t from, int64_t to, Upsample up) {
  std::vector<double> w(size_t(to * from), 0.0);
  for (int64_t i = 0; i < to; ++i) {
    double* row = w.data() + i * from;
    if (from >= to) {
      // In units of 1/to, grid cell i spans [i from, (i + 1) from) and map
      // cell a spans [a to, (a + 1) to): integer overlaps, exact weights.
      const int64_t lo = i * from, hi = (i + 1) * from;
      for (int64_t a = lo / to; a < from && a * to < hi; ++a) {
        const int64_t overlap = std::min(hi, (a + 1) * to) - std::max(lo, a * to);
        if (overlap > 0) row[a] = double(overlap) / double(from);
      }
    } else if (up == Upsample::kNearest) {
      row[(i * from) / to] = 1.0;
    } else {
      const double src = std::max(0.0, (double(i) + 0.5) * double(from) / double(to) - 0.5);
      const int64_t a0 = std::min(int64_t(std::floor(src)), from - 1);
      const int64_t a1 = std::min(a0 + 1, from - 1);
      const double l = src - double(a0);
      row[a0] += 1.0 - l;
      row[a1] += l;
    }
  }
  return w;
}

}  // namespace

Tensor random_patch_scores(int64_t n, int64_t d, Generator& gen) {
  MT_CHECK(n >= 0 && d >= 1, "random_patch_scores: needs n >= 0 and d >= 1, got n = ", n,
           ", d = ", d);
  Tensor s = Tensor::empty({n, d}, DType::F32);
  gen.uniform_(s, 0.0, 1.0);
  return s;
}

Tensor explainer_scores(nn::Module& explainer, const Tensor& x, int64_t batch_size) {
  MT_CHECK(x.defined() && x.ndim() == 4, "explainer_scores: expects images [N, C, H, W], got ",
           describe(x));
  MT_CHECK(x.size(0) >= 1, "explainer_scores: no images in ", x.str());
  MT_CHECK(batch_size >= 1, "explainer_scores: batch_size must be >= 1, got ", batch_size);
  EvalMode eval(explainer);
  NoGradGuard no_grad;
  std::vector<float> out;
  int64_t d = 0;
  for (int64_t b = 0; b < x.size(0); b += batch_size) {
    // Images on the host; the explainer wherever it lives (the scores come back).
    const Tensor e = explainer.forward(
        rows(x, b, std::min(x.size(0), b + batch_size)).to(explainer.device()));
    MT_CHECK(e.ndim() == 2 && e.size(0) == std::min(batch_size, x.size(0) - b),
             "explainer_scores: the explainer must return [N, d], got ", e.str());
    d = e.size(1);
    const auto v = e.to(DType::F32).to_vector<float>();
    out.insert(out.end(), v.begin(), v.end());
  }
  return Tensor::from_vector(out, {x.size(0), d});
}

Tensor select_topk(const Tensor& scores, int k) {
  MT_CHECK(scores.defined() && scores.ndim() == 2, "select_topk: expects scores [N, d], got ",
           describe(scores));
  MT_CHECK(k >= 1 && k <= scores.size(1), "select_topk: k = ", k, " is outside 1..", scores.size(1),
           " for scores ", scores.shape());
  NoGradGuard no_grad;
  return ops::topk_mask(scores.detach(), k);
}

Tensor pixel_map_to_patches(const Tensor& pixel_map, int patch) {
  NoGradGuard no_grad;
  const Tensor m = squeeze_channel(pixel_map, "pixel_map_to_patches");
  const int64_t n = m.size(0), h = m.size(1), w = m.size(2);
  const int64_t d = models::patch_count(patch, h, w);
  const Tensor m4 = m.detach().reshape({n, 1, h, w});
  // The mean of each square times its area is its sum.
  const Tensor pooled =
      patch == 1 ? m4 : ops::mul_scalar(ops::avgpool2d(m4, patch, patch), double(patch) * patch);
  return ops::reshape(pooled, {n, d});
}

Tensor resize_to_grid(const Tensor& map, int64_t grid_h, int64_t grid_w, Upsample up) {
  const Tensor m = squeeze_channel(map, "resize_to_grid").to(DType::F64);
  MT_CHECK(grid_h >= 1 && grid_w >= 1, "resize_to_grid: the grid must be at least 1x1, got ",
           grid_h, "x", grid_w);
  const int64_t n = m.size(0), h = m.size(1), w = m.size(2);
  MT_CHECK(h >= 1 && w >= 1, "resize_to_grid: empty map ", m.shape());
  const std::vector<double> wr = axis_weights(h, grid_h, up), wc = axis_weights(w, grid_w, up);
  const std::vector<double> v = m.to_vector<double>();
  std::vector<float> out(size_t(n * grid_h * grid_w));
  std::vector<double> tmp(size_t(grid_h * w));
  for (int64_t s = 0; s < n; ++s) {
    const double* src = v.data() + s * h * w;
    // Rows first (tmp = wr * map), then columns (out = tmp * wc^T).
    std::fill(tmp.begin(), tmp.end(), 0.0);
    for (int64_t i = 0; i < grid_h; ++i) {
      for (int64_t a = 0; a < h; ++a) {
        const double r = wr[size_t(i * h + a)];
        if (r == 0.0) continue;
        for (int64_t b = 0; b < w; ++b) tmp[size_t(i * w + b)] += r * src[a * w + b];
      }
    }
    for (int64_t i = 0; i < grid_h; ++i) {
      for (int64_t j = 0; j < grid_w; ++j) {
        double acc = 0.0;
        for (int64_t b = 0; b < w; ++b) acc += wc[size_t(j * w + b)] * tmp[size_t(i * w + b)];
        out[size_t((s * grid_h + i) * grid_w + j)] = float(acc);
      }
    }
  }
  return Tensor::from_vector(out, {n, grid_h * grid_w});
}

}  // namespace medtex::explain
