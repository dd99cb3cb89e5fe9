// Tensor: a shape, an element type, a device and reference-counted storage,
// plus what autograd needs (requires_grad, the node that produced it, .grad).
//
// Storage is always contiguous and row-major. reshape() is a view: it shares
// storage. A Tensor is a cheap handle; copies share the same TensorImpl.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtype.h"
#include "engine/shape.h"
#include "kernels/common/error.h"

namespace medtex {

struct Node;

// Owns one allocation on one device.
struct Storage {
  Storage(size_t bytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data = nullptr;
  size_t bytes = 0;
  Device device;
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  size_t offset = 0;  // in bytes, into storage
  Shape shape;
  DType dtype = DType::F32;

  bool requires_grad = false;
  std::shared_ptr<Node> grad_fn;     // null for leaves
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf
};

class Tensor {
 public:
  Tensor() = default;  // undefined: defined() is false
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- creation (no gradient) ---------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = {});
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = {});
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = {});
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32,
                     Device device = {});
  // Copies values into a new CPU tensor of the matching dtype.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  static Tensor scalar(double value, DType dtype = DType::F32);

  // ---- what it is ------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int ndim() const { return int(impl().shape.size()); }
  int64_t size(int dim) const;  // negative dims count from the end
  int64_t numel() const { return medtex::numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().storage->device; }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }
  std::string str() const;  // "float32[2, 3] cpu"

  // Typed pointer to the first element; the type must match dtype().
  template <class T>
  T* data() const;
  void* raw_data() const { return static_cast<char*>(impl().storage->data) + impl().offset; }

  // Host-side element access, for tests and small bookkeeping (a GPU tensor
  // is copied to the host first).
  template <class T>
  std::vector<T> to_vector() const;
  double item() const;  // a one-element tensor's value as double

  // ---- conversions (no gradient) -------------------------------------------
  Tensor detach() const;  // shares storage, cut from the graph
  Tensor copy() const;    // new storage, same values, cut from the graph
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;     // itself when already there, else a copy
  void copy_from(const Tensor& src);  // same shape and dtype, any devices; overwrites in place
  void fill_(double value);

  // ---- autograd ------------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad; }
  // Only leaves (tensors no op produced) may be marked; floating types only.
  Tensor& set_requires_grad(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const;  // undefined until a backward() reaches this leaf
  void zero_grad();     // forgets the accumulated gradient
  // Back-propagates from this tensor. With no argument it must hold one element
  // (a loss); otherwise `grad` is d(loss)/d(this) of this tensor's shape.
  void backward(const Tensor& grad = Tensor()) const;

  // Differentiable view with a new shape (one extent may be -1).
  Tensor reshape(const Shape& shape) const;

  TensorImpl& impl() const {
    MT_CHECK(impl_ != nullptr, "use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

template <class T>
T* Tensor::data() const {
  MT_CHECK(dtype() == DTypeOf<T>::value, "tensor ", str(), ": data<", dtype_name(DTypeOf<T>::value),
           ">() on a tensor of another type");
  return static_cast<T*>(raw_data());
}

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  MT_CHECK(int64_t(values.size()) == medtex::numel(shape), "from_vector: ", values.size(),
           " values for shape ", shape);
  Tensor t = empty(shape, DTypeOf<T>::value);
  if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
  return t;
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  if (!device().is_cpu()) return to(Device::cpu()).to_vector<T>();
  const T* p = data<T>();
  return std::vector<T>(p, p + numel());
}

}  // namespace medtex
