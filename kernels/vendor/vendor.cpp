#include "kernels/vendor/vendor.h"

#include <atomic>
#include <cmath>
#include <mutex>
#include <vector>

#include "kernels/common/error.h"
#include "kernels/runtime/gpu.h"
#include "kernels/runtime/scratch.h"

// Types and prototypes only: nothing is linked, every function comes from
// dlsym. cuDNN is a separate download from the toolkit: without its headers
// the cuDNN half reports itself missing and the rest still builds.
#if MEDTEX_HAVE_CUDA
#include <dlfcn.h>

#include <cublas_v2.h>
#if __has_include(<cudnn.h>)
#include <cudnn.h>
#define MEDTEX_VENDOR_CUDNN 1
#endif
#endif
#ifndef MEDTEX_VENDOR_CUDNN
#define MEDTEX_VENDOR_CUDNN 0
#endif

namespace medtex::vendor {

namespace {
std::atomic<Kernels> g_selected{Kernels::kHandwritten};
}

const char* kernels_name(Kernels k) { return k == Kernels::kVendor ? "vendor" : "handwritten"; }
Kernels selected() { return g_selected.load(std::memory_order_relaxed); }

#if MEDTEX_HAVE_CUDA
namespace {

void* open_first(std::initializer_list<const char*> names, std::string* detail) {
  std::string tried;
  for (const char* name : names) {
    if (void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL)) {
      *detail = name;
      return h;
    }
    tried += (tried.empty() ? "" : ", ") + std::string(name);
  }
  const char* err = dlerror();
  *detail = "none of " + tried + " could be loaded" + (err ? std::string(" (") + err + ")" : "");
  return nullptr;
}

template <class F>
bool bind(void* lib, const char* name, F* fn, std::string* detail) {
  *fn = reinterpret_cast<F>(dlsym(lib, name));
  if (*fn == nullptr) *detail = std::string("missing symbol ") + name;
  return *fn != nullptr;
}

struct Cublas {
  Library lib;
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  decltype(&cublasGetVersion_v2) version = nullptr;
  cublasHandle_t handle = nullptr;
};

Cublas& cublas_lib() {
  static Cublas c = [] {
    Cublas b;
    void* h = open_first({"libcublas.so.13", "libcublas.so.12", "libcublas.so"}, &b.lib.detail);
    if (h == nullptr) return b;
    const std::string file = b.lib.detail;
    if (bind(h, "cublasCreate_v2", &b.create, &b.lib.detail) &&
        bind(h, "cublasSetStream_v2", &b.set_stream, &b.lib.detail) &&
        bind(h, "cublasSgemm_v2", &b.sgemm, &b.lib.detail) &&
        bind(h, "cublasGetVersion_v2", &b.version, &b.lib.detail)) {
      b.lib.loaded = true;
      b.lib.detail = file;
    }
    return b;
  }();
  return c;
}

std::mutex g_mutex;

void check_blas(cublasStatus_t s, const char* what) {
  MT_CHECK(s == CUBLAS_STATUS_SUCCESS, "cuBLAS ", what, ": status ", int(s));
}
// Handles, created on first use on the active (real) GPU and bound to its stream.
Cublas& blas() {
  MT_CHECK(gpu::active() == gpu::Backend::kCuda,
           "vendor kernels (cuBLAS) need a real GPU, not the emulator");
  Cublas& b = cublas_lib();
  MT_CHECK(b.lib.loaded, "vendor kernels: cuBLAS unavailable: ", b.lib.detail);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (b.handle == nullptr) {
    check_blas(b.create(&b.handle), "cublasCreate");
    check_blas(b.set_stream(b.handle, static_cast<cudaStream_t>(gpu::stream())), "cublasSetStream");
  }
  return b;
}

}  // namespace

const Library& cublas() { return cublas_lib().lib; }
void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
           int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  Cublas& b = blas();
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: the same
  // buffers, operands swapped.
  check_blas(b.sgemm(b.handle, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                     int(N), int(M), int(K), &alpha, B, int(ldb), A, int(lda), &beta, C, int(ldc)),
             "sgemm");
}

#else  // !MEDTEX_HAVE_CUDA

const Library& cublas() {
  static const Library lib{false, "this build has no CUDA"};
  return lib;
}

