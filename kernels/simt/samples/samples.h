// The sample kernels' host API, free of CUDA types: raw pointers, sizes, a
// `void* stream`, and simt::Error results. One Backend per build of
// samples_cuda.cu: the emulated one always exists; the CUDA one only in builds
// with nvcc. Tests and the benchmark take a Backend, so the same test body runs
// on both.
//
// Pointers are device pointers of the backend (host memory for the emulator):
// allocate them with the backend's own allocate().
#pragma once

#include <cstddef>

#include "kernels/simt/error.h"

namespace medtex::simt_samples {

struct Backend {
  const char* name;
  // Usable devices: 1 for the emulator; cudaGetDeviceCount's answer for CUDA,
  // 0 when it fails (no driver, no device).
  int (*device_count)();
  void* (*allocate)(size_t bytes);  // nullptr on failure
  void (*release)(void* p);
  simt::Error (*copy_to_device)(void* device, const void* host, size_t bytes);
  simt::Error (*copy_to_host)(void* host, const void* device, size_t bytes);
  simt::Error (*synchronize)();

  // a: [m, k], b: [k, n], c: [m, n], row-major; c = a b.
  simt::Error (*sgemm)(const float* a, const float* b, float* c, int m, int n, int k, void* stream);
  // x: [n]; *sum += sum(x).
  simt::Error (*reduce_sum)(const float* x, int n, float* sum, void* stream);
  // x, y: [rows, cols]; y = softmax(x) along each row.
  simt::Error (*softmax_rows)(const float* x, float* y, int rows, int cols, void* stream);
};

const Backend& emulated_backend();
// nullptr when this build has no nvcc.
const Backend* cuda_backend();

}  // namespace medtex::simt_samples
