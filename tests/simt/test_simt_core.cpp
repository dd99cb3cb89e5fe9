// What the emulator promises kernels: built-in variables, barrier semantics,
// every warp primitive against an independent reference, atomics across
// concurrently running blocks, math intrinsics, vector types, schedules, the
// barrier-free fast path and the persistent worker pool.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "kernels/simt/simt.h"

namespace core_tests {
inline namespace SIMT_NS {

constexpr unsigned kFull = 0xffffffffu;

// Writes, for every thread, its linear global id and what it sees of the
// built-in variables.
struct Seen {
  uint3 thread, block;
  dim3 block_dim, grid_dim;
  int visits;
};
__global__ void record_indices(Seen* seen) {
  const unsigned bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const unsigned tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  Seen& s = seen[bx * blockDim.x * blockDim.y * blockDim.z + tx];
  s.thread = threadIdx;
  s.block = blockIdx;
  s.block_dim = blockDim;
  s.grid_dim = gridDim;
  ++s.visits;
}

// Each thread writes its slot, then reads its neighbour's after the barrier.
__global__ void rotate_through_shared(int* out) {
  __shared__ int values[1024];
  const int n = blockDim.x, t = threadIdx.x;
  values[t] = 1000 * blockIdx.x + t;
  __syncthreads();
  const int neighbour = values[(t + 1) % n];
  __syncthreads();  // everyone has read before anyone writes again
  values[t] = -neighbour;
  __syncthreads();
  out[blockIdx.x * n + t] = values[(t + n - 1) % n];
}

// The order threads run in, in the first interval and after a barrier. A
// block's threads interleave only at synchronisation points, so plain
// counters are safe here (they would race on a GPU: this tests the emulator).
__global__ void record_order(int* first, int* second, int* counters) {
  first[counters[0]++] = threadIdx.x;
  __syncthreads();
  second[counters[1]++] = threadIdx.x;
}

__global__ void barrier_free(int* out) {
  out[blockIdx.x * blockDim.x + threadIdx.x] = 7;
}

__global__ void with_barrier(int* out) {
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = 8;
}

// Warp 0 returns at once; the other warps sum over the warp. Only some
// threads synchronise: the fast path must hand over to fibers midway.
__global__ void some_warps_shuffle(int* out) {
  if (threadIdx.x < 32) return;
  int v = threadIdx.x;
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_xor_sync(kFull, v, offset);
  out[threadIdx.x] = v;
}

__global__ void barrier_votes(int* out) {
  const int t = threadIdx.x;
  out[0 * blockDim.x + t] = __syncthreads_count(t % 3 == 0);
  out[1 * blockDim.x + t] = __syncthreads_and(t < 1000);
  out[2 * blockDim.x + t] = __syncthreads_and(t != 17);
  out[3 * blockDim.x + t] = __syncthreads_or(t == 17);
  out[4 * blockDim.x + t] = __syncthreads_or(0);
}

// Every warp primitive, with results written per thread and operation.
constexpr int kOps = 20;
__global__ void warp_primitives(int* out, const int* src) {
  const int t = threadIdx.x, lane = t % 32;
  const int v = src[t];
  int* o = out + t * kOps;
  o[0] = __shfl_sync(kFull, v, 3);
  o[1] = __shfl_sync(kFull, v, lane + 5, 8);
  o[2] = __shfl_sync(kFull, v, -1, 16);
  o[3] = __shfl_up_sync(kFull, v, 3);
  o[4] = __shfl_up_sync(kFull, v, 2, 8);
  o[5] = __shfl_down_sync(kFull, v, 5);
  o[6] = __shfl_down_sync(kFull, v, 3, 16);
  o[7] = __shfl_xor_sync(kFull, v, 9);
  o[8] = __shfl_xor_sync(kFull, v, 6, 4);
  o[9] = static_cast<int>(__ballot_sync(kFull, v % 3 == 0));
  o[10] = __any_sync(kFull, v == 7);
  o[11] = __all_sync(kFull, v >= 0);
  o[12] = __all_sync(kFull, v != 7);
  o[13] = __reduce_add_sync(kFull, v);
  o[14] = __reduce_min_sync(kFull, v - 50);
  o[15] = static_cast<int>(__reduce_max_sync(kFull, static_cast<unsigned>(v)));
  o[16] = static_cast<int>(__reduce_xor_sync(kFull, v));
  __syncwarp();
  o[17] = static_cast<int>(__activemask());
  o[18] = lane < 10 ? static_cast<int>(__activemask()) : -1;
  // Half-warp groups with their own masks, at the same time.
  const unsigned half = lane < 16 ? 0x0000ffffu : 0xffff0000u;
  o[19] = __shfl_down_sync(half, v, 1, 16);
}

__global__ void shuffle_wide_types(double* d, long long* ll) {
  const int lane = threadIdx.x;
  d[lane] = __shfl_xor_sync(kFull, 0.5 + lane, 1);
  ll[lane] = __shfl_sync(kFull, (1LL << 40) + lane, 31 - lane);
}

// Reading a lane that takes no part (here: outside the mask, and exited) is
// undefined on a GPU; the emulator makes it NaN.
__global__ void read_outside_the_mask(float* out) {
  const int lane = threadIdx.x;
  if (lane >= 24) return;  // lanes 24-31 exit
  const unsigned mask = 0x00ffffffu;
  out[lane] = __shfl_down_sync(mask, 1.0f * lane, 4);  // lanes 20-23 read 24-27: exited
  if (lane < 16) {
    // Lane 15 reads lane 16, outside the mask, unless the width ends the
    // segment at lane 15 (then it keeps its own value).
    out[32 + lane] = __shfl_down_sync(0x0000ffffu, 1.0f * lane, 1);
    out[48 + lane] = __shfl_down_sync(0x0000ffffu, 1.0f * lane, 1, 16);
  }
}

__global__ void atomics(int* i, unsigned* u, unsigned long long* ull, float* f, double* d, int* mx,
                        int* mn, unsigned* cas_counter, unsigned* exch, unsigned* wrap) {
  const int id = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(i, 1);
  atomicSub(i, 2);
  atomicAdd(u, 3u);
  atomicAdd(ull, 1ull << 33);
  atomicAdd(f, 1.0f);
  atomicAdd(d, 0.5);
  atomicMax(mx, id);
  atomicMin(mn, -id);
  // An increment built on compare-and-swap, as lock-free code does.
  unsigned old = *cas_counter, seen;
  do {
    seen = old;
    old = atomicCAS(cas_counter, seen, seen + 1);
  } while (old != seen);
  atomicExch(exch, 12345u);
  atomicInc(wrap, 9u);  // counts 0..9 and wraps
}

__global__ void math(float* out, const float* x) {
  const float v = x[threadIdx.x];
  float* o = out + threadIdx.x * 16;
  o[0] = __expf(v);
  o[1] = __logf(v + 9.0f);
  o[2] = __fdividef(v, 3.0f);
  o[3] = rsqrtf(v + 9.0f);
  o[4] = __saturatef(v);
  o[5] = fmaxf(v, 0.25f);
  o[6] = fminf(v, 0.25f);
  o[7] = __sinf(v);
  o[8] = __cosf(v);
  float s, c;
  __sincosf(v, &s, &c);
  o[9] = s - c;
  o[10] = __powf(v + 9.0f, 1.5f);
  o[11] = __log2f(v + 9.0f);
  o[12] = __exp10f(v / 4.0f);
  o[13] = __fmaf_rn(v, 2.0f, 1.0f);
  o[14] = static_cast<float>(__popc(static_cast<unsigned>(threadIdx.x) * 2654435761u));
  o[15] = static_cast<float>(__clz(static_cast<int>(threadIdx.x)) +
                             __ffs(static_cast<int>(threadIdx.x)));
}

__global__ void vector_copy(const float4* in, float4* out) {
  const float4 q = in[threadIdx.x];
  out[threadIdx.x] = make_float4(q.w, q.z, q.y, q.x);
}

// Kernel parameters are per-thread copies.
__global__ void modify_parameter(int* out, int base) {
  base += threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = base;
}

// Uses 16 KiB of stack per thread, a lot for a kernel: the default stack copes.
__global__ void big_local_array(float* out) {
  float local[4096];
  for (int i = 0; i < 4096; ++i) local[i] = static_cast<float>(i * threadIdx.x);
  __syncthreads();
  float s = 0.0f;
  for (int i = 0; i < 4096; i += 64) s += local[i];
  out[threadIdx.x] = s;
}

std::mutex seen_mutex;
std::set<std::thread::id> seen_threads;
__global__ void record_os_thread() {
  if (threadIdx.x == 0) {
    std::lock_guard<std::mutex> lock(seen_mutex);
    seen_threads.insert(std::this_thread::get_id());
  }
}

}  // namespace SIMT_NS
}  // namespace core_tests