namespace {
[[noreturn]] void unavailable(const char* what) { fail("vendor ", what, ": this build has no CUDA"); }
}  // namespace
void sgemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*,
           int64_t, float, float*, int64_t) {
  unavailable("sgemm");
}
#endif  // MEDTEX_HAVE_CUDA

#if MEDTEX_VENDOR_CUDNN

namespace {

std::mutex g_dnn_mutex;

struct Cudnn {
  Library lib;
  decltype(&cudnnCreate) create = nullptr;
  decltype(&cudnnSetStream) set_stream = nullptr;
  decltype(&cudnnGetErrorString) error_string = nullptr;
  decltype(&cudnnGetVersion) version = nullptr;
  decltype(&cudnnCreateTensorDescriptor) create_tensor = nullptr;
  decltype(&cudnnSetTensor4dDescriptor) set_tensor = nullptr;
  decltype(&cudnnDestroyTensorDescriptor) destroy_tensor = nullptr;
  decltype(&cudnnCreateFilterDescriptor) create_filter = nullptr;
  decltype(&cudnnSetFilter4dDescriptor) set_filter = nullptr;
  decltype(&cudnnDestroyFilterDescriptor) destroy_filter = nullptr;
  decltype(&cudnnCreateConvolutionDescriptor) create_conv = nullptr;
  decltype(&cudnnSetConvolution2dDescriptor) set_conv = nullptr;
  decltype(&cudnnSetConvolutionMathType) set_math = nullptr;
  decltype(&cudnnDestroyConvolutionDescriptor) destroy_conv = nullptr;
  decltype(&cudnnGetConvolutionForwardAlgorithm_v7) fwd_algo = nullptr;
  decltype(&cudnnGetConvolutionForwardWorkspaceSize) fwd_ws = nullptr;
  decltype(&cudnnConvolutionForward) fwd = nullptr;
  decltype(&cudnnGetConvolutionBackwardDataAlgorithm_v7) bwd_data_algo = nullptr;
  decltype(&cudnnGetConvolutionBackwardDataWorkspaceSize) bwd_data_ws = nullptr;
  decltype(&cudnnConvolutionBackwardData) bwd_data = nullptr;
  decltype(&cudnnGetConvolutionBackwardFilterAlgorithm_v7) bwd_filter_algo = nullptr;
  decltype(&cudnnGetConvolutionBackwardFilterWorkspaceSize) bwd_filter_ws = nullptr;
  decltype(&cudnnConvolutionBackwardFilter) bwd_filter = nullptr;
  decltype(&cudnnConvolutionBackwardBias) bwd_bias = nullptr;
  decltype(&cudnnAddTensor) add_tensor = nullptr;
  decltype(&cudnnBatchNormalizationForwardTraining) bn_train = nullptr;
  decltype(&cudnnBatchNormalizationForwardInference) bn_eval = nullptr;
  decltype(&cudnnBatchNormalizationBackward) bn_backward = nullptr;
  cudnnHandle_t handle = nullptr;
};

Cudnn& cudnn_lib() {
  static Cudnn c = [] {
    Cudnn d;
    void* h = open_first({"libcudnn.so.9", "libcudnn.so"}, &d.lib.detail);
    if (h == nullptr) return d;
    const std::string file = d.lib.detail;
    std::string* e = &d.lib.detail;
    const bool ok =
        bind(h, "cudnnCreate", &d.create, e) && bind(h, "cudnnSetStream", &d.set_stream, e) &&
        bind(h, "cudnnGetErrorString", &d.error_string, e) &&
        bind(h, "cudnnGetVersion", &d.version, e) &&
        bind(h, "cudnnCreateTensorDescriptor", &d.create_tensor, e) &&
        bind(h, "cudnnSetTensor4dDescriptor", &d.set_tensor, e) &&
        bind(h, "cudnnDestroyTensorDescriptor", &d.destroy_tensor, e) &&
        bind(h, "cudnnCreateFilterDescriptor", &d.create_filter, e) &&
        bind(h, "cudnnSetFilter4dDescriptor", &d.set_filter, e) &&
        bind(h, "cudnnDestroyFilterDescriptor", &d.destroy_filter, e) &&
        bind(h, "cudnnCreateConvolutionDescriptor", &d.create_conv, e) &&
        bind(h, "cudnnSetConvolution2dDescriptor", &d.set_conv, e) &&
        bind(h, "cudnnSetConvolutionMathType", &d.set_math, e) &&
        bind(h, "cudnnDestroyConvolutionDescriptor", &d.destroy_conv, e) &&
        bind(h, "cudnnGetConvolutionForwardAlgorithm_v7", &d.fwd_algo, e) &&
        bind(h, "cudnnGetConvolutionForwardWorkspaceSize", &d.fwd_ws, e) &&
        bind(h, "cudnnConvolutionForward", &d.fwd, e) &&
        bind(h, "cudnnGetConvolutionBackwardDataAlgorithm_v7", &d.bwd_data_algo, e) &&
        bind(h, "cudnnGetConvolutionBackwardDataWorkspaceSize", &d.bwd_data_ws, e) &&
        bind(h, "cudnnConvolutionBackwardData", &d.bwd_data, e) &&
        bind(h, "cudnnGetConvolutionBackwardFilterAlgorithm_v7", &d.bwd_filter_algo, e) &&
        bind(h, "cudnnGetConvolutionBackwardFilterWorkspaceSize", &d.bwd_filter_ws, e) &&
        bind(h, "cudnnConvolutionBackwardFilter", &d.bwd_filter, e) &&
        bind(h, "cudnnConvolutionBackwardBias", &d.bwd_bias, e) &&
        bind(h, "cudnnAddTensor", &d.add_tensor, e) &&
        bind(h, "cudnnBatchNormalizationForwardTraining", &d.bn_train, e) &&
        bind(h, "cudnnBatchNormalizationForwardInference", &d.bn_eval, e) &&
        bind(h, "cudnnBatchNormalizationBackward", &d.bn_backward, e);
    if (ok) {
      d.lib.loaded = true;
      d.lib.detail = file + " (cuDNN " + std::to_string(d.version()) + ")";
    }
    return d;
  }();
  return c;
}

void check_dnn(cudnnStatus_t s, const char* what) {
  MT_CHECK(s == CUDNN_STATUS_SUCCESS, "cuDNN ", what, ": ", cudnn_lib().error_string(s));
}

Cudnn& dnn() {
  MT_CHECK(gpu::active() == gpu::Backend::kCuda,
           "vendor kernels (cuDNN) need a real GPU, not the emulator");
  Cudnn& d = cudnn_lib();
  MT_CHECK(d.lib.loaded, "vendor kernels: cuDNN unavailable: ", d.lib.detail);
  std::lock_guard<std::mutex> lock(g_dnn_mutex);
  if (d.handle == nullptr) {
    check_dnn(d.create(&d.handle), "cudnnCreate");
    check_dnn(d.set_stream(d.handle, static_cast<cudaStream_t>(gpu::stream())), "cudnnSetStream");
  }
  return d;
}

// RAII descriptors for one conv call.
struct ConvDescs {
  Cudnn& d;
  cudnnTensorDescriptor_t x = nullptr, y = nullptr, bias = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  ConvDescs(Cudnn& lib, const cpu::Conv2dParams& p) : d(lib) {
    check_dnn(d.create_tensor(&x), "create tensor");
    check_dnn(d.create_tensor(&y), "create tensor");
    check_dnn(d.create_tensor(&bias), "create tensor");
    check_dnn(d.create_filter(&w), "create filter");
    check_dnn(d.create_conv(&conv), "create convolution");
    check_dnn(d.set_tensor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(p.N), int(p.C), int(p.H), int(p.W)),
              "x descriptor");
    check_dnn(d.set_tensor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(p.N), int(p.K), int(p.OH), int(p.OW)),
              "y descriptor");
    check_dnn(d.set_tensor(bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, int(p.K), 1, 1), "bias descriptor");
    check_dnn(d.set_filter(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, int(p.K), int(p.C), int(p.R), int(p.S)),
              "w descriptor");
    // Cross-correlation, as PyTorch and our kernels; FP32 FMA math: no TF32.
    check_dnn(d.set_conv(conv, int(p.padding), int(p.padding), int(p.stride), int(p.stride), 1, 1,
                         CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
              "convolution descriptor");
    check_dnn(d.set_math(conv, CUDNN_FMA_MATH), "math type");
  }
  ~ConvDescs() {
    d.destroy_tensor(x), d.destroy_tensor(y), d.destroy_tensor(bias);
    d.destroy_filter(w);
    d.destroy_conv(conv);
  }
  ConvDescs(const ConvDescs&) = delete;
  ConvDescs& operator=(const ConvDescs&) = delete;
};


