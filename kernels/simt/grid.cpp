// The grid level of the emulator: launch checks, statistics, and the worker
// pool that spreads blocks over OS threads.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/simt/block_scheduler.h"
#include "kernels/simt/settings.h"
#include "kernels/simt/symbolize.h"

namespace simt {
namespace detail {
namespace {

// ---- statistics ------------------------------------------------------------------

struct GlobalStats {
  std::atomic<uint64_t> launches{0}, blocks{0}, threads{0}, fibers{0}, switches{0};
};
GlobalStats& global_stats() {
  static GlobalStats s;
  return s;
}

// ---- shared memory per kernel ---------------------------------------------------

struct SharedLimits {
  std::mutex mutex;
  std::map<AnyKernel, size_t> max_dynamic;  // set_max_dynamic_shared
  // The static shared memory (SIMT_SHARED) each kernel's blocks declared in
  // earlier launches. nvcc knows it at compile time; the emulator learns it
  // when the declarations run, so only launches after the first can be
  // checked before anything runs.
  std::map<AnyKernel, size_t> static_bytes;
};
SharedLimits& shared_limits() {
  static auto* limits = new SharedLimits();
  return *limits;
}

// ---- one launch ------------------------------------------------------------------

// The order blocks are taken in. Random order uses an affine bijection
// k -> (a k + b) mod n with a coprime to n: no table however large the grid,
// and every block exactly once.
class BlockOrder {
 public:
  BlockOrder(Schedule schedule, uint64_t seed, uint64_t blocks) : schedule_(schedule), n_(blocks) {
    if (schedule != Schedule::kRandom || blocks < 2) return;
    uint64_t state = seed * 0xd1342543de82ef95ull + 1;
    auto next = [&state] {
      state = state * 6364136223846793005ull + 1442695040888963407ull;  // Knuth's MMIX LCG
      return state ^ (state >> 29);
    };
    do {
      a_ = 1 + next() % (blocks - 1);
    } while (std::gcd(a_, blocks) != 1);
    b_ = next() % blocks;
  }
  uint64_t operator[](uint64_t k) const {
    switch (schedule_) {
      case Schedule::kInOrder:
        return k;
      case Schedule::kReverse:
        return n_ - 1 - k;
      case Schedule::kRandom:
        break;
    }
    __extension__ using Wide = unsigned __int128;  // a * k overflows 64 bits for huge grids
    return static_cast<uint64_t>((static_cast<Wide>(a_) * k + b_) % n_);
  }