namespace {

using namespace core_tests;
using simt::Schedule;

simt::Config schedule(Schedule s, uint64_t seed = 1) {
  simt::Config c;
  c.schedule = s;
  c.seed = seed;
  return c;
}

const Schedule kSchedules[] = {Schedule::kInOrder, Schedule::kReverse, Schedule::kRandom};

TEST(BuiltIns, EveryThreadOfA3dGridRunsOnceAndSeesItsIndices) {
  const dim3 grid(3, 2, 2), block(5, 3, 2);
  const unsigned threads = 3 * 2 * 2 * 5 * 3 * 2;
  for (Schedule s : kSchedules) {
    const simt::ScopedConfig scoped(schedule(s));
    std::vector<Seen> seen(threads, Seen{});
    ASSERT_TRUE(simt::launch(record_indices, grid, block, 0, nullptr, seen.data()).ok());
    for (unsigned i = 0; i < threads; ++i) {
      const unsigned t = i % 30, b = i / 30;
      ASSERT_EQ(seen[i].visits, 1) << i;
      EXPECT_EQ(seen[i].thread.x, t % 5);
      EXPECT_EQ(seen[i].thread.y, t / 5 % 3);
      EXPECT_EQ(seen[i].thread.z, t / 15);
      EXPECT_EQ(seen[i].block.x, b % 3);
      EXPECT_EQ(seen[i].block.y, b / 3 % 2);
      EXPECT_EQ(seen[i].block.z, b / 6);
      EXPECT_EQ(seen[i].block_dim.x * seen[i].block_dim.y * seen[i].block_dim.z, 30u);
      EXPECT_EQ(seen[i].grid_dim.y, 2u);
    }
  }
  EXPECT_EQ(warpSize, 32);
}

TEST(Barrier, WritesBeforeItAreSeenAfterIt) {
  for (Schedule s : kSchedules) {
    for (int n : {1, 100, 256, 1024}) {  // 100: a partial last warp
      const simt::ScopedConfig scoped(schedule(s));
      std::vector<int> out(3 * n, 0);
      ASSERT_TRUE(simt::launch(rotate_through_shared, 3, n, 0, nullptr, out.data()).ok());
      for (int b = 0; b < 3; ++b) {
        for (int t = 0; t < n; ++t) {
          // values[t - 1] = -(value of thread t)
          EXPECT_EQ(out[b * n + t], -(1000 * b + t)) << "block " << b << " thread " << t;
        }
      }
    }
  }
}

TEST(Barrier, CountAndOrVariants) {
  const int n = 100;
  std::vector<int> out(5 * n, -1);
  ASSERT_TRUE(simt::launch(barrier_votes, 1, n, 0, nullptr, out.data()).ok());
  for (int t = 0; t < n; ++t) {
    EXPECT_EQ(out[0 * n + t], 34);  // 0, 3, ..., 99
    EXPECT_EQ(out[1 * n + t], 1);
    EXPECT_EQ(out[2 * n + t], 0);
    EXPECT_EQ(out[3 * n + t], 1);
    EXPECT_EQ(out[4 * n + t], 0);
  }
}

std::vector<int> run_order(const simt::Config& c, std::vector<int>* second) {
  const simt::ScopedConfig scoped(c);
  std::vector<int> first(64, -1), counters(2, 0);
  second->assign(64, -1);
  EXPECT_TRUE(
      simt::launch(record_order, 1, 64, 0, nullptr, first.data(), second->data(), counters.data())
          .ok());
  return first;
}

TEST(Schedules, ThreadOrderFollowsTheSchedule) {
  std::vector<int> identity(64), reversed(64), second;
  std::iota(identity.begin(), identity.end(), 0);
  std::iota(reversed.rbegin(), reversed.rend(), 0);
  EXPECT_EQ(run_order(schedule(Schedule::kInOrder), &second), identity);
  EXPECT_EQ(second, identity);
  EXPECT_EQ(run_order(schedule(Schedule::kReverse), &second), reversed);
  EXPECT_EQ(second, reversed);

  std::vector<int> second1, second1_again, second2;
  const auto random1 = run_order(schedule(Schedule::kRandom, 1), &second1);
  const auto random1_again = run_order(schedule(Schedule::kRandom, 1), &second1_again);
  const auto random2 = run_order(schedule(Schedule::kRandom, 2), &second2);
  EXPECT_TRUE(std::is_permutation(random1.begin(), random1.end(), identity.begin()));
  EXPECT_TRUE(std::is_permutation(second1.begin(), second1.end(), identity.begin()));
  EXPECT_NE(random1, identity);
  EXPECT_NE(random1, reversed);
  EXPECT_NE(second1, random1) << "each interval is shuffled anew";
  EXPECT_EQ(random1, random1_again) << "the same seed gives the same order";
  EXPECT_EQ(second1, second1_again);
  EXPECT_NE(random1, random2) << "another seed, another order";
}

TEST(FastPath, ABarrierFreeBlockTakesOneFiber) {
  std::vector<int> out(8 * 1024, 0);
  simt::reset_stats();
  ASSERT_TRUE(simt::launch(barrier_free, 8, 1024, 0, nullptr, out.data()).ok());
  simt::Stats s = simt::stats();
  EXPECT_EQ(s.blocks, 8u);
  EXPECT_EQ(s.threads, 8u * 1024);
  EXPECT_EQ(s.fibers, 8u);
  EXPECT_EQ(std::count(out.begin(), out.end(), 7), 8 * 1024);

  simt::reset_stats();
  ASSERT_TRUE(simt::launch(with_barrier, 8, 1024, 0, nullptr, out.data()).ok());
  s = simt::stats();
  EXPECT_EQ(s.fibers, 8u * 1024) << "a thread that waits needs its own fiber";
  EXPECT_EQ(std::count(out.begin(), out.end(), 8), 8 * 1024);
}

TEST(FastPath, ThreadsThatSynchroniseAfterOthersExitedStillWork) {
  for (Schedule s : kSchedules) {
    const simt::ScopedConfig scoped(schedule(s));
    std::vector<int> out(128, -1);
    ASSERT_TRUE(simt::launch(some_warps_shuffle, 1, 128, 0, nullptr, out.data()).ok());
    for (int t = 0; t < 32; ++t) EXPECT_EQ(out[t], -1);
    for (int w = 1; w < 4; ++w) {
      const int sum = 32 * (32 * w) + 31 * 32 / 2;
      for (int l = 0; l < 32; ++l) EXPECT_EQ(out[32 * w + l], sum);
    }
  }
}

// The expected result of shuffles, from the CUDA programming guide's rules.
int shfl_ref(const std::vector<int>& v, int warp_base, int lane, int src, int width) {
  return v[warp_base + (lane / width) * width + ((src % width) + width) % width];
}
int shfl_up_ref(const std::vector<int>& v, int base, int lane, int delta, int width) {
  return lane % width >= delta ? v[base + lane - delta] : v[base + lane];
}
int shfl_down_ref(const std::vector<int>& v, int base, int lane, int delta, int width) {
  return lane % width + delta < width ? v[base + lane + delta] : v[base + lane];
}
int shfl_xor_ref(const std::vector<int>& v, int base, int lane, int mask, int width) {
  const int j = lane ^ mask;
  // A lane may read its own or an earlier group, not a later one.
  return j < (lane / width + 1) * width ? v[base + j] : v[base + lane];
}

TEST(WarpPrimitives, MatchTheCudaDefinitions) {
  const int n = 64;
  std::vector<int> src(n);
  for (int t = 0; t < n; ++t) src[t] = (t * 37 + 11) % 101;
  src[40] = 7;  // one 7 in warp 1 only
  for (Schedule s : kSchedules) {
    const simt::ScopedConfig scoped(schedule(s));
    std::vector<int> out(n * kOps, 0);
    ASSERT_TRUE(simt::launch(warp_primitives, 1, n, 0, nullptr, out.data(), src.data()).ok());
    for (int t = 0; t < n; ++t) {
      const int lane = t % 32, base = t - lane;
      const int* o = &out[t * kOps];
      unsigned ballot = 0;
      int sum = 0, mn = 1 << 30, xr = 0;
      unsigned mx = 0;
      bool any7 = false;
      for (int l = 0; l < 32; ++l) {
        const int v = src[base + l];
        ballot |= (v % 3 == 0 ? 1u : 0u) << l;
        sum += v;
        mn = std::min(mn, v - 50);
        mx = std::max(mx, static_cast<unsigned>(v));
        xr ^= v;
        any7 |= v == 7;
      }
      SCOPED_TRACE("thread " + std::to_string(t));
      EXPECT_EQ(o[0], shfl_ref(src, base, lane, 3, 32));
      EXPECT_EQ(o[1], shfl_ref(src, base, lane, lane + 5, 8));
      EXPECT_EQ(o[2], shfl_ref(src, base, lane, -1, 16));
      EXPECT_EQ(o[3], shfl_up_ref(src, base, lane, 3, 32));
      EXPECT_EQ(o[4], shfl_up_ref(src, base, lane, 2, 8));
      EXPECT_EQ(o[5], shfl_down_ref(src, base, lane, 5, 32));
      EXPECT_EQ(o[6], shfl_down_ref(src, base, lane, 3, 16));
      EXPECT_EQ(o[7], shfl_xor_ref(src, base, lane, 9, 32));
      EXPECT_EQ(o[8], shfl_xor_ref(src, base, lane, 6, 4));
      EXPECT_EQ(static_cast<unsigned>(o[9]), ballot);
      EXPECT_EQ(o[10], any7 ? 1 : 0);
      EXPECT_EQ(o[11], 1);
      EXPECT_EQ(o[12], any7 ? 0 : 1);
      EXPECT_EQ(o[13], sum);
      EXPECT_EQ(o[14], mn);
      EXPECT_EQ(static_cast<unsigned>(o[15]), mx);
      EXPECT_EQ(o[16], xr);
      EXPECT_EQ(static_cast<unsigned>(o[17]), 0xffffffffu);
      EXPECT_EQ(o[18], lane < 10 ? 0x3ff : -1);
      EXPECT_EQ(o[19], shfl_down_ref(src, base, lane, 1, 16));
    }
  }
}

TEST(WarpPrimitives, ActiveMaskOfAPartialWarp) {
  // 40 threads: warp 1 has lanes 0-7 only.
  std::vector<int> src(40, 1), out(40 * kOps, 0);
  ASSERT_TRUE(simt::launch(warp_primitives, 1, 40, 0, nullptr, out.data(), src.data()).ok());
  EXPECT_EQ(static_cast<unsigned>(out[0 * kOps + 17]), 0xffffffffu);
  EXPECT_EQ(static_cast<unsigned>(out[35 * kOps + 17]), 0xffu);
  EXPECT_EQ(out[35 * kOps + 13], 8) << "a full-mask reduction over the 8 lanes that exist";
}

TEST(WarpPrimitives, EightByteValues) {
  std::vector<double> d(32);
  std::vector<long long> ll(32);
  ASSERT_TRUE(simt::launch(shuffle_wide_types, 1, 32, 0, nullptr, d.data(), ll.data()).ok());
  for (int l = 0; l < 32; ++l) {
    EXPECT_EQ(d[l], 0.5 + (l ^ 1));
    EXPECT_EQ(ll[l], (1LL << 40) + (31 - l));
  }
}

TEST(WarpPrimitives, ReadingALaneThatTakesNoPartGivesNaN) {
  std::vector<float> out(64, 0.0f);
  ASSERT_TRUE(simt::launch(read_outside_the_mask, 1, 32, 0, nullptr, out.data()).ok());
  for (int l = 0; l < 20; ++l) EXPECT_EQ(out[l], l + 4.0f);
  for (int l = 20; l < 24; ++l) EXPECT_TRUE(std::isnan(out[l])) << l;  // source exited
  for (int l = 0; l < 15; ++l) EXPECT_EQ(out[32 + l], l + 1.0f);
  EXPECT_TRUE(std::isnan(out[32 + 15])) << "lane 16 is not in the mask";
  for (int l = 0; l < 15; ++l) EXPECT_EQ(out[48 + l], l + 1.0f);
  EXPECT_EQ(out[48 + 15], 15.0f) << "past the end of the width: its own value";
}

TEST(Atomics, AreAtomicAcrossBlocksOnSeveralWorkers) {
  simt::Config c;
  c.workers = 4;  // more OS threads than this machine's cores: real contention
  const simt::ScopedConfig scoped(c);
  int i = 0, mx = -1, mn = 1;
  unsigned u = 0, cas = 0, exch = 0, wrap = 0;
  unsigned long long ull = 0;
  float f = 0.0f;
  double d = 0.0;
  const int blocks = 64, threads = 256, total = blocks * threads;
  ASSERT_TRUE(simt::launch(atomics, blocks, threads, 0, nullptr, &i, &u, &ull, &f, &d, &mx, &mn,
                           &cas, &exch, &wrap)
                  .ok());
  EXPECT_EQ(i, -total);
  EXPECT_EQ(u, 3u * total);
  EXPECT_EQ(ull, static_cast<unsigned long long>(total) << 33);
  EXPECT_EQ(f, static_cast<float>(total));  // exact: integers below 2^24
  EXPECT_EQ(d, 0.5 * total);
  EXPECT_EQ(mx, total - 1);
  EXPECT_EQ(mn, -(total - 1));
  EXPECT_EQ(cas, static_cast<unsigned>(total));
  EXPECT_EQ(exch, 12345u);
  EXPECT_EQ(wrap, static_cast<unsigned>(total % 10));
}

TEST(MathIntrinsics, MatchTheStandardLibrary) {
  const int n = 64;
  std::vector<float> x(n), out(n * 16);
  for (int t = 0; t < n; ++t) x[t] = -4.0f + 0.13f * t;
  ASSERT_TRUE(simt::launch(math, 1, n, 0, nullptr, out.data(), x.data()).ok());
  for (int t = 0; t < n; ++t) {
    const float v = x[t];
    const float* o = &out[t * 16];
    float s = 0, c = 0;
    EXPECT_FLOAT_EQ(o[0], std::exp(v));
    EXPECT_FLOAT_EQ(o[1], std::log(v + 9.0f));
    EXPECT_FLOAT_EQ(o[2], v / 3.0f);
    EXPECT_FLOAT_EQ(o[3], 1.0f / std::sqrt(v + 9.0f));
    EXPECT_EQ(o[4], std::clamp(v, 0.0f, 1.0f));
    EXPECT_EQ(o[5], std::max(v, 0.25f));
    EXPECT_EQ(o[6], std::min(v, 0.25f));
    EXPECT_FLOAT_EQ(o[7], std::sin(v));
    EXPECT_FLOAT_EQ(o[8], std::cos(v));
    s = std::sin(v);
    c = std::cos(v);
    EXPECT_FLOAT_EQ(o[9], s - c);
    EXPECT_FLOAT_EQ(o[10], std::pow(v + 9.0f, 1.5f));
    EXPECT_FLOAT_EQ(o[11], std::log2(v + 9.0f));
    EXPECT_FLOAT_EQ(o[12], std::pow(10.0f, v / 4.0f));
    EXPECT_EQ(o[13], std::fma(v, 2.0f, 1.0f));
    const unsigned h = static_cast<unsigned>(t) * 2654435761u;
    EXPECT_EQ(o[14], static_cast<float>(__builtin_popcount(h)));
    const int clz = t == 0 ? 32 : __builtin_clz(static_cast<unsigned>(t));
    const int ffs = t == 0 ? 0 : __builtin_ctz(static_cast<unsigned>(t)) + 1;
    EXPECT_EQ(o[15], static_cast<float>(clz + ffs));
  }
  EXPECT_EQ(__saturatef(NAN), 0.0f);  // CUDA: NaN saturates to 0
}

TEST(VectorTypes, LayoutAndSixteenByteLoads) {
  static_assert(sizeof(float4) == 16 && alignof(float4) == 16);
  static_assert(sizeof(float2) == 8 && alignof(float2) == 8);
  static_assert(sizeof(dim3) == 12 && sizeof(uint3) == 12);
  std::vector<float4> in(32), out(32);
  for (int i = 0; i < 32; ++i) in[i] = make_float4(i, i + 0.25f, i + 0.5f, i + 0.75f);
  ASSERT_TRUE(simt::launch(vector_copy, 1, 32, 0, nullptr, in.data(), out.data()).ok());
  for (int i = 0; i < 32; ++i) {
    EXPECT_EQ(out[i].x, i + 0.75f);
    EXPECT_EQ(out[i].w, static_cast<float>(i));
  }
  const dim3 d(4);
  EXPECT_EQ(d.y, 1u);
  EXPECT_EQ(d.z, 1u);
}

TEST(Launch, ParametersAreCopiedForEveryThread) {
  for (Schedule s : kSchedules) {
    const simt::ScopedConfig scoped(schedule(s));
    std::vector<int> out(64, 0);
    ASSERT_TRUE(simt::launch(modify_parameter, 1, 64, 0, nullptr, out.data(), 100).ok());
    for (int t = 0; t < 64; ++t) EXPECT_EQ(out[t], 100 + t);
  }
}

TEST(Launch, KernelsWithLargeLocalArraysFitTheDefaultStack) {
  std::vector<float> out(256, 0.0f);
  ASSERT_TRUE(simt::launch(big_local_array, 1, 256, 0, nullptr, out.data()).ok());
  float expected = 0.0f;
  for (int i = 0; i < 4096; i += 64) expected += static_cast<float>(i * 255);
  EXPECT_EQ(out[255], expected);
}

TEST(WorkerPool, IsReusedAcrossLaunches) {
  simt::Config c;
  c.workers = 2;
  const simt::ScopedConfig scoped(c);
  ASSERT_TRUE(simt::launch(record_os_thread, 64, 32, 0, nullptr).ok());
  const std::set<std::thread::id> first = seen_threads;
  EXPECT_LE(first.size(), 2u);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(simt::launch(record_os_thread, 64, 32, 0, nullptr).ok());
  EXPECT_LE(seen_threads.size(), 2u) << "launches must not start new OS threads";
}

}  // namespace
