// Temporary device memory for a launcher (partial sums, per-row losses, error
// flags, cuDNN workspaces), n elements of T from the active backend's caching
// allocator, handed back when the launcher returns. Safe without a synchronisation: every kernel runs on
// the one stream, so a later user of the same block runs after the kernels
// that used it here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/runtime/gpu.h"

namespace medtex::gpu {

template <class T>
class DeviceScratch {
 public:
  DeviceScratch(int64_t n, const char* what)
      : p_(n > 0 ? static_cast<T*>(alloc(size_t(n) * sizeof(T), what)) : nullptr) {}
  ~DeviceScratch() {
    if (p_ != nullptr) gpu::free(p_);
  }
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  T* get() const { return p_; }

 private:
  T* p_;
};

}  // namespace medtex::gpu
