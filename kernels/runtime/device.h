// The raw device layer, one build per backend (device_cuda.cu): what differs
// between a GPU and the emulator. Nothing here caches or checks shapes; the
// front (gpu.h) adds the caching allocator, the stream and the error messages.
#pragma once

#include <cstddef>
#include <string>

#include "kernels/runtime/backend.h"
#include "kernels/simt/error.h"

namespace medtex::gpu {

struct DeviceInfo {
  std::string name;                 // "NVIDIA H100 80GB HBM3", "SIMT emulator (2 workers)"
  int cc_major = 0, cc_minor = 0;   // compute capability
  int multiprocessors = 0;
  size_t memory_bytes = 0;
  int runtime_version = 0, driver_version = 0;  // CUDA's encoding: 1000 * major + 10 * minor
};

enum class CopyKind { kHostToDevice, kDeviceToHost, kDeviceToDevice };

}  // namespace medtex::gpu

MT_GPU_DECLARE(
  // Usable devices; 0 with the reason in *why (no driver, no device, a
  // driver older than the runtime, ...). Never throws.
  int device_count(std::string* why);
  // Selects device 0, creates its stream and fills *info. After a failure
  // the backend must not be used (CUDA's error state may be sticky).
  simt::Error open_device(DeviceInfo* info, void** stream);
  // nullptr on failure (out of memory); never throws.
  void* raw_malloc(size_t bytes);
  void raw_free(void* p);
  // Page-locked host memory for staging uploads; nullptr on failure.
  void* pinned_malloc(size_t bytes);
  void pinned_free(void* p);
  // Ordered on `stream` with the kernels; a copy to the host returns when the
  // bytes are there.
  simt::Error copy(void* dst, const void* src, size_t bytes, CopyKind kind, void* stream);
  simt::Error synchronize(void* stream);
  // The error of the last launch or asynchronous failure, if any (cleared).
  simt::Error last_error();
)
