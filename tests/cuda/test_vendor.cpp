// The vendor path (cuBLAS, cuDNN) against the handwritten kernels. On a GPU
// the same inputs go through both and must agree within rounding; under the
// emulator (no vendor libraries run there) choosing it is one clear error.
#include <string>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/batchnorm2d/batchnorm2d_cuda.h"
#include "kernels/conv2d/conv2d_cuda.h"
#include "kernels/gemm/gemm_cuda.h"
#include "kernels/vendor/vendor.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class Vendor : public test::GpuTest {
 protected:
  void TearDown() override {
    vendor::select(vendor::Kernels::kHandwritten);
    test::GpuTest::TearDown();
  }
};

TEST(VendorLibraries, StatusIsExplainedEitherWay) {
  // Loading never throws; either a file name or the reason.
  EXPECT_FALSE(vendor::cublas().detail.empty());
  EXPECT_FALSE(vendor::cudnn().detail.empty());
  EXPECT_EQ(vendor::selected(), vendor::Kernels::kHandwritten);
}

TEST(VendorLibraries, SelectingVendorWithoutAGpuIsOneClearError) {
  ASSERT_EQ(gpu::active(), gpu::Backend::kNone);
  try {
    vendor::select(vendor::Kernels::kVendor);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(m.find("needs a real GPU") != std::string::npos ||
                m.find("no CUDA") != std::string::npos)
        << m;
  }
  EXPECT_EQ(vendor::selected(), vendor::Kernels::kHandwritten);
}

TEST_P(Vendor, EmulatorRefusesTheVendorKernels) {
  if (!emulated()) GTEST_SKIP() << "a GPU is here: the comparisons below run instead";
  EXPECT_THROW(vendor::select(vendor::Kernels::kVendor), Error);
  const Tensor a = test::to_gpu(test::random_float({3, 4}, 1));
  Tensor c = Tensor::zeros({3, 3}, DType::F32, Device::cuda());
  try {
    MT_GPU(gemm)(false, true, 3, 3, 4, 1.f, a.data<float>(), 4, a.data<float>(), 4, 0.f,
                 c.data<float>(), 3, gpu::GemmVersion::kVendor);
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(m.find("need a real GPU") != std::string::npos ||
                m.find("no CUDA") != std::string::npos)
        << m;
  }
}

// ---- on a GPU: vendor vs handwritten ----------------------------------------

TEST_P(Vendor, SgemmMatchesOursInEveryTranspose) {
  if (emulated()) GTEST_SKIP() << "cuBLAS needs a real GPU";
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      const int64_t M = 70, N = 33, K = 129;
      const Tensor a = test::to_gpu(test::random_float(ta ? Shape{K, M} : Shape{M, K}, 1));
      const Tensor b = test::to_gpu(test::random_float(tb ? Shape{N, K} : Shape{K, N}, 2));
      Tensor ours = test::to_gpu(test::random_float({M, N}, 3)), theirs = ours.copy();
      const int64_t lda = ta ? M : K, ldb = tb ? K : N;
      MT_GPU(gemm)(ta, tb, M, N, K, 0.5f, a.data<float>(), lda, b.data<float>(), ldb, 0.25f,
                   ours.data<float>(), N, gpu::kGemmDefault);
      MT_GPU(gemm)(ta, tb, M, N, K, 0.5f, a.data<float>(), lda, b.data<float>(), ldb, 0.25f,
                   theirs.data<float>(), N, gpu::GemmVersion::kVendor);
      EXPECT_TRUE(test::all_close(theirs.to(Device::cpu()), ours.to(Device::cpu()), 1e-5 * K, 1e-5))
          << "ta=" << ta << " tb=" << tb;
    }
  }
}

