#include "medtex/data/normalize.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "kernels/common/error.h"

namespace medtex::data {

void Normalization::apply(float* chw, int64_t plane) const {
  for (int c = 0; c < 3; ++c) {
    const float m = mean[c], inv = 1.0f / stddev[c];
    float* p = chw + c * plane;
    for (int64_t i = 0; i < plane; ++i) p[i] = (p[i] - m) * inv;
  }
}

namespace {

std::string three(const std::array<float, 3>& v) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.9g,%.9g,%.9g", double(v[0]), double(v[1]), double(v[2]));
  return buf;
}

std::array<float, 3> parse_three(const std::map<std::string, std::string>& meta,
                                 const std::string& key) {
  const auto it = meta.find(key);
  MT_CHECK(it != meta.end(), "normalisation: metadata has no '", key, "'");
  std::array<float, 3> v{};
  const char* p = it->second.c_str();
  for (int c = 0; c < 3; ++c) {
    char* end = nullptr;
    v[c] = std::strtof(p, &end);
    MT_CHECK(end != p && std::isfinite(v[c]), "normalisation: '", key, "' = '", it->second,
             "' is not three numbers");
    p = end;
    if (c < 2) {
      MT_CHECK(*p == ',', "normalisation: '", key, "' = '", it->second,
               "' is not three comma-separated numbers");
      ++p;
    }
  }
  MT_CHECK(*p == '\0', "normalisation: '", key, "' = '", it->second, "' has extra text");
  return v;
}

}  // namespace

std::map<std::string, std::string> Normalization::to_metadata() const {
  return {{"normalize.mean", three(mean)}, {"normalize.std", three(stddev)}};
}

Normalization Normalization::from_metadata(const std::map<std::string, std::string>& meta) {
  Normalization n;
  n.mean = parse_three(meta, "normalize.mean");
  n.stddev = parse_three(meta, "normalize.std");
  for (int c = 0; c < 3; ++c) {
    MT_CHECK(n.stddev[c] > 0.0f, "normalisation: std of channel ", c, " is ", n.stddev[c],
             ", must be positive");
  }
  return n;
}

Normalization compute_normalization(const Tensor& images, const std::vector<int64_t>& rows) {
  MT_CHECK(images.ndim() == 4 && images.size(1) == 3 && images.dtype() == DType::F32,
           "normalisation: expected float32 images [N, 3, H, W], got ", images.str());
  MT_CHECK(!rows.empty(), "normalisation: no training images to compute statistics from");
  const int64_t n = images.size(0), plane = images.size(2) * images.size(3);
  for (int64_t r : rows) MT_CHECK(r >= 0 && r < n, "normalisation: row ", r, " out of range");
  const float* data = images.data<float>();
  const int64_t count = int64_t(rows.size());
  std::vector<double> part(size_t(count) * 3);
  auto per_image = [&](auto&& term) {
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < count; ++k) {
      for (int c = 0; c < 3; ++c) {
        const float* p = data + (rows[size_t(k)] * 3 + c) * plane;
        double s = 0.0;
        for (int64_t i = 0; i < plane; ++i) s += term(c, double(p[i]));
        part[size_t(k) * 3 + c] = s;
      }
    }
  };
  const double total = double(count) * double(plane);
  double mean[3] = {0, 0, 0}, var[3] = {0, 0, 0};
  per_image([](int, double x) { return x; });
  for (int64_t k = 0; k < count; ++k) {
    for (int c = 0; c < 3; ++c) mean[c] += part[size_t(k) * 3 + c];
  }
  for (double& m : mean) m /= total;
  per_image([&mean](int c, double x) { return (x - mean[c]) * (x - mean[c]); });
  for (int64_t k = 0; k < count; ++k) {
    for (int c = 0; c < 3; ++c) var[c] += part[size_t(k) * 3 + c];
  }
  Normalization out;
  for (int c = 0; c < 3; ++c) {
    out.mean[c] = float(mean[c]);
    const double sd = std::sqrt(var[c] / total);
    out.stddev[c] = sd > 1e-6 ? float(sd) : 1.0f;
  }
  return out;
}

}  // namespace medtex::data
