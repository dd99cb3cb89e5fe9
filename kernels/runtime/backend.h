// The two builds of every CUDA launcher, and how the engine picks one.
//
// Every `kernels/<op>/<op>_cuda.cu` is compiled twice (kernels/CMakeLists.txt):
// by nvcc into namespace medtex::gpu::cuda_impl (real GPUs) and by the host
// compiler, against the SIMT emulator, into medtex::gpu::emu_impl. Both land
// in one library, so one binary can run a kernel on the GPU or emulate it on
// the CPU, chosen at run time by gpu::use() (kernels/runtime/gpu.h).
//
// A launcher's API is CUDA-free (raw device pointers, sizes, float32) and is
// declared once, for both builds, with MT_GPU_DECLARE:
//
//   MT_GPU_DECLARE(
//     void relu_forward(int64_t n, const float* x, float* y);
//   )
//
// and defined in the .cu inside `namespace medtex::gpu::SIMT_NS { ... }`
// (SIMT_NS is cuda_impl under nvcc, emu_impl otherwise). Callers go through
// MT_GPU(name), which yields the active build's function (a template's
// arguments may follow the name: MT_GPU(convert<float, int32_t>)):
//
//   MT_GPU(relu_forward)(n, x, y);
//
// Launchers throw medtex::Error on any failed launch or runtime call, naming
// the op and its shapes (gpu::check).
#pragma once

// MEDTEX_HAVE_CUDA (0 or 1) comes from CMake: 1 when nvcc built cuda_impl.
#ifndef MEDTEX_HAVE_CUDA
#error "MEDTEX_HAVE_CUDA must be defined (link medtex_kernels_gpu)"
#endif

namespace medtex::gpu {

// What tensors on Device::CUDA run on.
enum class Backend {
  kNone,      // no backend selected: allocating on cuda fails with a clear error
  kCuda,      // a real GPU, kernels built by nvcc
  kEmulated,  // the same kernel source on the CPU under the SIMT emulator
};

const char* backend_name(Backend b);  // "none", "cuda", "emulated"

// The active backend (gpu.cpp). Cheap: one relaxed atomic load.
Backend active();

}  // namespace medtex::gpu

#define MT_GPU_DECLARE(...)      \
  namespace medtex::gpu {        \
  namespace cuda_impl {          \
  __VA_ARGS__                    \
  } /* namespace cuda_impl */    \
  namespace emu_impl {           \
  __VA_ARGS__                    \
  } /* namespace emu_impl */     \
  } /* namespace medtex::gpu */

#if MEDTEX_HAVE_CUDA
#define MT_GPU(...)                                            \
  (::medtex::gpu::active() == ::medtex::gpu::Backend::kEmulated \
       ? &::medtex::gpu::emu_impl::__VA_ARGS__                 \
       : &::medtex::gpu::cuda_impl::__VA_ARGS__)
#else
#define MT_GPU(...) (&::medtex::gpu::emu_impl::__VA_ARGS__)
#endif
