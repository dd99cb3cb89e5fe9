// The GPU runtime front: which backend Device::CUDA tensors run on, device
// memory through a caching allocator, copies, the stream, and launch checks.
//
//   gpu::probe_cuda()  looks for a real GPU once and says why there is none;
//   gpu::use(b)        picks the backend (a GPU, or the SIMT emulator);
//   gpu::alloc/free    device memory (cached: no cudaMalloc per op in steady state);
//   gpu::copy          host<->device<->device, ordered with the kernels;
//   gpu::check         turns a launch's simt::Error into medtex::Error naming
//                      the op and its shapes.
//
// All kernels run on one stream per process. Set MEDTEX_CUDA_SYNC=1 to
// synchronise after every launch, so an asynchronous kernel fault is reported
// by the op that caused it rather than by a later call.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "kernels/common/error.h"
#include "kernels/runtime/allocator.h"
#include "kernels/runtime/backend.h"
#include "kernels/runtime/device.h"

namespace medtex::gpu {

struct Probe {
  bool available = false;
  std::string reason;  // why not, when !available: "no CUDA device", "built without CUDA", ...
  DeviceInfo info;     // of device 0, when available
};

// Looks for a usable GPU once per process (later calls return the same
// answer). Never throws. A failed probe leaves CUDA alone afterwards: its
// error state can be sticky, so nothing else is tried on it.
const Probe& probe_cuda();

// Selects the backend of Device::CUDA tensors. kCuda needs probe_cuda() to
// have found a GPU; kEmulated always works. Throws when the choice is not
// possible or when tensors still live on the current backend.
void use(Backend b);

// The device of the active backend (throws when none is active).
const DeviceInfo& info();

// The stream every kernel of the active backend runs on (nullptr: emulator).
void* stream();

// Device memory of the active backend. alloc throws medtex::Error naming
// `what` when the device is out of memory, even after emptying the cache.
void* alloc(size_t bytes, const char* what);
void free(void* p);  // from alloc(); returns it to the cache
AllocatorStats allocator_stats();
void empty_cache();

// Copies, synchronous for the host side: a copy to the host returns with the
// bytes there; a copy from the host may reuse `src` on return. Uploads from
// pageable memory go through a pinned staging buffer on a real GPU.
void copy_to_device(void* dst, const void* src, size_t bytes, const char* what);
void copy_to_host(void* dst, const void* src, size_t bytes, const char* what);
void copy_on_device(void* dst, const void* src, size_t bytes, const char* what);
void synchronize(const char* what);

namespace detail {
bool sync_after_launch();  // MEDTEX_CUDA_SYNC=1
[[noreturn]] void launch_failed(const simt::Error& e, const std::string& where);
void check_after_sync(const std::string& where);
template <class... Parts>
std::string describe(const char* op, Parts&&... parts) {
  std::ostringstream s;
  s << op;
  if constexpr (sizeof...(Parts) > 0) {
    s << " (";
    (s << ... << std::forward<Parts>(parts));
    s << ")";
  }
  return s.str();
}
}  // namespace detail

// After every launch: gpu::check(simt::launch(...), "conv2d_forward", "x=", x_shape, ...).
// Throws "cuda: <op> (<parts>): <error>" on failure; builds no string on success.
template <class... Parts>
void check(const simt::Error& e, const char* op, Parts&&... parts) {
  if (!e.ok()) detail::launch_failed(e, detail::describe(op, std::forward<Parts>(parts)...));
  if (detail::sync_after_launch())
    detail::check_after_sync(detail::describe(op, std::forward<Parts>(parts)...));
}

// Grid size for `n` independent items at `per_block` items per block,
// capped so that a grid-stride loop covers the rest.
inline unsigned blocks_for(int64_t n, int per_block, int64_t cap = 65535) {
  const int64_t b = (n + per_block - 1) / per_block;
  return unsigned(b < 1 ? 1 : (b > cap ? cap : b));
}

}  // namespace medtex::gpu