struct BnDescs {
  Cudnn& d;
  cudnnTensorDescriptor_t x = nullptr, stats = nullptr;
  BnDescs(Cudnn& lib, const cpu::BatchNorm2dShape& s) : d(lib) {
    check_dnn(d.create_tensor(&x), "create tensor");
    check_dnn(d.create_tensor(&stats), "create tensor");
    // H * W as one dim: the spatial layout does not matter to batch norm.
    check_dnn(d.set_tensor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, int(s.n), int(s.c), int(s.hw), 1),
              "x descriptor");
    check_dnn(d.set_tensor(stats, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, int(s.c), 1, 1),
              "statistics descriptor");
  }
  ~BnDescs() { d.destroy_tensor(x), d.destroy_tensor(stats); }
  BnDescs(const BnDescs&) = delete;
  BnDescs& operator=(const BnDescs&) = delete;
};

}  // namespace

const Library& cudnn() { return cudnn_lib().lib; }

void conv2d_forward(const cpu::Conv2dParams& p, const float* x, const float* w, const float* b,
                    float* y) {
  Cudnn& d = dnn();
  ConvDescs desc(d, p);
  int found = 0;
  cudnnConvolutionFwdAlgoPerf_t perf{};
  check_dnn(d.fwd_algo(d.handle, desc.x, desc.w, desc.conv, desc.y, 1, &found, &perf), "forward algorithm");
  size_t ws_bytes = 0;
  check_dnn(d.fwd_ws(d.handle, desc.x, desc.w, desc.conv, desc.y, perf.algo, &ws_bytes), "forward workspace");
  const gpu::DeviceScratch<char> ws(int64_t(ws_bytes), "a cuDNN workspace");
  const float one = 1.f, zero = 0.f;
  check_dnn(d.fwd(d.handle, &one, desc.x, x, desc.w, w, desc.conv, perf.algo, ws.get(), ws_bytes,
                  &zero, desc.y, y),
            "convolution forward");
  if (b != nullptr) check_dnn(d.add_tensor(d.handle, &one, desc.bias, b, &one, desc.y, y), "bias");
}

