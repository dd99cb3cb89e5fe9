// The block scheduler: runs the CUDA threads of one block as fibers and
// implements __syncthreads() and the warp collectives on top of them.
//
// How a block runs:
//  1. Threads are started in schedule order (in order, reverse, or a seeded
//     shuffle) by a *runner* fiber that calls the kernel body for one thread
//     after another, as a plain loop on one stack. A block whose threads never
//     synchronise therefore costs one fiber, not one per thread (the
//     barrier-free fast path; HIP-CPU probes thread 0 for the same purpose).
//  2. When a thread reaches a barrier or warp collective, the runner's fiber
//     becomes that thread's own and is suspended there; the scheduler starts
//     a fresh runner for the threads not yet started. So a kernel that
//     synchronises ends up with one fiber per thread, and one that only some
//     threads synchronise in still works.
//  3. Then, in rounds: every runnable thread, in schedule order, runs to its
//     next synchronisation point or its end. A warp collective completes as
//     soon as all its lanes (that have not exited) are there; a barrier
//     releases when every thread still running waits at the same one.
//  4. When no thread can move, the block is finished, or it is stuck: a
//     divergent barrier or a deadlock, reported with where every thread waits.
//
// One scheduler per OS thread (for_this_thread()); it runs one block at a time.
#pragma once

#include <boost/context/detail/fcontext.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kernels/simt/fiber_stack.h"
#include "kernels/simt/simt.h"

namespace simt::detail {

// What every block of one launch shares.
struct BlockLaunch {
  KernelBody body;
  dim3 grid;
  dim3 block;
  size_t dynamic_shared = 0;
  // The kernel's opt-in maximum of dynamic shared memory
  // (set_max_dynamic_shared), or 0 without one: it decides how much static
  // shared memory the kernel may declare (kMaxStaticShared).
  size_t dynamic_opt_in = 0;
  Config config;
};

enum class ThreadState : uint8_t {
  kNotStarted,
  kRunning,
  kReady,  // suspended, free to run
  kAtBarrier,
  kAtCollective,
  kExited,
};

// One CUDA thread of the running block.
// (Its state is kept apart, in BlockScheduler::states_, so that the scans
// over the block that every round makes read 1 KiB, not 100.)
struct ThreadSlot {
  uint3 index{};  // what threadIdx reads
  unsigned linear = 0, warp = 0, lane = 0;
  bool has_waited = false;  // it has suspended once, so it owns the fiber it runs on
  boost::context::detail::fcontext_t fiber = nullptr;  // where to resume it
  FiberStack* stack = nullptr;
  SyncSite site{};  // where it waits
  // The collective it waits in: its kind, mask, published value and argument,
  // and, once complete, its result.
  Collective kind = Collective::kSyncWarp;
  unsigned mask = 0;
  int arg = 0;
  int width = 32;
  uint64_t value = 0;
  uint64_t result = 0;
  int predicate = 0;  // __syncthreads_count and friends
};

class BlockScheduler {
 public:
  static BlockScheduler& for_this_thread();
  // The scheduler whose block is running on this OS thread, or nullptr.
  static BlockScheduler* running();

  // Sizes everything for a launch; call before run() on each OS thread.
  void prepare(const BlockLaunch& launch);
  // Runs block number `linear_block` (x fastest) to its end. On failure
  // returns false with what went wrong in *failure.
  bool run(uint64_t linear_block, std::string* failure);

  // The error code of the last failed run(): kLaunchFailure, or
  // kInvalidConfiguration when the kernel declared more shared memory than
  // its launch allows.
  int failure_code() const { return failure_code_; }
  // The most static shared memory (SIMT_SHARED) a block declared since
  // prepare(), counted as nvcc lays it out; over the limit when a block failed
  // for declaring too much.
  size_t static_shared_peak() const { return static_peak_; }

  uint64_t fibers_started() const { return fibers_; }
  uint64_t switches() const { return switches_; }
  void reset_counters() { fibers_ = switches_ = 0; }

