// The raw device layer (device.h) for both backends: cudart calls under
// nvcc, host memory for the emulator, where "device" pointers are host
// pointers and kernels run before launch() returns.
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "kernels/runtime/device.h"
#include "kernels/simt/simt.h"

namespace medtex::gpu::SIMT_NS {

#if SIMT_EMULATED

int device_count(std::string* /*why*/) { return 1; }

simt::Error open_device(DeviceInfo* info, void** stream) {
  const unsigned workers = simt::config().workers != 0 ? simt::config().workers
                                                       : std::max(1u, std::thread::hardware_concurrency());
  info->name = "SIMT emulator (" + std::to_string(workers) + " workers)";
  info->cc_major = 9;  // the emulator checks sm_90's launch limits
  info->cc_minor = 0;
  info->multiprocessors = int(workers);
  info->memory_bytes = 0;  // host memory: no fixed size
  *stream = nullptr;
  return simt::Error();
}

void* raw_malloc(size_t bytes) {
  // cudaMalloc returns 256-byte aligned memory; so does this.
  return std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
}
void raw_free(void* p) { std::free(p); }
void* pinned_malloc(size_t bytes) { return raw_malloc(bytes); }
void pinned_free(void* p) { std::free(p); }

simt::Error copy(void* dst, const void* src, size_t bytes, CopyKind /*kind*/, void* /*stream*/) {
  if (bytes != 0 && dst != src) std::memmove(dst, src, bytes);
  return simt::Error();
}
simt::Error synchronize(void* /*stream*/) { return simt::Error(); }
simt::Error last_error() { return simt::Error(); }

#else  // nvcc: the CUDA runtime

int device_count(std::string* why) {
  // Without the driver library cudart says "CUDA driver version is
  // insufficient for CUDA runtime version"; say what is really missing.
  if (void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL)) {
    dlclose(driver);
  } else {
    if (why) *why = "no NVIDIA driver (libcuda.so.1 not found)";
    return 0;
  }
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    if (why) *why = cudaGetErrorString(status);
    cudaGetLastError();  // clear it where it is not sticky
    return 0;
  }
  if (count == 0 && why) *why = "no CUDA device";
  return count;
}

simt::Error open_device(DeviceInfo* info, void** stream) {
  if (auto e = simt::cuda_error(cudaSetDevice(0), "cudaSetDevice(0)"); !e.ok()) return e;
  cudaDeviceProp prop{};
  if (auto e = simt::cuda_error(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
      !e.ok())
    return e;
  info->name = prop.name;
  info->cc_major = prop.major;
  info->cc_minor = prop.minor;
  info->multiprocessors = prop.multiProcessorCount;
  info->memory_bytes = prop.totalGlobalMem;
  cudaRuntimeGetVersion(&info->runtime_version);
  cudaDriverGetVersion(&info->driver_version);
  cudaStream_t s = nullptr;
  if (auto e = simt::cuda_error(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking),
                                "cudaStreamCreate");
      !e.ok())
    return e;
  *stream = s;
  return simt::Error();
}

void* raw_malloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMalloc(&p, std::max<size_t>(bytes, 1)) != cudaSuccess) {
    cudaGetLastError();  // out of memory is not sticky: clear it
    return nullptr;
  }
  return p;
}
void raw_free(void* p) { cudaFree(p); }

void* pinned_malloc(size_t bytes) {
  void* p = nullptr;
  if (cudaMallocHost(&p, std::max<size_t>(bytes, 1)) != cudaSuccess) {
    cudaGetLastError();
    return nullptr;
  }
  return p;
}
void pinned_free(void* p) { cudaFreeHost(p); }

simt::Error copy(void* dst, const void* src, size_t bytes, CopyKind kind, void* stream) {
  if (bytes == 0) return simt::Error();
  const cudaMemcpyKind k = kind == CopyKind::kHostToDevice   ? cudaMemcpyHostToDevice
                           : kind == CopyKind::kDeviceToHost ? cudaMemcpyDeviceToHost
                                                             : cudaMemcpyDeviceToDevice;
  auto s = static_cast<cudaStream_t>(stream);
  if (auto e = simt::cuda_error(cudaMemcpyAsync(dst, src, bytes, k, s), "cudaMemcpyAsync"); !e.ok())
    return e;
  // The caller's host buffer must be usable (and the source reusable) on return.
  if (kind != CopyKind::kDeviceToDevice)
    return simt::cuda_error(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  return simt::Error();
}

simt::Error synchronize(void* stream) {
  return simt::cuda_error(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)),
                          "cudaStreamSynchronize");
}

simt::Error last_error() { return simt::cuda_error(cudaGetLastError(), "cudaGetLastError"); }

#endif

}  // namespace medtex::gpu::SIMT_NS