 private:
  Schedule schedule_;
  uint64_t n_;
  uint64_t a_ = 1, b_ = 0;
};

struct GridRun {
  BlockLaunch launch;
  uint64_t blocks = 0;
  BlockOrder order{Schedule::kInOrder, 0, 0};
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::atomic<size_t> static_shared{0};  // the most any block declared
  std::mutex failure_mutex;
  std::string failure;
  int failure_code = kLaunchFailure;
};

// Runs blocks of `run` until none is left or one fails. Every participating
// OS thread calls it.
void work(GridRun& run) {
  BlockScheduler& scheduler = BlockScheduler::for_this_thread();
  scheduler.reset_counters();
  std::string failure;
  int code = kLaunchFailure;
  try {
    scheduler.prepare(run.launch);
    for (uint64_t k = run.next.fetch_add(1); k < run.blocks; k = run.next.fetch_add(1)) {
      if (run.failed.load(std::memory_order_relaxed)) break;
      if (!scheduler.run(run.order[k], &failure)) {
        code = scheduler.failure_code();
        break;
      }
    }
  } catch (const std::exception& e) {  // cannot map a stack, out of memory
    failure = std::string("emulator error: ") + e.what();
  }
  const size_t peak = scheduler.static_shared_peak();
  size_t seen = run.static_shared.load();
  while (seen < peak && !run.static_shared.compare_exchange_weak(seen, peak)) {
  }
  if (!failure.empty()) {
    std::lock_guard<std::mutex> lock(run.failure_mutex);
    if (!run.failed.exchange(true)) {
      run.failure = failure;
      run.failure_code = code;
    }
  }
  GlobalStats& stats = global_stats();
  stats.fibers += scheduler.fibers_started();
  stats.switches += scheduler.switches();
}

// A persistent pool: creating OS threads (and their fiber stacks) for every
// launch made two workers slower than one in the feasibility sketch.
class WorkerPool {
 public:
  static WorkerPool& instance() {
    static WorkerPool pool;
    return pool;
  }
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs work(run) on `helpers` pool threads and on the calling thread.
  void run(GridRun& run, unsigned helpers) {
    if (helpers > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      while (threads_.size() < helpers) {
        const auto index = static_cast<unsigned>(threads_.size());
        threads_.emplace_back([this, index] { loop(index); });
      }
      job_ = &run;
      wanted_ = helpers;
      pending_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    work(run);
    if (helpers > 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      done_.wait(lock, [this] { return pending_ == 0; });
      job_ = nullptr;
    }
  }

 private:
  void loop(unsigned index) {
    uint64_t seen = 0;
    for (;;) {
      GridRun* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || (generation_ != seen && index < wanted_); });
        if (stop_) return;
        seen = generation_;
        job = job_;
      }
      work(*job);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  GridRun* job_ = nullptr;
  uint64_t generation_ = 0;
  unsigned wanted_ = 0, pending_ = 0;
  bool stop_ = false;
};

std::string kernel_description(const LaunchRequest& r) {
  std::ostringstream s;
  s << "simt: kernel " << function_name(reinterpret_cast<const void*>(r.kernel));
  const char* file = r.site.file_name();
  const char* slash = std::strrchr(file, '/');
  s << " (launched at " << (slash != nullptr ? slash + 1 : file) << ":" << r.site.line() << ")";
  return s.str();
}

std::string dims(dim3 d) {
  std::ostringstream s;
  s << "(" << d.x << ", " << d.y << ", " << d.z << ")";
  return s.str();
}

// What the launch may use: the dynamic shared memory limit, whether it comes
// from set_max_dynamic_shared, and the kernel's static shared memory as far
// as earlier launches have shown it.
struct KernelShared {
  size_t max_dynamic = kDefaultMaxDynamicShared;
  bool opted_in = false;
  size_t known_static = 0;
};

// What a GPU would refuse to launch; empty when the configuration is valid.
std::string check_configuration(const LaunchRequest& r, const KernelShared& shared) {
  const size_t max_dynamic_shared = shared.max_dynamic;
  const dim3 b = r.block, g = r.grid;
  std::ostringstream s;
  if (b.x == 0 || b.y == 0 || b.z == 0) {
    s << "block " << dims(b) << " has a zero dimension";
  } else if (b.x > kMaxBlockDimX || b.y > kMaxBlockDimY || b.z > kMaxBlockDimZ) {
    s << "block " << dims(b) << " exceeds the per-dimension limits (" << kMaxBlockDimX << ", "
      << kMaxBlockDimY << ", " << kMaxBlockDimZ << ")";
  } else if (uint64_t{b.x} * b.y * b.z > kMaxThreadsPerBlock) {
    s << "block " << dims(b) << " has " << uint64_t{b.x} * b.y * b.z
      << " threads; a block may have at most " << kMaxThreadsPerBlock;
  } else if (g.x == 0 || g.y == 0 || g.z == 0) {
    s << "grid " << dims(g) << " has a zero dimension";
  } else if (g.x > kMaxGridDimX || g.y > kMaxGridDimY || g.z > kMaxGridDimZ) {
    s << "grid " << dims(g) << " exceeds the limits (" << kMaxGridDimX << ", " << kMaxGridDimY
      << ", " << kMaxGridDimZ << ")";
  } else if (r.dynamic_shared > max_dynamic_shared) {
    s << r.dynamic_shared << " bytes of dynamic shared memory exceed the kernel's limit of "
      << max_dynamic_shared << " bytes";
    if (max_dynamic_shared == kDefaultMaxDynamicShared) {
      s << "; more needs simt::set_max_dynamic_shared (cudaFuncSetAttribute) first, up to "
        << kMaxDynamicSharedOptIn;
    }
  } else if (shared.known_static > kMaxStaticShared) {
    // The same wording as the block that found it (block_scheduler.cpp).
    s << shared.known_static << " bytes of static shared memory exceed the limit of "
      << kMaxStaticShared << " bytes (nvcc refuses the kernel); use dynamic shared memory";
  } else if (shared.opted_in && shared.known_static + max_dynamic_shared > kMaxDynamicSharedOptIn) {
    s << shared.known_static << " bytes of static shared memory and the opt-in of "
      << max_dynamic_shared << " bytes of dynamic shared memory exceed the maximum of "
      << kMaxDynamicSharedOptIn << " bytes";
  } else if (!shared.opted_in &&
             shared.known_static + r.dynamic_shared > kDefaultMaxDynamicShared) {
    s << shared.known_static << " bytes of static and " << r.dynamic_shared
      << " bytes of dynamic shared memory exceed the kernel's limit of " << kDefaultMaxDynamicShared
      << " bytes; more needs simt::set_max_dynamic_shared (cudaFuncSetAttribute) first";
  }
  return s.str();
}

std::mutex& launch_mutex() {
  static auto* m = new std::mutex();
  return *m;
}

}  // namespace

Error run_grid(const LaunchRequest& request) {
  if (current_thread_idx != nullptr) {
    return Error(kLaunchFailure, kernel_description(request) +
                                     ": launched from inside a kernel; dynamic parallelism is "
                                     "not emulated");
  }
  Config config;
  std::string environment_error;
  launch_settings(&config, &environment_error);
  if (!environment_error.empty()) {
    return Error(kInvalidValue, kernel_description(request) + ": " + environment_error);
  }
  KernelShared shared;
  {
    SharedLimits& limits = shared_limits();
    std::lock_guard<std::mutex> lock(limits.mutex);
    if (auto it = limits.max_dynamic.find(request.kernel); it != limits.max_dynamic.end()) {
      shared.max_dynamic = it->second;
      shared.opted_in = true;
    }
    if (auto it = limits.static_bytes.find(request.kernel); it != limits.static_bytes.end()) {
      shared.known_static = it->second;
    }
  }
  if (std::string bad = check_configuration(request, shared); !bad.empty()) {
    return Error(kInvalidConfiguration, kernel_description(request) + ": " + bad);
  }

  std::lock_guard<std::mutex> one_grid_at_a_time(launch_mutex());
  GridRun run;
  run.launch = BlockLaunch{request.body,
                           request.grid,
                           request.block,
                           request.dynamic_shared,
                           shared.opted_in ? shared.max_dynamic : 0,
                           config};
  run.blocks = uint64_t{request.grid.x} * request.grid.y * request.grid.z;
  run.order = BlockOrder(config.schedule, config.seed, run.blocks);
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const uint64_t workers =
      std::min<uint64_t>(config.workers != 0 ? config.workers : hardware, run.blocks);
  WorkerPool::instance().run(run, static_cast<unsigned>(workers - 1));

  GlobalStats& stats = global_stats();
  ++stats.launches;
  stats.blocks += run.blocks;
  stats.threads += run.blocks * request.block.x * request.block.y * request.block.z;
  if (const size_t declared = run.static_shared.load(); declared > shared.known_static) {
    SharedLimits& limits = shared_limits();
    std::lock_guard<std::mutex> lock(limits.mutex);
    size_t& known = limits.static_bytes[request.kernel];
    known = std::max(known, declared);
  }
  if (run.failed && run.failure_code == kInvalidConfiguration) {
    return Error(kInvalidConfiguration, kernel_description(request) + ": " + run.failure);
  }
  if (run.failed) {
    return Error(kLaunchFailure, kernel_description(request) + " failed in " + run.failure);
  }
  return Error();
}

Error set_max_dynamic_shared(AnyKernel kernel, size_t bytes) {
  if (bytes > kMaxDynamicSharedOptIn) {
    std::ostringstream s;
    s << "simt: set_max_dynamic_shared(" << function_name(reinterpret_cast<const void*>(kernel))
      << ", " << bytes << "): above the opt-in maximum of " << kMaxDynamicSharedOptIn << " bytes";
    return Error(kInvalidValue, s.str());
  }
  SharedLimits& limits = shared_limits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  // cudaFuncSetAttribute counts the kernel's static shared memory too; here
  // it is known once a launch has declared it.
  if (auto it = limits.static_bytes.find(kernel);
      it != limits.static_bytes.end() && it->second + bytes > kMaxDynamicSharedOptIn) {
    std::ostringstream s;
    s << "simt: set_max_dynamic_shared(" << function_name(reinterpret_cast<const void*>(kernel))
      << ", " << bytes << "): with the kernel's " << it->second
      << " bytes of static shared memory, above the opt-in maximum of " << kMaxDynamicSharedOptIn
      << " bytes";
    return Error(kInvalidValue, s.str());
  }
  limits.max_dynamic[kernel] = bytes;
  return Error();
}

void forget_kernel_shared(AnyKernel kernel) {
  SharedLimits& limits = shared_limits();
  std::lock_guard<std::mutex> lock(limits.mutex);
  limits.max_dynamic.erase(kernel);
  limits.static_bytes.erase(kernel);
}

}  // namespace detail

Stats stats() {
  detail::GlobalStats& g = detail::global_stats();
  return Stats{g.launches.load(), g.blocks.load(), g.threads.load(), g.fibers.load(),
               g.switches.load()};
}

void reset_stats() {
  detail::GlobalStats& g = detail::global_stats();
  g.launches = g.blocks = g.threads = g.fibers = g.switches = 0;
}

}  // namespace simt
