// The host side of the SIMT emulator: launch, settings, statistics, and the
// per-thread state that the device API (device_api.h) reads. Included by
// simt.h when the file is not compiled by nvcc; do not include it directly.
//
// Model (README.md has the whole story): every CUDA thread of a block is a
// fiber (Boost.Context fcontext) on its own small stack. A block runs on one
// OS thread from start to end; a barrier or warp collective suspends the fiber
// and the block's scheduler decides who runs next, in order, in reverse or in a
// seeded random order. Blocks are spread over a persistent pool of OS threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/simt/error.h"
#include "kernels/simt/vector_types.h"

// Kernels live in `namespace <x> { inline namespace SIMT_NS { ... } }` so the
// nvcc build (cuda_impl) and this one (emu_impl) of the same source can be
// linked into one binary without duplicate symbols.
#define SIMT_NS emu_impl
#define SIMT_EMULATED 1

namespace simt {

// ---- settings ---------------------------------------------------------------

// The order in which the runnable threads of a block run between two
// synchronisation points. A missing __syncthreads() only shows when a reader
// runs before the writer it depends on, so tests run several schedules: in
// order hides many such bugs (threads then run as a sequential loop would).
enum class Schedule { kInOrder, kReverse, kRandom };

// Limits of the hardware the emulator checks launches against (sm_80..sm_90).
inline constexpr unsigned kMaxThreadsPerBlock = 1024;
inline constexpr unsigned kMaxBlockDimX = 1024, kMaxBlockDimY = 1024, kMaxBlockDimZ = 64;
inline constexpr unsigned kMaxGridDimX = 2147483647u, kMaxGridDimY = 65535, kMaxGridDimZ = 65535;
// Dynamic shared memory a kernel may use without set_max_dynamic_shared().
inline constexpr size_t kDefaultMaxDynamicShared = 48 * 1024;
// The opt-in maximum on sm_90 (H100). sm_80 allows 163 KiB and sm_86/89 99 KiB;
// the emulator checks the largest, so a kernel meant for all of them must stay
// under the smallest by its own design.
inline constexpr size_t kMaxDynamicSharedOptIn = 227 * 1024;
// Static shared memory (SIMT_SHARED) a kernel may declare: nvcc refuses more at
// compile time. Without the opt-in, static and dynamic together must also fit
// in kDefaultMaxDynamicShared; with it, static plus the opt-in value must fit
// in kMaxDynamicSharedOptIn.
inline constexpr size_t kMaxStaticShared = 48 * 1024;

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's redzones make stack frames several times larger.
inline constexpr size_t kDefaultStackBytes = 256 * 1024;
#else
// Kernels use little stack (the feasibility sketch measured 3.5 KiB at most);
// the pages are reserved, and only those touched cost memory.
inline constexpr size_t kDefaultStackBytes = 64 * 1024;
#endif

struct Config {
  Schedule schedule = Schedule::kRandom;
  uint64_t seed = 1;     // random schedule: same seed, same thread and block order
  unsigned workers = 0;  // OS threads that run blocks; 0: one per hardware thread
  size_t stack_bytes = kDefaultStackBytes;  // per CUDA thread, plus a guard page
  // __syncthreads() reached while other threads of the block have already
  // exited is an error (CUDA leaves it undefined; recent GPUs let it pass).
  bool strict_barriers = false;
};

// The settings the next launch uses. They start from the defaults above,
// overridden by the environment: SIMT_SCHED=inorder|reverse|random,
// SIMT_SEED=<n>, SIMT_WORKERS=<n>, SIMT_STACK_KB=<n>, SIMT_STRICT=0|1.
// A malformed variable makes every launch fail with a message saying which.
Config config();
void set_config(const Config& config);

// Sets the configuration for one scope, restoring the previous one at its end.
class ScopedConfig {
 public:
  explicit ScopedConfig(const Config& config) : saved_(simt::config()) { set_config(config); }
  ~ScopedConfig() { set_config(saved_); }
  ScopedConfig(const ScopedConfig&) = delete;
  ScopedConfig& operator=(const ScopedConfig&) = delete;

