// The pooling ops on the GPU backends against their CPU twins: maxpool2d,
// avgpool2d, global_avgpool and upsample_nearest, every launcher and version,
// then the engine ops with autograd.
//
// Every comparison is bitwise except global_avgpool v2's forward: each kernel
// does the CPU twin's arithmetic in the CPU twin's order (window scans in
// row-major order, gathers that add in output order from 0, the same
// divisions). v2 sums a plane in float over 32 lanes and a shuffle tree where
// the CPU sums in double: atol 1e-6 on means of values in [-1, 1) (float
// rounding of partial sums of size <= ~40 over <= 1320 values, divided by hw).
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/ops.h"
#include "kernels/avgpool2d/avgpool2d.h"
#include "kernels/avgpool2d/avgpool2d_cuda.cuh"
#include "kernels/avgpool2d/avgpool2d_cuda.h"
#include "kernels/global_avgpool/global_avgpool.h"
#include "kernels/global_avgpool/global_avgpool_cuda.h"
#include "kernels/maxpool2d/maxpool2d.h"
#include "kernels/maxpool2d/maxpool2d_cuda.cuh"
#include "kernels/maxpool2d/maxpool2d_cuda.h"
#include "kernels/upsample_nearest/upsample_nearest.h"
#include "kernels/upsample_nearest/upsample_nearest_cuda.cuh"
#include "kernels/upsample_nearest/upsample_nearest_cuda.h"
#include "tests/support/compare.h"
#include "tests/support/gpu.h"

