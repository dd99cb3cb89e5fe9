// Host launchers of the sample kernels. This one file is compiled by nvcc
// (the CUDA backend) and by the host compiler through samples_emu.cpp (the
// emulated backend); SIMT_NS keeps the two sets of symbols apart.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels/simt/samples/samples.h"
#include "kernels/simt/samples/samples_cuda.cuh"

namespace medtex::simt_samples {
inline namespace SIMT_NS {
namespace {

constexpr int kTile = 32;  // 32 x 32 = 1024 threads, the most a block may have
constexpr int kReduceBlock = 256;
constexpr int kReduceMaxBlocks = 64;  // enough to fill a GPU; the grid-stride loop does the rest
constexpr int kSoftmaxBlock = 128;

// The allocator, copies and synchronisation differ between a device and the
// host; the launchers below do not.
#if SIMT_EMULATED
int device_count() {
  return 1;
}
void* allocate(size_t bytes) {
  // cudaMalloc returns 256-byte aligned memory; so does this.
  return std::aligned_alloc(256, (std::max<size_t>(bytes, 1) + 255) / 256 * 256);
}
void release(void* p) {
  std::free(p);
}
simt::Error copy_to_device(void* device, const void* host, size_t bytes) {
  if (bytes != 0) std::memcpy(device, host, bytes);  // an empty vector's data() may be null
  return simt::Error();
}
simt::Error copy_to_host(void* host, const void* device, size_t bytes) {
  if (bytes != 0) std::memcpy(host, device, bytes);
  return simt::Error();
}
#else
int device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;
}
void* allocate(size_t bytes) {
  void* p = nullptr;
  return cudaMalloc(&p, bytes) == cudaSuccess ? p : nullptr;
}
void release(void* p) {
  cudaFree(p);
}
simt::Error copy_to_device(void* device, const void* host, size_t bytes) {
  return simt::cuda_error(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
}
simt::Error copy_to_host(void* host, const void* device, size_t bytes) {
  return simt::cuda_error(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy");
}
#endif

simt::Error synchronize() {
  return simt::synchronize();
}

}  // namespace

simt::Error sgemm(const float* a, const float* b, float* c, int m, int n, int k, void* stream) {
  if (m <= 0 || n <= 0) return simt::Error();  // an empty c: nothing to launch
  const dim3 grid((n + kTile - 1) / kTile, (m + kTile - 1) / kTile);
  return simt::launch(kernels::sgemm_tiled<kTile>, grid, dim3(kTile, kTile), 0, stream, a, b, c, m,
                      n, k);
}

simt::Error reduce_sum(const float* x, int n, float* sum, void* stream) {
  if (n <= 0) return simt::Error();
  const int blocks = std::min(kReduceMaxBlocks, (n + kReduceBlock - 1) / kReduceBlock);
  return simt::launch(kernels::reduce_sum<kReduceBlock>, dim3(blocks), dim3(kReduceBlock), 0,
                      stream, x, n, sum);
}

simt::Error softmax_rows(const float* x, float* y, int rows, int cols, void* stream) {
  if (rows <= 0 || cols <= 0) return simt::Error();
  constexpr size_t kSharedBytes = kSoftmaxBlock / 32 * sizeof(float);
  return simt::launch(kernels::softmax_rows<kSoftmaxBlock>, dim3(rows), dim3(kSoftmaxBlock),
                      kSharedBytes, stream, x, y, cols);
}

}  // namespace SIMT_NS

#if SIMT_EMULATED
const Backend& emulated_backend() {
  static const Backend backend{"emulated",      &device_count, &allocate,    &release,
                               &copy_to_device, &copy_to_host, &synchronize, &sgemm,
                               &reduce_sum,     &softmax_rows};
  return backend;
}
#else
const Backend* cuda_backend() {
  static const Backend backend{"cuda",          &device_count, &allocate,    &release,
                               &copy_to_device, &copy_to_host, &synchronize, &sgemm,
                               &reduce_sum,     &softmax_rows};
  return &backend;
}
#endif

}  // namespace medtex::simt_samples
