#include "medtex/train/batching.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "engine/autograd.h"
#include "kernels/common/error.h"

namespace medtex::train {

DataRef all_rows(const data::ImageSet& set) {
  DataRef d;
  d.set = &set;
  d.rows.resize(size_t(set.rows()));
  for (int64_t r = 0; r < set.rows(); ++r) d.rows[size_t(r)] = r;
  return d;
}

Tensor normalized(const Tensor& x, const models::ModelConfig& config) {
  if (config.norm_mean.empty()) return x;
  MT_CHECK(
      x.ndim() == 4 && x.dtype() == DType::F32 && x.size(1) == int64_t(config.norm_mean.size()),
      "normalisation: ", config.arch, " expects float32 images with ", config.norm_mean.size(),
      " channels, got ", x.str());
  Tensor out = Tensor::empty(x.shape(), DType::F32);
  const int64_t n = x.size(0), channels = x.size(1), plane = x.size(2) * x.size(3);
  const float* src = x.data<float>();
  float* dst = out.data<float>();
  // The same form as data::Normalization::apply: (x - m) * (1 / s) in float.
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < channels; ++c) {
      const float m = float(config.norm_mean[size_t(c)]);
      const float inv = 1.0f / float(config.norm_std[size_t(c)]);
      const float* p = src + (i * channels + c) * plane;
      float* q = dst + (i * channels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) q[k] = (p[k] - m) * inv;
    }
  }
  return out;
}

void compute_normalization(const std::vector<const DataRef*>& sources,
                           models::ModelConfig& config) {
  // Per image and channel: the sum, then the sum of squared deviations from
  // the overall mean (two passes: no cancellation as in E[x^2] - E[x]^2).
  int64_t images = 0, plane = 0;
  for (const DataRef* d : sources) {
    if (d == nullptr || d->empty()) continue;
    images += d->size();
    plane = int64_t(d->set->size) * d->set->size;
  }
  MT_CHECK(images > 0, "normalisation: no training images to compute statistics from");
  auto pass = [&](auto&& term) {
    double acc[3] = {0, 0, 0};
    for (const DataRef* d : sources) {
      if (d == nullptr || d->empty()) continue;
      const int64_t count = d->size();
      std::vector<double> part(size_t(count) * 3);
      const float* data = d->set->images.data<float>();
      const int64_t p = int64_t(d->set->size) * d->set->size;
      MT_CHECK(p == plane, "normalisation: the training sets differ in image size");
#pragma omp parallel for schedule(static)
      for (int64_t k = 0; k < count; ++k) {
        for (int c = 0; c < 3; ++c) {
          const float* px = data + (d->rows[size_t(k)] * 3 + c) * p;
          double s = 0.0;
          for (int64_t i = 0; i < p; ++i) s += term(c, double(px[i]));
          part[size_t(k) * 3 + c] = s;
        }
      }
      for (int64_t k = 0; k < count; ++k) {
        for (int c = 0; c < 3; ++c) acc[c] += part[size_t(k) * 3 + c];
      }
    }
    return std::vector<double>{acc[0], acc[1], acc[2]};
  };
  const double total = double(images) * double(plane);
  std::vector<double> mean = pass([](int, double x) { return x; });
  for (double& m : mean) m /= total;
  const std::vector<double> sq =
      pass([&mean](int c, double x) { return (x - mean[size_t(c)]) * (x - mean[size_t(c)]); });
  config.norm_mean.assign(3, 0.0);
  config.norm_std.assign(3, 1.0);
  for (int c = 0; c < 3; ++c) {
    // Stored as float values (what the normalisation computes with), so the
    // metadata round trip is exact.
    config.norm_mean[size_t(c)] = double(float(mean[size_t(c)]));
    const double sd = std::sqrt(sq[size_t(c)] / total);
    config.norm_std[size_t(c)] = sd > 1e-6 ? double(float(sd)) : 1.0;
  }
}

Tensor gather_images(const DataRef& data, int64_t begin, int64_t end) {
  MT_CHECK(!data.empty() && begin >= 0 && begin <= end && end <= data.size(),
           "gather_images: rows [", begin, ", ", end, ") of ", data.size());
  const int S = data.set->size;
  const int64_t per = int64_t(3) * S * S;
  Tensor out = Tensor::empty({end - begin, 3, S, S});
  const float* src = data.set->images.data<float>();
  float* dst = out.data<float>();
  for (int64_t i = begin; i < end; ++i) {
    std::memcpy(dst + (i - begin) * per, src + data.rows[size_t(i)] * per,
                size_t(per) * sizeof(float));
  }
  return out;
}

