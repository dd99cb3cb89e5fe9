#include "medtex/data/loader.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "kernels/common/error.h"

namespace medtex::data {

std::vector<int64_t> ImageSet::strata() const {
  if (!multi_label) return labels;
  const int64_t n = rows(), k = int64_t(classes.size());
  const float* t = targets.data<float>();
  const float* kn = known.data<float>();
  std::vector<int64_t> out(size_t(n), k);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      if (kn[r * k + c] > 0.5f && t[r * k + c] > 0.5f) {
        out[size_t(r)] = c;
        break;
      }
    }
  }
  return out;
}

ImageSet load_images(const Dataset& ds, const LoadOptions& opts) {
  MT_CHECK(opts.size >= 8 && opts.size <= 4096, "load: image size ", opts.size,
           " out of range [8, 4096]");
  const int64_t n = ds.size();
  MT_CHECK(n > 0, ds.index, ": no samples");
  const int S = opts.size;
  const int64_t plane = int64_t(S) * S;
  Tensor images = Tensor::empty({n, 3, S, S});
  Tensor masks = ds.has_mask_column ? Tensor::zeros({n, 1, S, S}) : Tensor();
  float* img = images.data<float>();
  float* msk = masks.defined() ? masks.data<float>() : nullptr;
  std::vector<std::string> errors(static_cast<size_t>(n));

  // One thread per file; errors are kept per sample and reported in index order.
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    const Sample& s = ds.samples[size_t(i)];
    try {
      const Image im = read_image(s.path, 3);
      image_to_chw(im, S, opts.fit, img + i * 3 * plane);
      if (msk && !s.mask_path.empty()) {
        const Image m = read_image(s.mask_path, 1);
        MT_CHECK(m.width == im.width && m.height == im.height, s.mask_path, ": mask is ", m.width,
                 "x", m.height, " but its image is ", im.width, "x", im.height);
        plane_to_float(m, S, opts.fit, msk + i * plane, /*binarize=*/true);
      }
    } catch (const std::exception& e) {
      const std::string what = e.what();
      // The decoder names the file; a CSV row adds where it came from.
      errors[size_t(i)] = s.where == s.path ? what : s.where + ": " + what;
    }
  }

  ImageSet set;
  set.size = S;
  set.multi_label = ds.multi_label;
  set.classes = ds.classes;
  set.warnings = ds.warnings;
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i) {
    if (errors[size_t(i)].empty()) {
      keep.push_back(i);
      continue;
    }
    MT_CHECK(opts.skip_bad, errors[size_t(i)]);
    set.warnings.push_back(errors[size_t(i)] + " (skipped)");
    ++set.skipped;
  }
  MT_CHECK(!keep.empty(), ds.index, ": none of the ", n, " images could be read");
  const int64_t m = int64_t(keep.size());
  if (m == n) {
    set.images = images;
    set.masks = masks;
  } else {
    set.images = Tensor::empty({m, 3, S, S});
    if (masks.defined()) set.masks = Tensor::empty({m, 1, S, S});
    for (int64_t r = 0; r < m; ++r) {
      std::memcpy(set.images.data<float>() + r * 3 * plane, img + keep[size_t(r)] * 3 * plane,
                  size_t(3 * plane) * sizeof(float));
      if (msk) {
        std::memcpy(set.masks.data<float>() + r * plane, msk + keep[size_t(r)] * plane,
                    size_t(plane) * sizeof(float));
      }
    }
  }
  const int64_t k = int64_t(ds.classes.size());
  if (ds.multi_label) {
    set.targets = Tensor::empty({m, k});
    set.known = Tensor::empty({m, k});
  }
  for (int64_t r = 0; r < m; ++r) {
    const Sample& s = ds.samples[size_t(keep[size_t(r)])];
    set.sample.push_back(keep[size_t(r)]);
    set.has_mask.push_back(!s.mask_path.empty());
    if (ds.multi_label) {
      for (int64_t c = 0; c < k; ++c) {
        set.targets.data<float>()[r * k + c] = s.targets[size_t(c)];
        set.known.data<float>()[r * k + c] = float(s.known[size_t(c)]);
      }
    } else {
      set.labels.push_back(s.label);
    }
  }
  return set;
}

// ---- Loader ---------------------------------------------------------------------

Loader::Loader(const ImageSet& set, std::vector<int64_t> rows, const LoaderOptions& opts,
               const Generator& gen)
    : set_(set), rows_(std::move(rows)), opts_(opts), order_gen_(gen.fork("order")) {
  MT_CHECK(opts_.batch_size >= 1, "loader: batch size must be positive, got ", opts_.batch_size);
  MT_CHECK(opts_.workers >= 1, "loader: workers must be positive, got ", opts_.workers);
  MT_CHECK(opts_.prefetch_depth >= 1, "loader: prefetch depth must be positive");
  MT_CHECK(!rows_.empty(), "loader: no rows to serve");
  for (int64_t r : rows_) {
    MT_CHECK(r >= 0 && r < set_.rows(), "loader: row ", r, " out of range [0, ", set_.rows(), ")");
  }
  const Generator aug = gen.fork("augment");
  aug_draw_ = {aug.seed(), aug.stream(), 0};
}