void conv2d_backward_input(const cpu::Conv2dParams& p, const float* dy, const float* w, float* dx) {
  Cudnn& d = dnn();
  ConvDescs desc(d, p);
  int found = 0;
  cudnnConvolutionBwdDataAlgoPerf_t perf{};
  check_dnn(d.bwd_data_algo(d.handle, desc.w, desc.y, desc.conv, desc.x, 1, &found, &perf),
            "backward-data algorithm");
  size_t ws_bytes = 0;
  check_dnn(d.bwd_data_ws(d.handle, desc.w, desc.y, desc.conv, desc.x, perf.algo, &ws_bytes),
            "backward-data workspace");
  const gpu::DeviceScratch<char> ws(int64_t(ws_bytes), "a cuDNN workspace");
  const float one = 1.f, zero = 0.f;
  check_dnn(d.bwd_data(d.handle, &one, desc.w, w, desc.y, dy, desc.conv, perf.algo, ws.get(), ws_bytes,
                       &zero, desc.x, dx),
            "convolution backward data");
}

void conv2d_backward_weight(const cpu::Conv2dParams& p, const float* x, const float* dy, float* dw,
                            float* db) {
  Cudnn& d = dnn();
  ConvDescs desc(d, p);
  const float one = 1.f;  // beta = 1: parameter gradients accumulate
  if (dw != nullptr) {
    int found = 0;
    cudnnConvolutionBwdFilterAlgoPerf_t perf{};
    check_dnn(d.bwd_filter_algo(d.handle, desc.x, desc.y, desc.conv, desc.w, 1, &found, &perf),
              "backward-filter algorithm");
    size_t ws_bytes = 0;
    check_dnn(d.bwd_filter_ws(d.handle, desc.x, desc.y, desc.conv, desc.w, perf.algo, &ws_bytes),
              "backward-filter workspace");
    const gpu::DeviceScratch<char> ws(int64_t(ws_bytes), "a cuDNN workspace");
    check_dnn(d.bwd_filter(d.handle, &one, desc.x, x, desc.y, dy, desc.conv, perf.algo, ws.get(),
                           ws_bytes, &one, desc.w, dw),
              "convolution backward filter");
  }
  if (db != nullptr)
    check_dnn(d.bwd_bias(d.handle, &one, desc.y, dy, &one, desc.bias, db), "convolution backward bias");
}

