// simt.h: one header that CUDA kernel source includes, for both builds.
//
//  * Compiled by nvcc (__CUDACC__): the real CUDA runtime, plus the few
//    portable spellings kernels and launchers use so that the same source
//    also compiles on the host: simt::launch (the only `<<<>>>` in the
//    project), simt::set_max_dynamic_shared, simt::synchronize,
//    SIMT_SHARED, SIMT_DYNAMIC_SHARED, SIMT_UNROLL and SIMT_NS.
//  * Compiled by the host compiler: the SIMT emulator (emulator.h,
//    device_api.h), which runs the same kernels on the CPU, one fiber per
//    CUDA thread, and reports barrier and warp-collective misuse.
//
// Writing a kernel for both: README.md in this folder.
#pragma once

#include "kernels/simt/error.h"

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#include <cstddef>
#include <string>
#include <utility>

#define SIMT_NS cuda_impl
#define SIMT_EMULATED 0

// Dynamic shared memory, declared the same way in both builds. 16-byte
// alignment so that float4 accesses are legal.
#define SIMT_DYNAMIC_SHARED(T, name)                                         \
  extern __shared__ __align__(16) unsigned char simt_dynamic_shared_bytes[]; \
  T* name = reinterpret_cast<T*>(simt_dynamic_shared_bytes)

// Static shared memory, declared the same way in both builds; the emulator
// poisons it at the start of every block (device_api.h). At least 16-byte
// aligned in both, so float4 accesses behave the same.
#define SIMT_SHARED(T, name, ...) __shared__ __align__(16) T name __VA_ARGS__

#define SIMT_UNROLL _Pragma("unroll")

namespace simt {
inline namespace SIMT_NS {

inline Error cuda_error(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return Error();
  return Error(static_cast<int>(status),
               std::string("simt: ") + what + ": " + cudaGetErrorString(status));
}

// Launches `kernel` and returns the launch's own error (configuration,
// missing driver); errors while the kernel runs surface at synchronize().
template <class... Params, class... Args>
Error launch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t dynamic_shared, void* stream,
             Args&&... args) {
  kernel<<<grid, block, dynamic_shared, static_cast<cudaStream_t>(stream)>>>(
      std::forward<Args>(args)...);
  return cuda_error(cudaGetLastError(), "launch");
}

template <class... Params>
Error set_max_dynamic_shared(void (*kernel)(Params...), size_t bytes) {
  return cuda_error(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         static_cast<int>(bytes)),
                    "cudaFuncSetAttribute(MaxDynamicSharedMemorySize)");
}

inline Error synchronize() {
  return cuda_error(cudaDeviceSynchronize(), "synchronize");
}

inline constexpr bool kEmulated = false;

}  // namespace SIMT_NS
}  // namespace simt

#else

#include "kernels/simt/emulator.h"

#endif