namespace medtex {
namespace {

class PoolCuda : public test::GpuTest {};

struct Image {
  int64_t n, c, h, w;
};
// Batch 1, odd channel counts, odd and even sides.
const Image kImages[] = {{1, 3, 5, 7}, {2, 4, 13, 11}, {3, 5, 8, 9}};

struct Window {
  int k, s, p;
};
// 2x2/2 (the student), 3x3/2 pad 1 (the ResNet stem), stride 1 (every input in
// up to 9 windows), overlapping 2x2/1, a 1x1/2 window that skips inputs, a
// large padded window, non-overlapping 3x3/3 that drops a remainder.
const Window kWindows[] = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {2, 1, 0},
                           {1, 2, 0}, {5, 3, 2}, {3, 3, 0}};

// "[2, 4, 13, 11] k3 s2 p1", then any further parts.
template <class... Parts>
std::string label(const Image& im, const Window& win, const Parts&... parts) {
  std::ostringstream s;
  s << "[" << im.n << ", " << im.c << ", " << im.h << ", " << im.w << "] k" << win.k << " s"
    << win.s << " p" << win.p;
  ((s << parts), ...);
  return s.str();
}

template <class P>
P params_of(const Image& im, const Window& win) {
  P p;
  p.planes = im.n * im.c;
  p.h = im.h;
  p.w = im.w;
  p.kernel = win.k;
  p.stride = win.s;
  p.padding = win.p;
  p.oh = (im.h + 2 * win.p - win.k) / win.s + 1;
  p.ow = (im.w + 2 * win.p - win.k) / win.s + 1;
  return p;
}

void expect_bitwise(const char* what, const Tensor& got, const Tensor& want) {
  EXPECT_TRUE(test::bitwise_equal(got, want))
      << what << " differs from the CPU twin; max |diff| " << test::max_abs_diff(got, want);
}

// Inputs for maxpool: plain random values; values on a coarse grid (many ties
// inside each window); and the same with -inf and NaN sprinkled in.
Tensor maxpool_input(const Image& im, int kind, uint64_t seed) {
  Tensor x = test::random_float({im.n, im.c, im.h, im.w}, seed);
  if (kind == 0) return x;
  std::vector<float> v = x.to_vector<float>();
  for (size_t i = 0; i < v.size(); ++i) {
    v[i] = std::round(v[i] * 2.f) / 2.f;  // 5 distinct values
    if (kind == 2 && i % 7 == 3) v[i] = -std::numeric_limits<float>::infinity();
    if (kind == 2 && i % 11 == 5) v[i] = std::nanf("");
  }
  return Tensor::from_vector(v, x.shape());
}

TEST_P(PoolCuda, MaxPoolForwardAndBackwardAreBitwiseTheCpuTwin) {
  for (const Image& im : kImages) {
    for (const Window& win : kWindows) {
      const auto p = params_of<cpu::MaxPool2dParams>(im, win);
      const Shape out{im.n, im.c, p.oh, p.ow};
      for (int kind : {0, 1, 2}) {
        SCOPED_TRACE(label(im, win, " input kind ", kind));
        const Tensor x = maxpool_input(im, kind, uint64_t(im.h * 100 + win.k * 10 + kind));
        const Tensor dy = test::random_float(out, uint64_t(im.w + kind));
        Tensor y = Tensor::empty(out), arg = Tensor::empty(out, DType::I32);
        Tensor dx = Tensor::empty(x.shape());
        cpu::maxpool2d_forward<float>(p, x.data<float>(), y.data<float>(), arg.data<int32_t>());
        cpu::maxpool2d_backward<float>(p, arg.data<int32_t>(), dy.data<float>(), dx.data<float>());
        const auto got = test::run_all_schedules([&] {
          const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
          Tensor gy = Tensor::empty(out, DType::F32, Device::cuda());
          Tensor gy_noarg = Tensor::empty(out, DType::F32, Device::cuda());
          Tensor garg = Tensor::empty(out, DType::I32, Device::cuda());
          Tensor gdx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
          const auto v = gpu::MaxPool2dVersion::kV1ThreadPerElement;
          MT_GPU(maxpool2d_forward)(p, gx.data<float>(), gy.data<float>(), garg.data<int32_t>(), v);
          MT_GPU(maxpool2d_forward)(p, gx.data<float>(), gy_noarg.data<float>(), nullptr, v);
          MT_GPU(maxpool2d_backward)(p, garg.data<int32_t>(), gdy.data<float>(),
                                     gdx.data<float>(), v);
          return std::vector<Tensor>{gy, garg, gdx, gy_noarg};
        });
        expect_bitwise("y", got[0], y);
        expect_bitwise("argmax", got[1], arg);
        expect_bitwise("dx", got[2], dx);
        expect_bitwise("y (no argmax)", got[3], y);
      }
    }
  }
}

TEST_P(PoolCuda, AvgPoolForwardAndBackwardAreBitwiseTheCpuTwin) {
  for (const Image& im : kImages) {
    for (const Window& win : kWindows) {
      SCOPED_TRACE(label(im, win));
      const auto p = params_of<cpu::AvgPool2dParams>(im, win);
      const Shape out{im.n, im.c, p.oh, p.ow};
      const Tensor x = test::random_float({im.n, im.c, im.h, im.w}, uint64_t(im.h * 10 + win.k));
      const Tensor dy = test::random_float(out, uint64_t(im.w * 10 + win.s));
      Tensor y = Tensor::empty(out), dx = Tensor::empty(x.shape());
      cpu::avgpool2d_forward<float>(p, x.data<float>(), y.data<float>());
      cpu::avgpool2d_backward<float>(p, dy.data<float>(), dx.data<float>());
      const auto got = test::run_all_schedules([&] {
        const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
        Tensor gy = Tensor::empty(out, DType::F32, Device::cuda());
        Tensor gdx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
        const auto v = gpu::AvgPool2dVersion::kV1ThreadPerElement;
        MT_GPU(avgpool2d_forward)(p, gx.data<float>(), gy.data<float>(), v);
        MT_GPU(avgpool2d_backward)(p, gdy.data<float>(), gdx.data<float>(), v);
        return std::vector<Tensor>{gy, gdx};
      });
      expect_bitwise("y", got[0], y);
      expect_bitwise("dx", got[1], dx);
    }
  }
}

TEST_P(PoolCuda, GlobalAvgPoolEveryVersionMatchesTheCpuTwin) {
  // hw from 1 to 1320: tails of the four lanes, planes shorter and longer than a warp.
  const Image images[] = {{2, 3, 1, 1}, {3, 5, 2, 2}, {1, 4, 4, 4},
                          {2, 3, 7, 9}, {1, 3, 13, 13}, {2, 3, 40, 33}};
  for (const Image& im : images) {
    const int64_t planes = im.n * im.c, hw = im.h * im.w;
    const Tensor x = test::random_float({im.n, im.c, im.h, im.w}, uint64_t(hw));
    const Tensor dy = test::random_float({im.n, im.c}, uint64_t(hw + 1));
    Tensor y = Tensor::empty({im.n, im.c}), dx = Tensor::empty(x.shape());
    cpu::global_avgpool_forward<float>(planes, hw, x.data<float>(), y.data<float>());
    cpu::global_avgpool_backward<float>(planes, hw, dy.data<float>(), dx.data<float>());
    for (auto v : {gpu::GlobalAvgPoolVersion::kV1ThreadPerPlane,
                   gpu::GlobalAvgPoolVersion::kV2WarpPerPlane}) {
      SCOPED_TRACE(::testing::Message() << "planes " << planes << " hw " << hw << " v" << int(v));
      const auto got = test::run_all_schedules([&] {
        const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
        Tensor gy = Tensor::empty({im.n, im.c}, DType::F32, Device::cuda());
        Tensor gdx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
        MT_GPU(global_avgpool_forward)(planes, hw, gx.data<float>(), gy.data<float>(), v);
        MT_GPU(global_avgpool_backward)(planes, hw, gdy.data<float>(), gdx.data<float>(), v);
        return std::vector<Tensor>{gy, gdx};
      });
      if (v == gpu::GlobalAvgPoolVersion::kV1ThreadPerPlane) {
        expect_bitwise("y", got[0], y);
      } else {
        EXPECT_TRUE(test::all_close(got[0], y, 1e-6, 1e-6));
        std::printf("    hw %4lld v2 y max |diff| %.3g\n", static_cast<long long>(hw),
                    test::max_abs_diff(got[0], y));
      }
      expect_bitwise("dx", got[1], dx);
    }
  }
}

TEST_P(PoolCuda, UpsampleNearestForwardAndBackwardAreBitwiseTheCpuTwin) {
  for (const Image& im : kImages) {
    for (int f : {1, 2, 3}) {
      SCOPED_TRACE(label(im, {f, f, 0}, " (upsampling factor ", f, ")"));
      const int64_t planes = im.n * im.c;
      const Shape out{im.n, im.c, im.h * f, im.w * f};
      const Tensor x = test::random_float({im.n, im.c, im.h, im.w}, uint64_t(im.h * 10 + f));
      const Tensor dy = test::random_float(out, uint64_t(im.w * 10 + f));
      Tensor y = Tensor::empty(out), dx = Tensor::empty(x.shape());
      cpu::upsample_nearest_forward<float>(planes, im.h, im.w, f, x.data<float>(), y.data<float>());
      cpu::upsample_nearest_backward<float>(planes, im.h, im.w, f, dy.data<float>(),
                                            dx.data<float>());
      const auto got = test::run_all_schedules([&] {
        const Tensor gx = test::to_gpu(x), gdy = test::to_gpu(dy);
        Tensor gy = Tensor::empty(out, DType::F32, Device::cuda());
        Tensor gdx = Tensor::empty(x.shape(), DType::F32, Device::cuda());
        const auto v = gpu::UpsampleNearestVersion::kV1ThreadPerElement;
        MT_GPU(upsample_nearest_forward)(planes, im.h, im.w, f, gx.data<float>(),
                                         gy.data<float>(), v);
        MT_GPU(upsample_nearest_backward)(planes, im.h, im.w, f, gdy.data<float>(),
                                          gdx.data<float>(), v);
        return std::vector<Tensor>{gy, gdx};
      });
      expect_bitwise("y", got[0], y);
      expect_bitwise("dx", got[1], dx);
    }
  }
}

// The launchers use 32-bit flat indices below 2^31 elements and 64-bit ones
// above; no test tensor is that large, so run the 64-bit instantiations of the
// kernels directly (the emulated build of the same source) and compare.
// (Not global_avgpool's backward: its header also holds non-template kernels,
// which one more translation unit would define twice.)
TEST_P(PoolCuda, SixtyFourBitIndexKernelsAgreeWithThirtyTwoBit) {
  if (!emulated()) GTEST_SKIP() << "launches the emulated kernels directly: emulator only";
  const Image im{2, 3, 13, 11};
  const auto p = params_of<cpu::MaxPool2dParams>(im, {3, 2, 1});
  const int64_t in = im.n * im.c * im.h * im.w, out = p.planes * p.oh * p.ow;
  const int f = 2;
  const Tensor x = test::to_gpu(maxpool_input(im, 1, 5));
  const Tensor dy = test::to_gpu(test::random_float({out}, 6));
  const Tensor dy_up = test::to_gpu(test::random_float({in * f * f}, 7));
  auto run = [&](auto index) {
    using I = decltype(index);
    const int h = int(p.h), w = int(p.w), oh = int(p.oh), ow = int(p.ow);
    Tensor y = Tensor::empty({out}, DType::F32, Device::cuda());
    Tensor arg = Tensor::empty({out}, DType::I32, Device::cuda());
    Tensor dx = Tensor::empty({in}, DType::F32, Device::cuda());
    Tensor ya = Tensor::empty({out}, DType::F32, Device::cuda());
    Tensor dxa = Tensor::empty({in}, DType::F32, Device::cuda());
    Tensor yu = Tensor::empty({in * f * f}, DType::F32, Device::cuda());
    Tensor dxu = Tensor::empty({in}, DType::F32, Device::cuda());
    const dim3 grid(3), block(64);  // a small grid: the grid-stride loops go round
    auto ok = [](const simt::Error& e) { ASSERT_TRUE(e.ok()) << e.message(); };
    ok(simt::launch(kern::maxpool2d_forward_v1<I>, grid, block, 0, nullptr, I(out), h, w, oh, ow,
                    p.kernel, p.stride, p.padding, x.data<float>(), y.data<float>(),
                    arg.data<int32_t>()));
    ok(simt::launch(kern::maxpool2d_backward_v1<I>, grid, block, 0, nullptr, I(in), h, w, oh, ow,
                    p.kernel, p.stride, p.padding, arg.data<int32_t>(), dy.data<float>(),
                    dx.data<float>()));
    ok(simt::launch(kern::avgpool2d_forward_v1<I>, grid, block, 0, nullptr, I(out), h, w, oh, ow,
                    p.kernel, p.stride, p.padding, x.data<float>(), ya.data<float>()));
    ok(simt::launch(kern::avgpool2d_backward_v1<I>, grid, block, 0, nullptr, I(in), h, w, oh, ow,
                    p.kernel, p.stride, p.padding, dy.data<float>(), dxa.data<float>()));
    ok(simt::launch(kern::upsample_nearest_forward_v1<I>, grid, block, 0, nullptr, I(in * f * f),
                    h, w, f, x.data<float>(), yu.data<float>()));
    ok(simt::launch(kern::upsample_nearest_backward_v1<I>, grid, block, 0, nullptr, I(in), h, w, f,
                    dy_up.data<float>(), dxu.data<float>()));
    std::vector<Tensor> r;
    for (const Tensor& t : {y, arg, dx, ya, dxa, yu, dxu}) r.push_back(t.to(Device::cpu()));
    return r;
  };
  const auto a = run(int32_t{}), b = run(int64_t{});
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(test::bitwise_equal(a[i], b[i])) << i;
}

// The engine ops on the device with autograd, against the same ops on the
// CPU: bitwise (the default versions are all exact).
TEST_P(PoolCuda, OpsWithAutogradAreBitwiseTheCpu) {
  const Image im{2, 3, 13, 11};
  const Tensor x = maxpool_input(im, 1, 31);  // ties, for maxpool
  using Op = Tensor (*)(const Tensor&);
  struct Named {
    const char* name;
    Op op;
  };
  const Named ops_to_check[] = {
      {"maxpool2d 3x3/2 pad 1", [](const Tensor& t) { return ops::maxpool2d(t, 3, 2, 1); }},
      {"maxpool2d 2x2/2", [](const Tensor& t) { return ops::maxpool2d(t, 2, 2, 0); }},
      {"avgpool2d 3x3/2 pad 1", [](const Tensor& t) { return ops::avgpool2d(t, 3, 2, 1); }},
      {"avgpool2d 2x2/2", [](const Tensor& t) { return ops::avgpool2d(t, 2, 2, 0); }},
      {"global_avgpool", [](const Tensor& t) { return ops::global_avgpool(t); }},
      {"upsample_nearest x2", [](const Tensor& t) { return ops::upsample_nearest(t, 2); }},
  };
  for (const Named& o : ops_to_check) {
    SCOPED_TRACE(o.name);
    Tensor xc = x.copy().set_requires_grad();
    const Tensor yc = o.op(xc);
    const Tensor dy = test::random_float(yc.shape(), 32);
    yc.backward(dy);
    const auto got = test::run_all_schedules([&] {
      Tensor gx = test::to_gpu(x).set_requires_grad();
      const Tensor gy = o.op(gx);
      EXPECT_TRUE(gy.device().is_cuda());
      gy.backward(test::to_gpu(dy));
      // Inference (no gradient wanted): maxpool skips its argmax.
      const Tensor gy_nograd = o.op(test::to_gpu(x));
      return std::vector<Tensor>{gy, gx.grad(), gy_nograd};
    });
    expect_bitwise("y", got[0], yc);
    expect_bitwise("dx", got[1], xc.grad());
    expect_bitwise("y (no grad)", got[2], yc);
  }
}

TEST_P(PoolCuda, EmptyTensorsLaunchNothing) {
  cpu::MaxPool2dParams mp;  // planes = 0
  MT_GPU(maxpool2d_forward)(mp, nullptr, nullptr, nullptr, gpu::kMaxPool2dDefault);
  MT_GPU(maxpool2d_backward)(mp, nullptr, nullptr, nullptr, gpu::kMaxPool2dDefault);
  cpu::AvgPool2dParams ap;
  MT_GPU(avgpool2d_forward)(ap, nullptr, nullptr, gpu::kAvgPool2dDefault);
  MT_GPU(avgpool2d_backward)(ap, nullptr, nullptr, gpu::kAvgPool2dDefault);
  for (auto v : {gpu::GlobalAvgPoolVersion::kV1ThreadPerPlane,
                 gpu::GlobalAvgPoolVersion::kV2WarpPerPlane}) {
    MT_GPU(global_avgpool_forward)(0, 4, nullptr, nullptr, v);
    MT_GPU(global_avgpool_backward)(0, 4, nullptr, nullptr, v);
  }
  MT_GPU(upsample_nearest_forward)(0, 3, 3, 2, nullptr, nullptr, gpu::kUpsampleNearestDefault);
  MT_GPU(upsample_nearest_backward)(0, 3, 3, 2, nullptr, nullptr, gpu::kUpsampleNearestDefault);
}

MT_GPU_TEST_SUITE(PoolCuda);

}  // namespace
}  // namespace medtex