  // Called by the device API on the fiber of the current thread.
  int barrier(const SyncSite& site, int predicate, int* participants);
  uint64_t warp_collective(const SyncSite& site, Collective kind, unsigned mask, uint64_t value,
                           int arg, int width);
  [[noreturn, gnu::cold]] void fail_current(const SyncSite& site, const std::string& message);
  // SIMT_SHARED's slow path (allocate_static_shared).
  unsigned char* static_shared(StaticSharedSite& site);
  // Kept out of line so the hot path's frame stays small.
  [[noreturn, gnu::cold, gnu::noinline]] void invalid_collective(const SyncSite& site,
                                                                 unsigned mask, int width);

 private:
  static void runner_entry(boost::context::detail::transfer_t from);
  void run_threads();
  void start_runner();
  void resume(ThreadSlot& thread);
  void switch_to(boost::context::detail::fcontext_t context, FiberStack* stack);
  void suspend(ThreadSlot& thread);
  void enter(ThreadSlot& thread);
  void exit_thread(ThreadSlot& thread);

  void collect_runnable();
  bool resolve_stall();
  bool complete_collective(const ThreadSlot& arrived);
  bool complete_arrived_collective(const ThreadSlot& arrived);
  void compute_results(unsigned warp, unsigned lanes);
  bool release_active_masks();
  void fail(const std::string& message, int code = kLaunchFailure);
  [[noreturn, gnu::cold, gnu::noinline]] void static_shared_over_limit(const StaticSharedSite& site,
                                                                       size_t total);
  void start_static_shared();
  void abort_block();
  std::string describe_threads() const;
  std::string describe_missing_lanes() const;
  std::string thread_name(const ThreadSlot& thread) const;

  const BlockLaunch* launch_ = nullptr;
  unsigned threads_ = 0, warps_ = 0;
  std::vector<ThreadSlot> slots_;
  std::vector<ThreadState> states_;  // by linear thread index
  std::vector<unsigned> waiting_;    // per warp: the lanes waiting in a collective
  std::vector<unsigned> present_;    // per warp: the lanes the block has
  std::vector<unsigned> alive_;      // per warp: the lanes that have not exited
  std::vector<unsigned> start_order_;
  unsigned next_to_start_ = 0;
  std::vector<unsigned> runnable_;
  uint64_t rng_state_ = 0;
  BlockView view_{};

  // Dynamic shared memory, reused from block to block.
  struct FreeDeleter {
    void operator()(unsigned char* p) const;
  };
  std::unique_ptr<unsigned char[], FreeDeleter> shared_;
  size_t shared_capacity_ = 0;

  // Static shared memory (SIMT_SHARED): one arena per worker, carved afresh
  // for every block. `static_bytes_` counts the block's arrays as nvcc would
  // lay them out, for the limits; in the arena each array sits after a
  // poisoned gap (a redzone under AddressSanitizer), so reading past one
  // array does not silently read the next.
  std::unique_ptr<unsigned char[], FreeDeleter> static_arena_;
  std::vector<StaticSharedSlot> static_slots_;  // by site number
  StaticSharedTable static_table_;              // what the device API reads
  size_t static_bytes_ = 0;                     // this block, nvcc's layout
  size_t static_used_ = 0;                      // this block, arena bytes
  size_t static_peak_ = 0;                      // max static_bytes_ since prepare()

  // Switching. The scheduler runs on the OS thread's own stack; fibers
  // return to `scheduler_context_`.
  StackPool stacks_;
  boost::context::detail::fcontext_t scheduler_context_ = nullptr;
  StackBounds native_stack_{};
  void* native_fake_stack_ = nullptr;
  FiberStack* running_stack_ = nullptr;
  bool fiber_exited_ = false;
  ThreadSlot* current_ = nullptr;

  bool failed_ = false;
  int failure_code_ = kLaunchFailure;
  bool aborting_ = false;
  std::string failure_;
  int barrier_count_ = 0;
  int barrier_participants_ = 0;

  uint64_t fibers_ = 0;
  uint64_t switches_ = 0;
};

}  // namespace simt::detail
