#include "tests/support/gpu.h"

#include "kernels/simt/simt.h"
#include "tests/support/compare.h"

namespace medtex::test {

namespace {
struct NamedSchedule {
  const char* name;
  simt::Schedule schedule;
  uint64_t seed;
};
constexpr NamedSchedule kSchedules[] = {
    {"reverse", simt::Schedule::kReverse, 1},
    {"random seed 1", simt::Schedule::kRandom, 1},
    {"random seed 2", simt::Schedule::kRandom, 2},
    {"random seed 3", simt::Schedule::kRandom, 3},
};
}  // namespace

void GpuTest::SetUp() {
  if (GetParam() == GpuTarget::kCuda) {
    const gpu::Probe& p = gpu::probe_cuda();
    if (!p.available) GTEST_SKIP() << "no GPU here (" << p.reason << "): not run, not passed";
    gpu::use(gpu::Backend::kCuda);
  } else {
    gpu::use(gpu::Backend::kEmulated);
  }
}

void GpuTest::TearDown() {
  if (gpu::active() != gpu::Backend::kNone) {
    const gpu::AllocatorStats s = gpu::allocator_stats();
    EXPECT_EQ(s.live_blocks, 0) << "device tensors outlived the test";
    if (s.live_blocks == 0) gpu::use(gpu::Backend::kNone);
  }
}

std::string gpu_target_name(const ::testing::TestParamInfo<GpuTarget>& info) {
  return info.param == GpuTarget::kEmulated ? "Emulated" : "Cuda";
}

void PrintTo(GpuTarget t, std::ostream* os) { *os << (t == GpuTarget::kEmulated ? "emulated" : "cuda"); }

std::vector<std::string> schedule_names() {
  std::vector<std::string> names;
  for (const auto& s : kSchedules) names.push_back(s.name);
  return names;
}

std::vector<Tensor> run_all_schedules(const std::function<std::vector<Tensor>()>& run) {
  auto to_host = [](const std::vector<Tensor>& ts) {
    std::vector<Tensor> out;
    for (const Tensor& t : ts) out.push_back(t.defined() ? t.detach().to(Device::cpu()) : Tensor());
    return out;
  };
  if (gpu::active() != gpu::Backend::kEmulated) return to_host(run());
  std::vector<Tensor> first;
  for (const auto& s : kSchedules) {
    simt::Config config = simt::config();
    config.schedule = s.schedule;
    config.seed = s.seed;
    const simt::ScopedConfig scoped(config);
    std::vector<Tensor> got = to_host(run());
    if (first.empty()) {
      first = std::move(got);
      continue;
    }
    EXPECT_EQ(got.size(), first.size()) << "schedule " << s.name;
    for (size_t i = 0; i < got.size() && i < first.size(); ++i) {
      if (!got[i].defined() || !first[i].defined()) {
        EXPECT_EQ(got[i].defined(), first[i].defined()) << "output " << i << ", " << s.name;
        continue;
      }
      EXPECT_TRUE(bitwise_equal(got[i], first[i]))
          << "output " << i << " " << got[i].str() << " differs under schedule '" << s.name
          << "' from schedule '" << kSchedules[0].name << "' (max |diff| "
          << max_abs_diff(got[i], first[i]) << "): a race or an order-dependent sum";
    }
  }
  return first;
}

Tensor to_gpu(const Tensor& t) { return t.detach().to(Device::cuda()); }

}  // namespace medtex::test