Loader::~Loader() {
  stop_worker();
}

int64_t Loader::batches_per_epoch() const {
  const int64_t n = int64_t(rows_.size()), b = opts_.batch_size;
  return opts_.drop_last ? n / b : (n + b - 1) / b;
}

void Loader::stop_worker() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }
  ready_.clear();
  done_ = false;
  stop_ = false;
  error_ = nullptr;
}

void Loader::start_epoch(int64_t epoch, int64_t first_batch) {
  MT_CHECK(epoch >= 0 && epoch <= int64_t(UINT32_MAX), "loader: epoch ", epoch, " out of range");
  MT_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch(), "loader: first batch ",
           first_batch, " out of range [0, ", batches_per_epoch(), "]");
  stop_worker();
  epoch_ = epoch;
  order_ = rows_;
  if (opts_.shuffle) {
    Generator g = order_gen_.fork("epoch " + std::to_string(epoch));
    for (size_t k = order_.size(); k > 1; --k) std::swap(order_[k - 1], order_[g.next_below(k)]);
  }
  aug_draw_.offset = uint32_t(epoch);
  next_batch_ = first_batch;
  if (opts_.prefetch) worker_ = std::thread([this, first_batch] { run_worker(first_batch); });
}

void Loader::run_worker(int64_t first_batch) {
  try {
    for (int64_t b = first_batch; b < batches_per_epoch(); ++b) {
      Batch batch = make_batch(b);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || int(ready_.size()) < opts_.prefetch_depth; });
      if (stop_) return;
      ready_.push_back(std::move(batch));
      cv_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::current_exception();
  }
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  cv_.notify_all();
}

bool Loader::next(Batch& out) {
  MT_CHECK(epoch_ >= 0, "loader: call start_epoch before next");
  if (!opts_.prefetch) {
    if (next_batch_ >= batches_per_epoch()) return false;
    out = make_batch(next_batch_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !ready_.empty() || done_; });
  if (!ready_.empty()) {
    out = std::move(ready_.front());
    ready_.pop_front();
    cv_.notify_all();
    return true;
  }
  if (error_) std::rethrow_exception(error_);
  return false;
}

Batch Loader::make_batch(int64_t b) const {
  MT_CHECK(epoch_ >= 0, "loader: call start_epoch before make_batch");
  MT_CHECK(b >= 0 && b < batches_per_epoch(), "loader: batch ", b, " out of range");
  const int64_t begin = b * opts_.batch_size;
  const int64_t end = std::min<int64_t>(begin + opts_.batch_size, int64_t(order_.size()));
  const int64_t count = end - begin;
  const int S = set_.size;
  const int64_t plane = int64_t(S) * S;
  const int64_t k = int64_t(set_.classes.size());

  Batch out;
  out.rows.assign(order_.begin() + begin, order_.begin() + end);
  out.images = Tensor::empty({count, 3, S, S});
  const bool masks = set_.masks.defined();
  if (masks) out.masks = Tensor::zeros({count, 1, S, S});
  const float* src = set_.images.data<float>();
  const float* src_mask = masks ? set_.masks.data<float>() : nullptr;
  float* dst = out.images.data<float>();
  float* dst_mask = masks ? out.masks.data<float>() : nullptr;
  const std::vector<int64_t>& rows = out.rows;

  // Each sample is one thread's work from its own parameters: the batch is
  // the same for any number of workers.
#pragma omp parallel for schedule(static) num_threads(opts_.workers)
  for (int64_t j = 0; j < count; ++j) {
    const int64_t r = rows[size_t(j)];
    const float* im = src + r * 3 * plane;
    const float* mk = (masks && set_.has_mask[size_t(r)]) ? src_mask + r * plane : nullptr;
    float* d = dst + j * 3 * plane;
    float* dm = mk ? dst_mask + j * plane : nullptr;
    if (opts_.augment) {
      const AugmentParams p = draw_augment(opts_.aug, aug_draw_, set_.sample[size_t(r)]);
      augment_image(im, mk, S, p, d, dm);
    } else {
      std::memcpy(d, im, size_t(3 * plane) * sizeof(float));
      if (mk) std::memcpy(dm, mk, size_t(plane) * sizeof(float));
    }
    if (opts_.normalize) opts_.normalize->apply(d, plane);
  }

  if (set_.multi_label) {
    out.targets = Tensor::empty({count, k});
    out.known = Tensor::empty({count, k});
    for (int64_t j = 0; j < count; ++j) {
      const int64_t r = rows[size_t(j)];
      std::memcpy(out.targets.data<float>() + j * k, set_.targets.data<float>() + r * k,
                  size_t(k) * sizeof(float));
      std::memcpy(out.known.data<float>() + j * k, set_.known.data<float>() + r * k,
                  size_t(k) * sizeof(float));
    }
  } else {
    out.labels = Tensor::empty({count}, DType::I64);
    for (int64_t j = 0; j < count; ++j) {
      out.labels.data<int64_t>()[j] = set_.labels[size_t(rows[size_t(j)])];
    }
  }
  return out;
}

}  // namespace medtex::data
