#include "engine/tensor.h"

#include <cstdlib>

#include "engine/autograd.h"
#include "engine/dispatch.h"
#include "kernels/memory/memory.h"
#include "kernels/memory/memory_cuda.h"
#include "kernels/runtime/gpu.h"

namespace medtex {

namespace {
// Cache-line alignment: lets the compiler use aligned vector loads and keeps
// two tensors from sharing a line between threads.
constexpr size_t kAlign = 64;

template <class F>
void dispatch_any(DType t, F&& f) {
  switch (t) {
    case DType::F32:
      return f(float{});
    case DType::F64:
      return f(double{});
    case DType::I32:
      return f(int32_t{});
    case DType::I64:
      return f(int64_t{});
  }
}
}  // namespace

Storage::Storage(size_t nbytes, Device dev) : bytes(nbytes), device(dev) {
  if (dev.is_cuda()) {
    MT_CHECK(dev.index == 0, "cannot allocate on ", dev.str(), ": only cuda:0 is supported");
    MT_CHECK(gpu::active() != gpu::Backend::kNone, "cannot allocate on ", dev.str(),
             ": no GPU backend selected (--device cuda or emu)");
    data = gpu::alloc(nbytes, "a tensor");
    return;
  }
  const size_t rounded = (nbytes + kAlign - 1) / kAlign * kAlign;
  data = std::aligned_alloc(kAlign, rounded == 0 ? kAlign : rounded);
  MT_CHECK(data != nullptr, "out of memory allocating ", nbytes, " bytes");
}

Storage::~Storage() {
  if (device.is_cuda())
    gpu::free(data);
  else
    std::free(data);
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t e : shape) MT_CHECK(e >= 0, "negative extent in shape ", shape);
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->dtype = dtype;
  impl->storage = std::make_shared<Storage>(size_t(medtex::numel(shape)) * dtype_size(dtype), device);
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  return full(shape, 1.0, dtype, device);
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

int64_t Tensor::size(int dim) const {
  return shape()[size_t(normalize_dim("size", dim, ndim()))];
}

std::string Tensor::str() const {
  if (!defined()) return "undefined";
  return std::string(dtype_name(dtype())) + shape_str(shape()) + " " + device().str();
}

double Tensor::item() const {
  MT_CHECK(numel() == 1, "item(): tensor ", str(), " does not hold exactly one element");
  if (!device().is_cpu()) return to(Device::cpu()).item();
  double v = 0;
  dispatch_any(dtype(), [&](auto zero) { v = double(*data<decltype(zero)>()); });
  return v;
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = this->impl().storage;
  impl->offset = this->impl().offset;
  impl->shape = shape();
  impl->dtype = dtype();
  return Tensor(std::move(impl));
}

Tensor Tensor::copy() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_from(*this);
  return out;
}

Tensor Tensor::to(DType target) const {
  Tensor out = empty(shape(), target, device());
  dispatch_any(dtype(), [&](auto from) {
    using From = decltype(from);
    dispatch_any(target, [&](auto to) {
      using To = decltype(to);
      if (device().is_cuda())
        MT_GPU(convert<To, From>)(numel(), data<From>(), out.data<To>());
      else
        cpu::convert<To, From>(numel(), data<From>(), out.data<To>());
    });
  });
  return out;
}

Tensor Tensor::to(Device target) const {
  if (target == device()) return *this;
  Tensor out = empty(shape(), dtype(), target);
  out.copy_from(*this);
  return out;
}

void Tensor::copy_from(const Tensor& src) {
  MT_CHECK(src.shape() == shape() && src.dtype() == dtype(), "copy_from: source ", src.str(),
           " does not match destination ", str());
  if (nbytes() == 0 || raw_data() == src.raw_data()) return;
  const bool from_gpu = src.device().is_cuda(), to_gpu = device().is_cuda();
  if (!from_gpu && !to_gpu)
    std::memcpy(raw_data(), src.raw_data(), nbytes());
  else if (!from_gpu)
    gpu::copy_to_device(raw_data(), src.raw_data(), nbytes(), "copy_from");
  else if (!to_gpu)
    gpu::copy_to_host(raw_data(), src.raw_data(), nbytes(), "copy_from");
  else
    gpu::copy_on_device(raw_data(), src.raw_data(), nbytes(), "copy_from");
}

void Tensor::fill_(double value) {
  dispatch_any(dtype(), [&](auto zero) {
    using T = decltype(zero);
    if (device().is_cuda())
      MT_GPU(fill<T>)(numel(), T(value), data<T>());
    else
      cpu::fill<T>(numel(), T(value), data<T>());
  });
}

Tensor& Tensor::set_requires_grad(bool on) {
  MT_CHECK(is_leaf(), "set_requires_grad: only leaf tensors can be marked (", str(), ")");
  MT_CHECK(!on || is_floating(dtype()), "set_requires_grad: ", str(),
           " is not a floating-point tensor");
  impl().requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  return impl().grad ? Tensor(impl().grad) : Tensor();
}

void Tensor::zero_grad() { impl().grad.reset(); }

Tensor Tensor::reshape(const Shape& new_shape) const {
  Shape s = new_shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      MT_CHECK(infer < 0, "reshape: more than one -1 in ", new_shape);
      infer = int(i);
    } else {
      MT_CHECK(s[i] >= 0, "reshape: bad extent in ", new_shape);
      known *= s[i];
    }
  }
  if (infer >= 0) {
    MT_CHECK(known > 0 && numel() % known == 0, "reshape: cannot view ", shape(), " as ", new_shape);
    s[size_t(infer)] = numel() / known;
  }
  MT_CHECK(medtex::numel(s) == numel(), "reshape: cannot view ", shape(), " (", numel(),
           " elements) as ", new_shape);
  Tensor out = detach();
  out.impl().shape = s;
  const Shape in_shape = shape();
  return record("reshape", out, {*this}, [in_shape](const Tensor& g) -> std::vector<Tensor> {
    return {g.detach().reshape(in_shape)};
  });
}

}  // namespace medtex