Tensor gather_labels(const DataRef& data, int64_t begin, int64_t end) {
  MT_CHECK(!data.set->multi_label, "gather_labels: the set is multi-label");
  Tensor out = Tensor::empty({end - begin}, DType::I64);
  for (int64_t i = begin; i < end; ++i) {
    out.data<int64_t>()[i - begin] = data.set->labels[size_t(data.rows[size_t(i)])];
  }
  return out;
}

void gather_targets(const DataRef& data, int64_t begin, int64_t end, Tensor& targets,
                    Tensor& known) {
  MT_CHECK(data.set->multi_label, "gather_targets: the set is single-label");
  const int64_t k = int64_t(data.set->classes.size());
  targets = Tensor::empty({end - begin, k});
  known = Tensor::empty({end - begin, k});
  for (int64_t i = begin; i < end; ++i) {
    const int64_t r = data.rows[size_t(i)];
    std::memcpy(targets.data<float>() + (i - begin) * k, data.set->targets.data<float>() + r * k,
                size_t(k) * sizeof(float));
    std::memcpy(known.data<float>() + (i - begin) * k, data.set->known.data<float>() + r * k,
                size_t(k) * sizeof(float));
  }
}

Tensor concat_rows(const Tensor& a, const Tensor& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  MT_CHECK(a.ndim() == b.ndim() && a.ndim() >= 1 && a.dtype() == b.dtype(),
           "concat_rows: ", a.str(), " and ", b.str(), " cannot be stacked");
  for (int d = 1; d < a.ndim(); ++d) {
    MT_CHECK(a.size(d) == b.size(d), "concat_rows: ", a.str(), " and ", b.str(),
             " differ beyond dim 0");
  }
  Shape shape = a.shape();
  shape[0] = a.size(0) + b.size(0);
  Tensor out = Tensor::empty(shape, a.dtype());
  char* dst = static_cast<char*>(out.raw_data());
  std::memcpy(dst, a.raw_data(), a.nbytes());
  std::memcpy(dst + a.nbytes(), b.raw_data(), b.nbytes());
  return out;
}

Tensor predict_logits(nn::Module& model, const models::ModelConfig& config, const DataRef& data,
                      int64_t batch_size) {
  MT_CHECK(!data.empty(), "predict: no images");
  MT_CHECK(batch_size >= 1, "predict: batch size must be positive, got ", batch_size);
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  Tensor out;
  try {
    const int64_t n = data.size();
    for (int64_t b = 0; b < n; b += batch_size) {
      const int64_t e = std::min(n, b + batch_size);
      const Tensor logits =
          model.forward(normalized(gather_images(data, b, e), config).to(model.device()))
              .to(Device::cpu());
      MT_CHECK(logits.ndim() == 2 && logits.size(0) == e - b, "predict: ", config.arch, " gave ",
               logits.str(), " for ", e - b, " images");
      if (!out.defined()) out = Tensor::empty({n, logits.size(1)});
      std::memcpy(out.data<float>() + b * logits.size(1), logits.to(DType::F32).raw_data(),
                  size_t((e - b) * logits.size(1)) * sizeof(float));
    }
  } catch (...) {
    model.train(was_training);
    throw;
  }
  model.train(was_training);
  return out;
}

void check_model_fits(const models::ModelConfig& config, const data::ImageSet& set,
                      const char* what) {
  MT_CHECK(config.input_size == set.size, what, " (", config.arch, ") was built for ",
           config.input_size, "x", config.input_size, " images but the data are loaded at ",
           set.size, "x", set.size);
  MT_CHECK(config.in_channels == 3, what, " (", config.arch, ") takes ", config.in_channels,
           " channels; images have 3");
  if (set.classes.empty()) return;  // an unlabelled archive: no classes to compare
  MT_CHECK(config.num_classes == int(set.classes.size()), what, " (", config.arch, ") has ",
           config.num_classes, " outputs but the data have ", set.classes.size(),
           set.multi_label ? " labels" : " classes");
}

}  // namespace medtex::train