 private:
  Config saved_;
};

// Counters over all launches since the last reset_stats(), for tests and the
// benchmark: `fibers` counts fiber starts, `switches` every resumption of one.
struct Stats {
  uint64_t launches = 0;
  uint64_t blocks = 0;
  uint64_t threads = 0;
  uint64_t fibers = 0;
  uint64_t switches = 0;
};
Stats stats();
void reset_stats();

namespace detail {

// A kernel of any signature, only compared and named, never called through.
using AnyKernel = void (*)();

// Where a synchronising call is written in the kernel source. Barriers
// reached at different sites by different threads are divergent; `id` is
// __COUNTER__, so two sites on one line still differ.
struct SyncSite {
  const char* what;  // "__syncthreads", "__shfl_down_sync", ...
  const char* file;
  const char* function;
  int line;
  int id;
};

// The kernel body with its arguments bound: called once per CUDA thread.
struct KernelBody {
  void (*invoke)(const void* state);
  const void* state;
};

struct LaunchRequest {
  AnyKernel kernel;
  dim3 grid;
  dim3 block;
  size_t dynamic_shared;
  KernelBody body;
  std::source_location site;  // the simt::launch call
};

Error run_grid(const LaunchRequest& request);
Error set_max_dynamic_shared(AnyKernel kernel, size_t bytes);
// For tests: forgets the opt-in and the static shared memory size recorded
// for `kernel`, so its next launch is treated as its first.
void forget_kernel_shared(AnyKernel kernel);

// What blockIdx, blockDim and gridDim read: one per running block.
struct BlockView {
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};

// The running CUDA thread's view. Fibers never move between OS threads (a
// block runs on one), so thread-locals are the fibers' shared "registers"; the
// scheduler points them at the thread it resumes.
inline thread_local const uint3* current_thread_idx = nullptr;
inline thread_local const BlockView* current_block = nullptr;
inline thread_local unsigned char* current_dynamic_shared = nullptr;

// ---- static shared memory (SIMT_SHARED, device_api.h) ----
// Each SIMT_SHARED declaration owns one constant-initialised site (a static
// local, so one per template instantiation, whose size it knows). The site is
// numbered the first time any block reaches it. Each worker keeps a table,
// indexed by that number, of where the site's array lives in its running
// block; an entry is valid only while `block` matches the table's, so starting
// a block invalidates them all at once. The first thread of a block to reach
// the declaration therefore carves the array from the worker's arena and
// poisons it; the block's other threads find it in the table.
struct StaticSharedSite {
  constexpr StaticSharedSite(const char* name_, const char* file_, int line_, size_t bytes_,
                             size_t align_)
      : name(name_), file(file_), line(line_), bytes(bytes_), align(align_) {}
  const char* name;
  const char* file;
  int line;
  size_t bytes;
  size_t align;
  std::atomic<uint32_t> id{0};  // 0 until numbered
};
struct StaticSharedSlot {
  uint64_t block = 0;  // the block the array was carved for
  unsigned char* data = nullptr;
};
struct StaticSharedTable {
  const StaticSharedSlot* slots = nullptr;
  uint32_t count = 0;
  uint64_t block = 0;  // the running block's serial number on this worker, from 1
};
inline thread_local const StaticSharedTable* current_static_shared = nullptr;

// The slow path: numbers the site, carves and poisons its array for the
// running block, or fails the launch when the kernel's shared memory goes
// over its limit.
unsigned char* allocate_static_shared(StaticSharedSite& site);

// Static shared memory is at least 16-byte aligned in both builds (simt.h),
// so that float4 accesses through a float array are legal on the GPU too.
template <class A>
constexpr size_t static_shared_alignment() {
  return alignof(A) > 16 ? alignof(A) : 16;
}

template <class A>
__attribute__((always_inline)) inline A* static_shared(StaticSharedSite& site) {
  static_assert(std::is_trivially_default_constructible_v<A> && std::is_trivially_destructible_v<A>,
                "__shared__ variables cannot have constructors or destructors");
  const StaticSharedTable* table = current_static_shared;
  const uint32_t id = site.id.load(std::memory_order_relaxed);
  unsigned char* data = nullptr;
  if (table != nullptr && id < table->count && table->slots[id].block == table->block) {
    data = table->slots[id].data;
  } else {
    data = allocate_static_shared(site);
  }
  return reinterpret_cast<A*>(data);
}

template <class Fn>
void invoke_body(const void* state) {
  (*static_cast<const Fn*>(state))();
}

}  // namespace detail

inline namespace SIMT_NS {

// The grid argument of launch(). It converts from what CUDA's dim3 converts
// from and also records where launch() was called, so errors can point at the
// call (a default argument after the parameter pack is impossible).
class GridDims {
 public:
  GridDims(dim3 dims, std::source_location site = std::source_location::current())
      : dims_(dims), site_(site) {}
  GridDims(uint3 dims, std::source_location site = std::source_location::current())
      : dims_(dims), site_(site) {}
  GridDims(unsigned x, unsigned y = 1, unsigned z = 1,
           std::source_location site = std::source_location::current())
      : dims_(x, y, z), site_(site) {}
  dim3 dims() const { return dims_; }
  const std::source_location& site() const { return site_; }

 private:
  dim3 dims_;
  std::source_location site_;
};

// Runs `kernel` over `grid` x `block` threads with `dynamic_shared` bytes of
// dynamic shared memory and returns when it has finished (emulated launches
// are synchronous; the stream is ignored). Arguments are converted to the
// kernel's parameter types once, as CUDA does, and every thread gets a copy.
// Failures of the configuration or of the kernel itself (divergent barrier,
// deadlocked warp collective, exception) come back as the Error.
template <class... Params, class... Args>
Error launch(void (*kernel)(Params...), GridDims grid, dim3 block, size_t dynamic_shared,
             void* /*stream*/, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "simt::launch: the number of arguments differs from the kernel's parameters");
  const std::tuple<std::decay_t<Params>...> params(std::forward<Args>(args)...);
  const auto body = [&params, kernel] { std::apply(kernel, params); };
  using Body = decltype(body);
  return detail::run_grid({reinterpret_cast<detail::AnyKernel>(kernel),
                           grid.dims(),
                           block,
                           dynamic_shared,
                           {&detail::invoke_body<Body>, &body},
                           grid.site()});
}

// Mirrors cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
// bytes): launches of `kernel` may then use up to `bytes` of dynamic shared
// memory, which may not exceed kMaxDynamicSharedOptIn.
template <class... Params>
Error set_max_dynamic_shared(void (*kernel)(Params...), size_t bytes) {
  return detail::set_max_dynamic_shared(reinterpret_cast<detail::AnyKernel>(kernel), bytes);
}

// Waits for all launched work. Emulated launches are synchronous: nothing to do.
inline Error synchronize() {
  return Error();
}

inline constexpr bool kEmulated = true;

}  // namespace SIMT_NS
}  // namespace simt

#include "kernels/simt/device_api.h"