TEST_P(Vendor, ConvolutionMatchesOursInEveryPass) {
  if (emulated()) GTEST_SKIP() << "cuDNN needs a real GPU";
  for (const auto& p : {cpu::Conv2dParams::make(2, 3, 11, 9, 5, 3, 3, 1, 1),
                        cpu::Conv2dParams::make(3, 4, 13, 13, 6, 7, 7, 2, 3),
                        cpu::Conv2dParams::make(1, 5, 8, 8, 4, 1, 1, 2, 0)}) {
    const Tensor x = test::to_gpu(test::random_float({p.N, p.C, p.H, p.W}, 1));
    const Tensor w = test::to_gpu(test::random_float({p.K, p.C, p.R, p.S}, 2));
    const Tensor b = test::to_gpu(test::random_float({p.K}, 3));
    const Tensor dy = test::to_gpu(test::random_float({p.N, p.K, p.OH, p.OW}, 4));
    auto run = [&](gpu::Conv2dVersion v) {
      Tensor y = Tensor::empty(dy.shape(), DType::F32, Device::cuda());
      Tensor dx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
      Tensor dw = Tensor::full(w.shape(), 0.5, DType::F32, Device::cuda());
      Tensor db = Tensor::full(b.shape(), -0.5, DType::F32, Device::cuda());
      MT_GPU(conv2d_forward)(p, x.data<float>(), w.data<float>(), b.data<float>(), y.data<float>(), v);
      MT_GPU(conv2d_backward_input)(p, dy.data<float>(), w.data<float>(), dx.data<float>(), v);
      MT_GPU(conv2d_backward_weight)(p, x.data<float>(), dy.data<float>(), dw.data<float>(),
                                     db.data<float>(), v);
      return std::vector<Tensor>{y.to(Device::cpu()), dx.to(Device::cpu()), dw.to(Device::cpu()),
                                 db.to(Device::cpu())};
    };
    const auto ours = run(gpu::kConv2dForwardDefault), theirs = run(gpu::Conv2dVersion::kVendor);
    const char* names[] = {"y", "dx", "dw", "db"};
    const double depth = double(p.N * p.OH * p.OW + p.C * p.R * p.S);
    for (size_t i = 0; i < 4; ++i)
      EXPECT_TRUE(test::all_close(theirs[i], ours[i], 1e-6 * depth, 1e-5)) << names[i];
  }
}

TEST_P(Vendor, BatchNormMatchesOurs) {
  if (emulated()) GTEST_SKIP() << "cuDNN needs a real GPU";
  const cpu::BatchNorm2dShape s{3, 5, 7 * 9};
  const Tensor x = test::to_gpu(test::random_float({3, 5, 7, 9}, 1, -2, 3));
  const Tensor wt = test::to_gpu(test::random_float({5}, 2, 0.5, 1.5));
  const Tensor bs = test::to_gpu(test::random_float({5}, 3));
  const Tensor dy = test::to_gpu(test::random_float({3, 5, 7, 9}, 4));
  auto run = [&](gpu::BatchNorm2dVersion v) {
    Tensor y = Tensor::empty(x.shape(), DType::F32, Device::cuda());
    Tensor mean = Tensor::empty({5}, DType::F32, Device::cuda()), inv = mean.copy();
    Tensor rm = Tensor::zeros({5}, DType::F32, Device::cuda());
    Tensor rv = Tensor::ones({5}, DType::F32, Device::cuda());
    MT_GPU(batchnorm2d_forward_train)(s, x.data<float>(), wt.data<float>(), bs.data<float>(), 0.1,
                                      1e-5, y.data<float>(), mean.data<float>(), inv.data<float>(),
                                      rm.data<float>(), rv.data<float>(), v);
    Tensor dx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
    Tensor dw = Tensor::zeros({5}, DType::F32, Device::cuda()), db = dw.copy();
    MT_GPU(batchnorm2d_backward)(s, true, x.data<float>(), dy.data<float>(), mean.data<float>(),
                                 inv.data<float>(), wt.data<float>(), dx.data<float>(),
                                 dw.data<float>(), db.data<float>(), v);
    Tensor ye = Tensor::empty(x.shape(), DType::F32, Device::cuda());
    MT_GPU(batchnorm2d_forward_eval)(s, x.data<float>(), wt.data<float>(), bs.data<float>(),
                                     rm.data<float>(), rv.data<float>(), 1e-5, ye.data<float>(),
                                     inv.data<float>(), v);
    std::vector<Tensor> out;
    for (const Tensor& t : {y, mean, rm, rv, dx, dw, db, ye, inv}) out.push_back(t.to(Device::cpu()));
    return out;
  };
  const auto ours = run(gpu::kBatchNorm2dDefault), theirs = run(gpu::BatchNorm2dVersion::kVendor);
  const char* names[] = {"y", "save_mean", "running_mean", "running_var", "dx", "dweight", "dbias",
                         "eval y", "eval invstd"};
  for (size_t i = 0; i < ours.size(); ++i)
    EXPECT_TRUE(test::all_close(theirs[i], ours[i], 1e-4, 1e-4)) << names[i];
}

TEST_P(Vendor, ChoosingVendorRoutesTheEngineOps) {
  if (emulated()) GTEST_SKIP() << "cuBLAS and cuDNN need a real GPU";
  const Tensor x = test::to_gpu(test::random_float({2, 3, 9, 9}, 1));
  const Tensor w = test::to_gpu(test::random_float({4, 3, 3, 3}, 2));
  const Tensor ours = ops::conv2d(x, w, Tensor(), 1, 1).to(Device::cpu());
  vendor::select(vendor::Kernels::kVendor);
  const Tensor theirs = ops::conv2d(x, w, Tensor(), 1, 1).to(Device::cpu());
  EXPECT_TRUE(test::all_close(theirs, ours, 1e-4, 1e-5));
}

MT_GPU_TEST_SUITE(Vendor);

}  // namespace
}  // namespace medtex