void batchnorm2d_forward_train(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                               const float* bias, double momentum, double eps, float* y,
                               float* save_mean, float* save_invstd, float* running_mean,
                               float* running_var) {
  Cudnn& d = dnn();
  BnDescs desc(d, s);
  const float one = 1.f, zero = 0.f;
  // cuDNN's running variance is the unbiased one, as ours and PyTorch's.
  check_dnn(d.bn_train(d.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, desc.x, x, desc.x, y,
                       desc.stats, weight, bias, momentum, running_mean, running_var, eps, save_mean,
                       save_invstd),
            "batch norm forward training");
}

void batchnorm2d_forward_eval(const cpu::BatchNorm2dShape& s, const float* x, const float* weight,
                              const float* bias, const float* running_mean,
                              const float* running_var, double eps, float* y, float* save_invstd) {
  Cudnn& d = dnn();
  BnDescs desc(d, s);
  const float one = 1.f, zero = 0.f;
  check_dnn(d.bn_eval(d.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, desc.x, x, desc.x, y,
                      desc.stats, weight, bias, running_mean, running_var, eps),
            "batch norm forward inference");
  std::vector<float> var(size_t(s.c)), inv(size_t(s.c));
  gpu::copy_to_host(var.data(), running_var, var.size() * sizeof(float), "vendor batch norm");
  for (size_t i = 0; i < var.size(); ++i) inv[i] = float(1.0 / std::sqrt(double(var[i]) + eps));
  gpu::copy_to_device(save_invstd, inv.data(), inv.size() * sizeof(float), "vendor batch norm");
}

void batchnorm2d_backward_batch_stats(const cpu::BatchNorm2dShape& s, const float* x,
                                      const float* dy, const float* mean, const float* invstd,
                                      const float* weight, double eps, float* dx, float* dweight,
                                      float* dbias) {
  Cudnn& d = dnn();
  BnDescs desc(d, s);
  const float one = 1.f, zero = 0.f;
  check_dnn(d.bn_backward(d.handle, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &one, desc.x, x,
                          desc.x, dy, desc.x, dx, desc.stats, weight, dweight, dbias, eps, mean, invstd),
            "batch norm backward");
}

#else  // !MEDTEX_VENDOR_CUDNN

const Library& cudnn() {
  static const Library lib{false, MEDTEX_HAVE_CUDA ? "cuDNN headers were not found when medtex was built"
                                                   : "this build has no CUDA"};
  return lib;
}

namespace {
[[noreturn]] void cudnn_unavailable(const char* what) { fail("vendor ", what, ": ", cudnn().detail); }
}  // namespace
void conv2d_forward(const cpu::Conv2dParams&, const float*, const float*, const float*, float*) {
  cudnn_unavailable("conv2d_forward");
}
void conv2d_backward_input(const cpu::Conv2dParams&, const float*, const float*, float*) {
  cudnn_unavailable("conv2d_backward_input");
}
void conv2d_backward_weight(const cpu::Conv2dParams&, const float*, const float*, float*, float*) {
  cudnn_unavailable("conv2d_backward_weight");
}
void batchnorm2d_forward_train(const cpu::BatchNorm2dShape&, const float*, const float*,
                               const float*, double, double, float*, float*, float*, float*,
                               float*) {
  cudnn_unavailable("batchnorm2d_forward_train");
}
void batchnorm2d_forward_eval(const cpu::BatchNorm2dShape&, const float*, const float*,
                              const float*, const float*, const float*, double, float*, float*) {
  cudnn_unavailable("batchnorm2d_forward_eval");
}
void batchnorm2d_backward_batch_stats(const cpu::BatchNorm2dShape&, const float*, const float*,
                                      const float*, const float*, const float*, double, float*,
                                      float*, float*) {
  cudnn_unavailable("batchnorm2d_backward");
}

#endif  // MEDTEX_VENDOR_CUDNN

void select(Kernels k) {
  if (k == Kernels::kVendor) {
    MT_CHECK(gpu::active() == gpu::Backend::kCuda,
             "--kernels vendor needs a real GPU (cuBLAS and cuDNN do not run under the emulator)");
    MT_CHECK(cublas().loaded, "--kernels vendor: cuBLAS unavailable: ", cublas().detail);
    MT_CHECK(cudnn().loaded, "--kernels vendor: cuDNN unavailable: ", cudnn().detail);
  }
  g_selected = k;
}

}  // namespace medtex::vendor
