// The sample kernels (kernels/simt/samples) against plain double-precision
// loops, on every backend this binary has: the emulator under in-order,
// reverse and three random schedules, and CUDA, which is skipped (not passed)
// without nvcc or without a device. Linking both builds of samples_cuda.cu
// into this one binary is itself the check that their symbols do not clash.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kernels/simt/samples/samples.h"
#include "kernels/simt/simt.h"

namespace {

using medtex::simt_samples::Backend;

struct Case {
  const char* name;
  bool cuda;
  simt::Schedule schedule;
  uint64_t seed;
};

// Names the case in test listings (CTest's test names come from here).
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

const Case kCases[] = {
    {"emu_inorder", false, simt::Schedule::kInOrder, 1},
    {"emu_reverse", false, simt::Schedule::kReverse, 1},
    {"emu_random1", false, simt::Schedule::kRandom, 1},
    {"emu_random2", false, simt::Schedule::kRandom, 2},
    {"emu_random3", false, simt::Schedule::kRandom, 3},
    {"cuda", true, simt::Schedule::kRandom, 1},
};

// Device memory of one backend, freed at the end of the scope.
class DeviceBuffer {
 public:
  DeviceBuffer(const Backend& backend, size_t bytes)
      : backend_(backend), p_(backend.allocate(bytes)), bytes_(bytes) {}
  ~DeviceBuffer() { backend_.release(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T>
  T* as() const {
    return static_cast<T*>(p_);
  }
  template <class T>
  void upload(const std::vector<T>& host) const {
    const simt::Error e = backend_.copy_to_device(p_, host.data(), host.size() * sizeof(T));
    ASSERT_TRUE(e.ok()) << e.message();
  }
  template <class T>
  std::vector<T> download(size_t count) const {
    std::vector<T> host(count);
    const simt::Error e = backend_.copy_to_host(host.data(), p_, count * sizeof(T));
    EXPECT_TRUE(e.ok()) << e.message();
    return host;
  }

 private:
  const Backend& backend_;
  void* p_;
  size_t bytes_;
};

std::vector<float> random_floats(size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

class SampleKernels : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    const Case& c = GetParam();
    if (c.cuda) {
      backend_ = medtex::simt_samples::cuda_backend();
      if (backend_ == nullptr) GTEST_SKIP() << "built without nvcc: no CUDA backend";
      if (backend_->device_count() == 0) GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount)";
    } else {
      backend_ = &medtex::simt_samples::emulated_backend();
      simt::Config config;
      config.schedule = c.schedule;
      config.seed = c.seed;
      config_.emplace(config);
    }
  }

  void check_ok(const simt::Error& e) {
    ASSERT_TRUE(e.ok()) << e.message();
    const simt::Error s = backend_->synchronize();
    ASSERT_TRUE(s.ok()) << s.message();
  }

  const Backend* backend_ = nullptr;
  std::optional<simt::ScopedConfig> config_;
};

void expect_sgemm(const Backend& backend, int m, int n, int k) {
  const auto a = random_floats(size_t(m) * k, -1.0f, 1.0f, 11u + m);
  const auto b = random_floats(size_t(k) * n, -1.0f, 1.0f, 17u + n);
  std::vector<double> ref(size_t(m) * n, 0.0), magnitude(size_t(m) * n, 0.0);
  for (int i = 0; i < m; ++i) {
    for (int p = 0; p < k; ++p) {
      for (int j = 0; j < n; ++j) {
        const double t = double(a[size_t(i) * k + p]) * b[size_t(p) * n + j];
        ref[size_t(i) * n + j] += t;
        magnitude[size_t(i) * n + j] += std::fabs(t);
      }
    }
  }
  DeviceBuffer da(backend, a.size() * 4), db(backend, b.size() * 4), dc(backend, ref.size() * 4);
  da.upload(a);
  db.upload(b);
  dc.upload(std::vector<float>(ref.size(), NAN));  // every element must be written
  const simt::Error e =
      backend.sgemm(da.as<float>(), db.as<float>(), dc.as<float>(), m, n, k, nullptr);
  ASSERT_TRUE(e.ok()) << e.message();
  ASSERT_TRUE(backend.synchronize().ok());
  const auto c = dc.download<float>(ref.size());
  int bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    // A float dot product of length k is within k * eps * sum|a b| of the
    // exact one (recursive summation bound, with a factor 2 to spare).
    const double tol = k * double(FLT_EPSILON) * magnitude[i] + 1e-30;
    if (!(std::fabs(c[i] - ref[i]) <= tol) && ++bad <= 5) {
      ADD_FAILURE() << "sgemm " << m << "x" << n << "x" << k << " c[" << i / n << "," << i % n
                    << "] = " << c[i] << ", expected " << ref[i] << " (tolerance " << tol << ")";
    }
  }
  EXPECT_EQ(bad, 0) << "sgemm " << m << "x" << n << "x" << k << ": " << bad << " wrong elements";
}

