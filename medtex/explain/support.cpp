#include "medtex/explain/support.h"

#include <string>

#include "engine/ops.h"

namespace medtex::explain {

Tensor rows(const Tensor& t, int64_t begin, int64_t end) {
  MT_CHECK(t.defined() && t.ndim() >= 1, "explain: rows of ",
           t.defined() ? t.str() : std::string("an undefined tensor"));
  MT_CHECK(0 <= begin && begin <= end && end <= t.size(0), "explain: rows [", begin, ", ", end,
           ") of ", t.str(), " are out of range");
  const int64_t row = t.size(0) == 0 ? 0 : t.numel() / t.size(0);
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.impl().storage;
  impl->offset = t.impl().offset + size_t(begin * row) * dtype_size(t.dtype());
  impl->shape = t.shape();
  impl->shape[0] = end - begin;
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

FrozenParameters::FrozenParameters(nn::Module& m) : params_(m.parameters()) {
  for (Tensor& p : params_) {
    was_on_.push_back(p.requires_grad());
    p.set_requires_grad(false);
  }
}

FrozenParameters::~FrozenParameters() {
  for (size_t i = 0; i < params_.size(); ++i) params_[i].set_requires_grad(was_on_[i]);
}

std::vector<int64_t> target_classes(const Tensor& logits, const Tensor& classes, const char* who) {
  MT_CHECK(logits.defined() && logits.ndim() == 2, who, ": the net must return logits [N, C], got ",
           logits.defined() ? logits.str() : std::string("an undefined tensor"));
  const int64_t n = logits.size(0), c = logits.size(1);
  std::vector<int64_t> out;
  if (classes.defined()) {
    MT_CHECK(classes.ndim() == 1 && classes.size(0) == n, who, ": classes ", classes.shape(),
             " do not match logits ", logits.shape());
    MT_CHECK(classes.dtype() == DType::I64 || classes.dtype() == DType::I32, who,
             ": classes must be int32 or int64, got ", classes.str());
    out = classes.to(DType::I64).to_vector<int64_t>();
  } else {
    NoGradGuard no_grad;
    out = ops::argmax(logits.detach(), 1).to_vector<int64_t>();
  }
  for (int64_t i = 0; i < n; ++i) {
    MT_CHECK(out[size_t(i)] >= 0 && out[size_t(i)] < c, who, ": class ", out[size_t(i)], " of row ",
             i, " is outside 0..", c - 1);
  }
  return out;
}

Tensor class_selector(const Tensor& logits, const std::vector<int64_t>& classes) {
  const int64_t n = logits.size(0), c = logits.size(1);
  std::vector<double> sel(size_t(n * c), 0.0);
  for (int64_t i = 0; i < n; ++i) sel[size_t(i * c + classes[size_t(i)])] = 1.0;
  return Tensor::from_vector(sel, logits.shape()).to(logits.dtype());
}

}  // namespace medtex::explain