TEST_P(SampleKernels, SgemmMatchesLoops) {
  // Sizes not multiples of the 32 tile, and K both below and above it.
  const int sizes[][3] = {{1, 1, 1},    {32, 32, 32},  {33, 17, 45}, {129, 65, 70},
                          {64, 96, 31}, {7, 130, 100}, {50, 3, 0},   {256, 256, 256}};
  for (const auto& s : sizes) expect_sgemm(*backend_, s[0], s[1], s[2]);
}

TEST_P(SampleKernels, ReduceSumMatchesLoops) {
  for (int n : {1, 31, 256, 1000, 12345, 1 << 20}) {
    const auto x = random_floats(size_t(n), -1.0f, 1.0f, 5u + n);
    double ref = 0.0, magnitude = 0.0;
    for (float v : x) {
      ref += v;
      magnitude += std::fabs(v);
    }
    DeviceBuffer dx(*backend_, x.size() * 4), dsum(*backend_, 4);
    dx.upload(x);
    dsum.upload(std::vector<float>{0.5f});  // accumulates into the existing value
    check_ok(backend_->reduce_sum(dx.as<float>(), n, dsum.as<float>(), nullptr));
    const float sum = dsum.download<float>(1)[0];
    // Each value passes through at most n / 16384 + 1 sequential adds in its
    // thread, 10 shuffle levels and 64 atomic adds: that many roundings.
    const double tol = (n / 16384.0 + 1 + 10 + 64) * FLT_EPSILON * (magnitude + 0.5);
    EXPECT_NEAR(sum, ref + 0.5, tol) << "reduce_sum n=" << n;
  }
}

TEST_P(SampleKernels, SoftmaxRowsMatchesLoops) {
  // 37 and 4097 columns take the scalar path, the others float4 loads; 2 x 4097
  // also puts the second row off 16-byte alignment.
  const int sizes[][2] = {{1, 1}, {3, 37}, {7, 1000}, {5, 4096}, {2, 4097}, {64, 128}, {4, 130}};
  for (const auto& s : sizes) {
    const int rows = s[0], cols = s[1];
    const auto x = random_floats(size_t(rows) * cols, -8.0f, 8.0f, 3u + cols);
    std::vector<double> ref(x.size());
    for (int r = 0; r < rows; ++r) {
      const float* xr = &x[size_t(r) * cols];
      double mx = -INFINITY, sum = 0.0;
      for (int c = 0; c < cols; ++c) mx = std::max(mx, double(xr[c]));
      for (int c = 0; c < cols; ++c) sum += std::exp(xr[c] - mx);
      for (int c = 0; c < cols; ++c) ref[size_t(r) * cols + c] = std::exp(xr[c] - mx) / sum;
    }
    DeviceBuffer dx(*backend_, x.size() * 4), dy(*backend_, x.size() * 4);
    dx.upload(x);
    check_ok(backend_->softmax_rows(dx.as<float>(), dy.as<float>(), rows, cols, nullptr));
    const auto y = dy.download<float>(x.size());
    int bad = 0;
    for (size_t i = 0; i < y.size(); ++i) {
      // Each thread sums at most 4097 / 128 + 1 terms, then 5 shuffle levels
      // and 4 warps: about 40 roundings (5e-6 relative); the GPU's __expf adds
      // up to ~20 ulp for arguments down to -16.
      const double tol = 3e-5 * ref[i] + 1e-9;
      if (!(std::fabs(y[i] - ref[i]) <= tol) && ++bad <= 5) {
        ADD_FAILURE() << "softmax " << rows << "x" << cols << " y[" << i / cols << "," << i % cols
                      << "] = " << y[i] << ", expected " << ref[i];
      }
    }
    EXPECT_EQ(bad, 0) << "softmax " << rows << "x" << cols;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SampleKernels, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& p) {
                           return std::string(p.param.name);
                         });

TEST(SampleBackends, BothBuildsLinkIntoOneBinary) {
  const Backend& emu = medtex::simt_samples::emulated_backend();
  EXPECT_STREQ(emu.name, "emulated");
  EXPECT_EQ(emu.device_count(), 1);
#if MEDTEX_SIMT_SAMPLES_CUDA
  const Backend* cuda = medtex::simt_samples::cuda_backend();
  ASSERT_NE(cuda, nullptr);
  EXPECT_STREQ(cuda->name, "cuda");
  // Two distinct launchers: the nvcc and the emulated build of one source,
  // kept apart by SIMT_NS.
  EXPECT_NE(reinterpret_cast<void*>(cuda->sgemm), reinterpret_cast<void*>(emu.sgemm));
  std::printf("[simt] CUDA backend linked; devices: %d\n", cuda->device_count());
#else
  EXPECT_EQ(medtex::simt_samples::cuda_backend(), nullptr);
  GTEST_SKIP() << "built without nvcc: only the emulated backend";
#endif
}

}  // namespace
