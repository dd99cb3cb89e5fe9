#include "kernels/simt/block_scheduler.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <sstream>

#if defined(SIMT_ASAN)
#include <sanitizer/asan_interface.h>
#endif

// The path from a kernel's __syncthreads() to the switch is forced inline
// and its error paths are kept out of line: every frame on it is stack that
// up to 1024 fibers touch at every switch. (What the switch costs is mostly
// those cache misses.)
#define SIMT_HOT_INLINE inline __attribute__((always_inline))

namespace simt::detail {

using boost::context::detail::fcontext_t;
using boost::context::detail::jump_fcontext;
using boost::context::detail::make_fcontext;
using boost::context::detail::transfer_t;

namespace {

constexpr unsigned kFullWarp = 0xffffffffu;
// What a lane reads from a lane that takes no part in the collective: all
// one bits, a NaN as float or double, -1 as an integer, so that a use shows.
constexpr uint64_t kPoison = ~uint64_t{0};

// Thrown on a fiber to unwind a CUDA thread when its block fails. Not derived
// from std::exception, so kernel code catching those does not swallow it.
struct AbortBlock {};

thread_local BlockScheduler* running_scheduler = nullptr;

// The static shared memory arena of a worker. A kernel's arrays take at most
// kMaxStaticShared bytes laid out as nvcc would; here each also has a gap of
// kStaticGap bytes before it and its own alignment padding, so the arena is
// sized for the worst case of many small arrays (3072 arrays of 16 bytes need
// 3072 * (16 + 32 + 15) bytes). Pages never touched cost no memory.
constexpr size_t kStaticGap = 32;
constexpr size_t kStaticArenaBytes = 256 * 1024;
constexpr size_t kStaticArenaAlign = 4096;

// Numbers SIMT_SHARED sites across all workers; 0 means "not numbered".
std::atomic<uint32_t> next_static_site{1};

uint32_t static_site_number(StaticSharedSite& site) {
  uint32_t id = site.id.load(std::memory_order_relaxed);
  if (id != 0) return id;
  const uint32_t fresh = next_static_site.fetch_add(1, std::memory_order_relaxed);
  // Two workers may number the same site at once: the first number stays.
  if (site.id.compare_exchange_strong(id, fresh, std::memory_order_relaxed)) return fresh;
  return id;
}

size_t align_up(size_t n, size_t align) {
  return (n + align - 1) / align * align;
}

// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, well-mixed generator; the
// schedule only needs reproducible, evenly spread orders.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Fisher-Yates. The index is (32 random bits * i) >> 32, uniform enough for
// a schedule and without the division that made shuffling a visible cost.
void shuffle(std::vector<unsigned>& v, uint64_t& state) {
  for (uint64_t i = v.size(); i > 1; --i) {
    const uint64_t j = ((next_random(state) & 0xffffffffu) * i) >> 32;
    std::swap(v[i - 1], v[j]);
  }
}

bool same_site(const SyncSite& a, const SyncSite& b) {
  return a.id == b.id && a.line == b.line && (a.file == b.file || std::strcmp(a.file, b.file) == 0);
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

std::string where(const SyncSite& site) {
  std::ostringstream s;
  s << site.what << " at " << base_name(site.file) << ":" << site.line << " (in " << site.function
    << ")";
  return s.str();
}

std::string hex(unsigned mask) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08x", mask);
  return buffer;
}

bool is_shuffle(Collective kind) {
  return kind == Collective::kShflIdx || kind == Collective::kShflUp ||
         kind == Collective::kShflDown || kind == Collective::kShflXor;
}

// Which lane `lane` reads in a shuffle, following the PTX definition of
// shfl.sync: only the low 5 bits of the lane or offset count, and a source
// outside the lane's segment of `width` lanes (for xor: past its end, so
// earlier segments are allowed) is invalid and the lane keeps its own value.
bool shuffle_source(Collective kind, unsigned lane, int arg, int width, unsigned* source) {
  const int self = static_cast<int>(lane), b = arg & 31;
  const int first = self & ~(width - 1), last = first + width - 1;
  int j = 0;
  switch (kind) {
    case Collective::kShflIdx:
      j = first + (b & (width - 1));
      break;
    case Collective::kShflUp:
      j = self - b;
      break;
    case Collective::kShflDown:
      j = self + b;
      break;
    case Collective::kShflXor:
      j = self ^ b;
      break;
    default:
      return false;
  }
  if (j > last || (kind == Collective::kShflUp && j < first)) return false;
  *source = static_cast<unsigned>(j);
  return true;
}

}  // namespace

void BlockScheduler::FreeDeleter::operator()(unsigned char* p) const {
  std::free(p);
}

BlockScheduler& BlockScheduler::for_this_thread() {
  thread_local BlockScheduler scheduler;
  return scheduler;
}

BlockScheduler* BlockScheduler::running() {
  return running_scheduler;
}

void BlockScheduler::prepare(const BlockLaunch& launch) {
  launch_ = &launch;
  const dim3 b = launch.block;
  const unsigned threads = b.x * b.y * b.z;
  if (threads != threads_ || slots_.empty() || view_.block_dim.x != b.x ||
      view_.block_dim.y != b.y) {
    threads_ = threads;
    warps_ = (threads + 31) / 32;
    slots_.assign(threads, ThreadSlot{});
    for (unsigned i = 0; i < threads; ++i) {
      slots_[i].index = uint3{i % b.x, (i / b.x) % b.y, i / (b.x * b.y)};
      slots_[i].linear = i;
      slots_[i].warp = i / 32;
      slots_[i].lane = i % 32;
    }
    present_.assign(warps_, kFullWarp);
    if (threads % 32 != 0) present_.back() = (1u << (threads % 32)) - 1;
    alive_ = present_;
    waiting_.assign(warps_, 0u);
    start_order_.resize(threads);
    runnable_.reserve(threads);
  }
  view_.block_dim = b;
  view_.grid_dim = launch.grid;
  stacks_.set_stack_bytes(launch.config.stack_bytes);

  // Dynamic shared memory: at least one 16-byte granule so the pointer is
  // never null, 128-byte aligned like the GPU's. Under AddressSanitizer the
  // bytes past the launch's size are poisoned: reading past the end is caught.
  const size_t wanted = std::max<size_t>(launch.dynamic_shared, 16);
  if (wanted > shared_capacity_) {
    const size_t capacity = (wanted + 127) / 128 * 128;
    shared_.reset(static_cast<unsigned char*>(std::aligned_alloc(128, capacity)));
    if (!shared_) throw std::bad_alloc();
    shared_capacity_ = capacity;
  }
#if defined(SIMT_ASAN)
  ASAN_UNPOISON_MEMORY_REGION(shared_.get(), shared_capacity_);
  ASAN_POISON_MEMORY_REGION(shared_.get() + launch.dynamic_shared,
                            shared_capacity_ - launch.dynamic_shared);
#endif

  if (!static_arena_) {
    static_arena_.reset(
        static_cast<unsigned char*>(std::aligned_alloc(kStaticArenaAlign, kStaticArenaBytes)));
    if (!static_arena_) throw std::bad_alloc();
    static_used_ = 0;
#if defined(SIMT_ASAN)
    // Unpoisoned array by array as blocks declare them.
    ASAN_POISON_MEMORY_REGION(static_arena_.get(), kStaticArenaBytes);
#endif
  }
  static_peak_ = 0;
}

// A new block: every array of the previous one is forgotten (the table's
// entries no longer match its serial number) and, under AddressSanitizer,
// poisoned again.
void BlockScheduler::start_static_shared() {
#if defined(SIMT_ASAN)
  ASAN_POISON_MEMORY_REGION(static_arena_.get(), static_used_);
#endif
  static_used_ = 0;
  static_bytes_ = 0;
  ++static_table_.block;
  current_static_shared = &static_table_;
}

unsigned char* BlockScheduler::static_shared(StaticSharedSite& site) {
  const uint32_t id = static_site_number(site);
  if (id >= static_slots_.size()) {
    static_slots_.resize(std::max<size_t>({size_t{id} + 1, 2 * static_slots_.size(), 64}));
    static_table_.slots = static_slots_.data();
    static_table_.count = static_cast<uint32_t>(static_slots_.size());
  }
  StaticSharedSlot& slot = static_slots_[id];
  if (slot.block == static_table_.block) return slot.data;

  // The first thread of the block to get here: lay the array out as nvcc
  // would to check the limits, then carve it from the arena.
  const size_t total = align_up(static_bytes_, site.align) + site.bytes;
  static_peak_ = std::max(static_peak_, total);
  const size_t limit =
      launch_->dynamic_opt_in != 0
          ? std::min(kMaxStaticShared, kMaxDynamicSharedOptIn - launch_->dynamic_opt_in)
          : kDefaultMaxDynamicShared - launch_->dynamic_shared;
  if (total > limit) static_shared_over_limit(site, total);
  const size_t at = align_up(static_used_ + kStaticGap, site.align);
  if (site.align > kStaticArenaAlign || at + site.bytes > kStaticArenaBytes) {
    fail("SIMT_SHARED(" + std::string(site.name) + ") at " + base_name(site.file) + ":" +
         std::to_string(site.line) + ": the emulator's static shared memory arena cannot place " +
         "this array (alignment " + std::to_string(site.align) + ")");
    throw AbortBlock{};
  }
  unsigned char* data = static_arena_.get() + at;
#if defined(SIMT_ASAN)
  // The gap before the array stays poisoned: reading past the previous array,
  // or before this one, is an error.
  ASAN_UNPOISON_MEMORY_REGION(data, site.bytes);
  std::memset(data, 0xFF, site.bytes);
#else
  // The gap too, so that reading past the previous array reads NaN rather
  // than this one.
  std::memset(static_arena_.get() + static_used_, 0xFF, at + site.bytes - static_used_);
#endif
  static_used_ = at + site.bytes;
  static_bytes_ = total;
  slot = StaticSharedSlot{static_table_.block, data};
  return data;
}

// The launch asked for more shared memory than a GPU would give it: a
// configuration error, like too much dynamic shared memory, but found only
// now, when the declaration runs. (run_grid remembers the size, so the
// kernel's next launch is refused before anything runs.)
void BlockScheduler::static_shared_over_limit(const StaticSharedSite& site, size_t total) {
  std::ostringstream s;
  s << "SIMT_SHARED(" << site.name << ") at " << base_name(site.file) << ":" << site.line << ": ";
  if (total > kMaxStaticShared) {
    s << total << " bytes of static shared memory exceed the limit of " << kMaxStaticShared
      << " bytes (nvcc refuses the kernel); use dynamic shared memory";
  } else if (launch_->dynamic_opt_in != 0) {
    s << total << " bytes of static shared memory and the opt-in of " << launch_->dynamic_opt_in
      << " bytes of dynamic shared memory exceed the maximum of " << kMaxDynamicSharedOptIn
      << " bytes";
  } else {
    s << total << " bytes of static and " << launch_->dynamic_shared
      << " bytes of dynamic shared memory exceed the kernel's limit of " << kDefaultMaxDynamicShared
      << " bytes; more needs simt::set_max_dynamic_shared (cudaFuncSetAttribute) first";
  }
  fail(s.str(), kInvalidConfiguration);
  throw AbortBlock{};
}

bool BlockScheduler::run(uint64_t linear_block, std::string* failure) {
  const dim3 g = launch_->grid;
  view_.block_idx = uint3{static_cast<unsigned>(linear_block % g.x),
                          static_cast<unsigned>((linear_block / g.x) % g.y),
                          static_cast<unsigned>(linear_block / (uint64_t{g.x} * g.y))};
  for (ThreadSlot& t : slots_) t.has_waited = false;
  states_.assign(threads_, ThreadState::kNotStarted);
  std::fill(waiting_.begin(), waiting_.end(), 0u);
  alive_ = present_;
  failed_ = false;
  failure_code_ = kLaunchFailure;
  failure_.clear();

  // Each block's order depends only on the seed and the block, so a failure
  // reproduces with the same seed whatever the number of workers.
  rng_state_ = launch_->config.seed ^ (0x9e3779b97f4a7c15ull * (linear_block + 1));
  for (unsigned i = 0; i < threads_; ++i) start_order_[i] = i;
  switch (launch_->config.schedule) {
    case Schedule::kInOrder:
      break;
    case Schedule::kReverse:
      std::reverse(start_order_.begin(), start_order_.end());
      break;
    case Schedule::kRandom:
      shuffle(start_order_, rng_state_);
      break;
  }
  next_to_start_ = 0;

  if (launch_->dynamic_shared > 0) std::memset(shared_.get(), 0xFF, launch_->dynamic_shared);
  running_scheduler = this;
  current_block = &view_;
  current_dynamic_shared = shared_.get();
  start_static_shared();

  try {
    while (next_to_start_ < threads_ && !failed_) start_runner();
    while (!failed_) {
      collect_runnable();
      if (runnable_.empty()) {
        if (!resolve_stall()) break;
        continue;
      }
      for (unsigned i : runnable_) {
        resume(slots_[i]);
        if (failed_) break;
      }
    }
  } catch (const std::exception& e) {  // no memory for a stack: end the block cleanly
    fail(std::string("the emulator failed: ") + e.what());
  }
  if (failed_) abort_block();

  running_scheduler = nullptr;
  current_thread_idx = nullptr;
  current_block = nullptr;
  current_dynamic_shared = nullptr;
  current_static_shared = nullptr;
  current_ = nullptr;
  if (failed_) *failure = failure_;
  return !failed_;
}

// ---- fibers ---------------------------------------------------------------------

void BlockScheduler::runner_entry(transfer_t from) {
  auto* self = static_cast<BlockScheduler*>(from.data);
  self->scheduler_context_ = from.fctx;
  asan_finish_switch(nullptr, &self->native_stack_);
  self->run_threads();
  // The fiber ends: passing no fake-stack slot lets AddressSanitizer free it.
  self->fiber_exited_ = true;
  asan_start_switch(nullptr, self->native_stack_);
  jump_fcontext(self->scheduler_context_, nullptr);
  std::abort();  // a finished fiber is never resumed
}

void BlockScheduler::run_threads() {
  while (next_to_start_ < threads_ && !failed_) {
    ThreadSlot& thread = slots_[start_order_[next_to_start_++]];
    enter(thread);
    try {
      launch_->body.invoke(launch_->body.state);
    } catch (const AbortBlock&) {
      // Unwound because the block failed; the failure is already recorded.
    } catch (const std::exception& e) {
      fail("thread " + thread_name(thread) + " threw an exception: " + e.what());
    } catch (...) {
      fail("thread " + thread_name(thread) + " threw an exception of unknown type");
    }
    exit_thread(thread);
    // A thread that waited took this fiber over; the threads after it have
    // been started on other runners.
    if (thread.has_waited || failed_) return;
  }
}

void BlockScheduler::start_runner() {
  FiberStack* stack = stacks_.acquire();
  ++fibers_;
  switch_to(make_fcontext(stack->top(), stack->size(), &runner_entry), stack);
}

SIMT_HOT_INLINE void BlockScheduler::resume(ThreadSlot& thread) {
  enter(thread);
  switch_to(thread.fiber, thread.stack);
}

SIMT_HOT_INLINE void BlockScheduler::switch_to(fcontext_t context, FiberStack* stack) {
  running_stack_ = stack;
  fiber_exited_ = false;
  asan_start_switch(&native_fake_stack_, stack->bounds());
  const transfer_t back = jump_fcontext(context, this);
  asan_finish_switch(native_fake_stack_, nullptr);
  ++switches_;
  if (fiber_exited_) {
    stacks_.release(stack);
    return;
  }
  // The fiber suspended in the thread it was running: that thread owns it now.
  current_->fiber = back.fctx;
  current_->stack = stack;
}

SIMT_HOT_INLINE void BlockScheduler::suspend(ThreadSlot& thread) {
  thread.has_waited = true;
  FiberStack* own = running_stack_;
  asan_start_switch(own->asan_fake_stack(), native_stack_);
  const transfer_t back = jump_fcontext(scheduler_context_, nullptr);
  asan_finish_switch(*own->asan_fake_stack(), nullptr);
  scheduler_context_ = back.fctx;
  if (aborting_) throw AbortBlock{};
}

SIMT_HOT_INLINE void BlockScheduler::enter(ThreadSlot& thread) {
  current_ = &thread;
  current_thread_idx = &thread.index;
  states_[thread.linear] = ThreadState::kRunning;
}

void BlockScheduler::exit_thread(ThreadSlot& thread) {
  states_[thread.linear] = ThreadState::kExited;
  alive_[thread.warp] &= ~(1u << thread.lane);
}

// ---- scheduling -----------------------------------------------------------------

void BlockScheduler::collect_runnable() {
  runnable_.clear();
  for (unsigned i = 0; i < threads_; ++i) {
    if (states_[i] == ThreadState::kReady) runnable_.push_back(i);
  }
  switch (launch_->config.schedule) {
    case Schedule::kInOrder:
      break;
    case Schedule::kReverse:
      std::reverse(runnable_.begin(), runnable_.end());
      break;
    case Schedule::kRandom:
      shuffle(runnable_, rng_state_);
      break;
  }
}

// No thread can run. Release what can be released, in this order: warp
// collectives whose missing lanes have exited since, __activemask() groups,
// then the barrier. Returns false when the block is finished or has failed.
bool BlockScheduler::resolve_stall() {
  bool released = false;
  for (ThreadSlot& t : slots_) {
    if (states_[t.linear] == ThreadState::kAtCollective && t.kind != Collective::kActiveMask) {
      released |= complete_collective(t);
      if (failed_) return false;
    }
  }
  if (released || release_active_masks()) return true;

  unsigned alive = 0, at_barrier = 0;
  const ThreadSlot* first = nullptr;
  bool divergent = false;
  for (const ThreadSlot& t : slots_) {
    if (states_[t.linear] == ThreadState::kExited) continue;
    ++alive;
    if (states_[t.linear] != ThreadState::kAtBarrier) continue;
    ++at_barrier;
    if (first == nullptr) {
      first = &t;
    } else if (!same_site(first->site, t.site)) {
      divergent = true;
    }
  }
  if (alive == 0) return false;
  if (at_barrier == alive && divergent) {
    fail("divergent __syncthreads: the threads wait at different barriers\n" + describe_threads());
    return false;
  }
  if (at_barrier == alive && launch_->config.strict_barriers && alive != threads_) {
    fail(where(first->site) + " reached after other threads of the block exited (strict mode)\n" +
         describe_threads());
    return false;
  }
  if (at_barrier != alive) {
    fail("deadlock: no thread can proceed" + describe_missing_lanes() + "\n" + describe_threads());
    return false;
  }
  int count = 0;
  for (ThreadSlot& t : slots_) {
    if (states_[t.linear] != ThreadState::kAtBarrier) continue;
    count += t.predicate;
    states_[t.linear] = ThreadState::kReady;
  }
  barrier_count_ = count;
  barrier_participants_ = static_cast<int>(alive);
  return true;
}

// `arrived` waits in a collective. If every lane its mask names has arrived in
// one with the same mask, or has exited, the collective completes and those
// lanes become ready. Returns whether it completed.
SIMT_HOT_INLINE bool BlockScheduler::complete_collective(const ThreadSlot& arrived) {
  // Most arrivals are not the last: one test saves a pass over the lanes.
  const unsigned lanes = arrived.mask & alive_[arrived.warp];
  if ((waiting_[arrived.warp] & lanes) != lanes) return false;
  return complete_arrived_collective(arrived);
}

bool BlockScheduler::complete_arrived_collective(const ThreadSlot& arrived) {
  const unsigned warp = arrived.warp, mask = arrived.mask;
  const unsigned lanes = mask & alive_[warp];
  ThreadSlot* base = &slots_[warp * 32];
  for (unsigned rest = lanes; rest != 0; rest &= rest - 1) {
    const ThreadSlot& t = base[std::countr_zero(rest)];
    if (states_[t.linear] != ThreadState::kAtCollective || t.mask != mask ||
        t.kind == Collective::kActiveMask) {
      return false;
    }
  }
  for (unsigned rest = lanes; rest != 0; rest &= rest - 1) {
    const ThreadSlot& t = base[std::countr_zero(rest)];
    if (t.kind != arrived.kind) {
      fail("warp " + std::to_string(warp) + ": lanes with mask " + hex(mask) +
           " meet in different collectives, " + where(arrived.site) + " and " + where(t.site) +
           "\n" + describe_threads());
      return false;
    }
  }
  compute_results(warp, lanes);
  return true;
}

void BlockScheduler::compute_results(unsigned warp, unsigned lanes) {
  waiting_[warp] &= ~lanes;
  ThreadSlot* base = &slots_[warp * 32];
  const Collective kind = base[std::countr_zero(lanes)].kind;
  uint64_t folded = 0;
  switch (kind) {
    case Collective::kBallot:
    case Collective::kAny:
    case Collective::kAll: {
      unsigned votes = 0;
      for (unsigned rest = lanes; rest != 0; rest &= rest - 1) {
        const unsigned lane = std::countr_zero(rest);
        if (base[lane].value != 0) votes |= 1u << lane;
      }
      folded = kind == Collective::kBallot ? votes
               : kind == Collective::kAny  ? (votes != 0)
                                           : (votes == lanes);
      break;
    }
    case Collective::kReduceAddSigned:
    case Collective::kReduceAddUnsigned:
    case Collective::kReduceMinSigned:
    case Collective::kReduceMinUnsigned:
    case Collective::kReduceMaxSigned:
    case Collective::kReduceMaxUnsigned:
    case Collective::kReduceAnd:
    case Collective::kReduceOr:
    case Collective::kReduceXor: {
      bool first = true;
      uint32_t acc = 0;
      for (unsigned rest = lanes; rest != 0; rest &= rest - 1) {
        const auto v = static_cast<uint32_t>(base[std::countr_zero(rest)].value);
        const auto sv = static_cast<int32_t>(v), sacc = static_cast<int32_t>(acc);
        if (first) {
          acc = v;
          first = false;
          continue;
        }
        switch (kind) {
          case Collective::kReduceAddSigned:
          case Collective::kReduceAddUnsigned:
            acc += v;
            break;
          case Collective::kReduceMinSigned:
            acc = static_cast<uint32_t>(std::min(sacc, sv));
            break;
          case Collective::kReduceMinUnsigned:
            acc = std::min(acc, v);
            break;
          case Collective::kReduceMaxSigned:
            acc = static_cast<uint32_t>(std::max(sacc, sv));
            break;
          case Collective::kReduceMaxUnsigned:
            acc = std::max(acc, v);
            break;
          case Collective::kReduceAnd:
            acc &= v;
            break;
          case Collective::kReduceOr:
            acc |= v;
            break;
          case Collective::kReduceXor:
            acc ^= v;
            break;
          default:
            break;
        }
      }
      folded = acc;
      break;
    }
    default:
      break;
  }
  for (unsigned rest = lanes; rest != 0; rest &= rest - 1) {
    ThreadSlot& t = base[std::countr_zero(rest)];
    if (is_shuffle(t.kind)) {
      unsigned source = 0;
      if (!shuffle_source(t.kind, t.lane, t.arg, t.width, &source)) {
        t.result = t.value;
      } else {
        t.result = (lanes >> source) & 1u ? base[source].value : kPoison;
      }
    } else {
      t.result = folded;
    }
    states_[t.linear] = ThreadState::kReady;
  }
}

// Lanes of a warp that wait at the same __activemask() site are the ones that
// got there together: that set is their answer.
bool BlockScheduler::release_active_masks() {
  bool released = false;
  for (unsigned w = 0; w < warps_; ++w) {
    ThreadSlot* base = &slots_[w * 32];
    unsigned waiting = 0;
    for (unsigned rest = alive_[w]; rest != 0; rest &= rest - 1) {
      const unsigned lane = std::countr_zero(rest);
      if (states_[base[lane].linear] == ThreadState::kAtCollective &&
          base[lane].kind == Collective::kActiveMask) {
        waiting |= 1u << lane;
      }
    }
    while (waiting != 0) {
      const SyncSite& site = base[std::countr_zero(waiting)].site;
      unsigned group = 0;
      for (unsigned rest = waiting; rest != 0; rest &= rest - 1) {
        const unsigned lane = std::countr_zero(rest);
        if (same_site(base[lane].site, site)) group |= 1u << lane;
      }
      for (unsigned rest = group; rest != 0; rest &= rest - 1) {
        ThreadSlot& t = base[std::countr_zero(rest)];
        t.result = group;
        states_[t.linear] = ThreadState::kReady;
      }
      waiting &= ~group;
      released = true;
    }
  }
  return released;
}

// ---- called on the fibers -------------------------------------------------------

SIMT_HOT_INLINE int BlockScheduler::barrier(const SyncSite& site, int predicate,
                                            int* participants) {
  ThreadSlot& me = *current_;
  states_[me.linear] = ThreadState::kAtBarrier;
  me.site = site;
  me.predicate = predicate;
  suspend(me);
  *participants = barrier_participants_;
  return barrier_count_;
}

SIMT_HOT_INLINE uint64_t BlockScheduler::warp_collective(const SyncSite& site, Collective kind,
                                                         unsigned mask, uint64_t value, int arg,
                                                         int width) {
  ThreadSlot& me = *current_;
  if (kind != Collective::kActiveMask &&
      (((mask >> me.lane) & 1u) == 0 || width < 1 || width > 32 ||
       !std::has_single_bit(static_cast<unsigned>(width)))) {
    invalid_collective(site, mask, width);
  }
  states_[me.linear] = ThreadState::kAtCollective;
  me.site = site;
  me.kind = kind;
  me.mask = mask;
  me.value = value;
  me.arg = arg;
  me.width = width;
  // Completing here, as the last lane arrives, saves a pass over the block;
  // the lanes still all wait, so the schedule decides who goes on first.
  if (kind != Collective::kActiveMask) {
    waiting_[me.warp] |= 1u << me.lane;
    complete_collective(me);
  }
  if (failed_) throw AbortBlock{};
  suspend(me);
  return me.result;
}

void BlockScheduler::invalid_collective(const SyncSite& site, unsigned mask, int width) {
  const ThreadSlot& me = *current_;
  if (((mask >> me.lane) & 1u) == 0) {
    fail_current(site, "lane " + std::to_string(me.lane) + " calls it with mask " + hex(mask) +
                           ", which does not name the lane itself");
  }
  fail_current(site, "width " + std::to_string(width) + " is not a power of two up to 32");
}

void BlockScheduler::fail_current(const SyncSite& site, const std::string& message) {
  fail("thread " + thread_name(*current_) + ": " + where(site) + ": " + message);
  throw AbortBlock{};
}

// ---- failure --------------------------------------------------------------------

void BlockScheduler::fail(const std::string& message, int code) {
  if (failed_) return;  // the first failure is the one worth reading
  failed_ = true;
  failure_code_ = code;
  std::ostringstream s;
  s << "block (" << view_.block_idx.x << "," << view_.block_idx.y << "," << view_.block_idx.z
    << "): " << message;
  failure_ = s.str();
}

// Unwinds every suspended thread (running destructors on its fiber) so that
// its stack can be reused.
void BlockScheduler::abort_block() {
  aborting_ = true;
  for (ThreadSlot& t : slots_) {
    if (t.has_waited && states_[t.linear] != ThreadState::kExited) resume(t);
  }
  aborting_ = false;
}

// For each warp collective that cannot complete: the lanes it waits for.
std::string BlockScheduler::describe_missing_lanes() const {
  std::ostringstream s;
  for (unsigned w = 0; w < warps_; ++w) {
    const ThreadSlot* base = &slots_[w * 32];
    unsigned reported = 0;
    for (unsigned rest = alive_[w]; rest != 0; rest &= rest - 1) {
      const ThreadSlot& t = base[std::countr_zero(rest)];
      if (states_[t.linear] != ThreadState::kAtCollective || t.kind == Collective::kActiveMask ||
          ((reported >> t.lane) & 1u) != 0) {
        continue;
      }
      unsigned arrived = 0;
      for (unsigned r = t.mask & alive_[w]; r != 0; r &= r - 1) {
        const ThreadSlot& u = base[std::countr_zero(r)];
        if (states_[u.linear] == ThreadState::kAtCollective && u.mask == t.mask)
          arrived |= 1u << u.lane;
      }
      reported |= arrived;
      s << "; warp " << w << " lanes " << hex(arrived) << " in " << t.site.what
        << " wait for lanes " << hex(t.mask & alive_[w] & ~arrived) << ", which never arrive";
    }
  }
  return s.str();
}

std::string BlockScheduler::thread_name(const ThreadSlot& thread) const {
  std::ostringstream s;
  s << "(" << thread.index.x << "," << thread.index.y << "," << thread.index.z << ")";
  return s.str();
}

// One line per run of consecutive threads in the same situation, e.g.
//   threads 0-15: wait in __shfl_down_sync at k.cuh:57 (in warp_sum) with mask 0xffffffff
std::string BlockScheduler::describe_threads() const {
  auto describe = [this](const ThreadSlot& t) -> std::string {
    switch (states_[t.linear]) {
      case ThreadState::kNotStarted:
        return "not started";
      case ThreadState::kRunning:
      case ThreadState::kReady:
        return "can run";
      case ThreadState::kExited:
        return "exited";
      case ThreadState::kAtBarrier:
        return "wait at " + where(t.site);
      case ThreadState::kAtCollective:
        return "wait in " + where(t.site) +
               (t.kind == Collective::kActiveMask ? "" : " with mask " + hex(t.mask));
    }
    return "";
  };
  constexpr int kMaxLines = 16;
  std::ostringstream s;
  int lines = 0, omitted = 0;
  for (unsigned i = 0; i < threads_;) {
    const std::string what = describe(slots_[i]);
    unsigned j = i + 1;
    while (j < threads_ && describe(slots_[j]) == what) ++j;
    if (lines < kMaxLines) {
      s << "  threads " << i;
      if (j - 1 > i) s << "-" << (j - 1);
      s << ": " << what << "\n";
      ++lines;
    } else {
      ++omitted;
    }
    i = j;
  }
  if (omitted > 0) s << "  (" << omitted << " more groups)\n";
  std::string text = s.str();
  if (!text.empty()) text.pop_back();
  return text;
}

// ---- the device API's entry points --------------------------------------------------

namespace {
[[noreturn, gnu::cold, gnu::noinline]] void outside_a_kernel(const SyncSite& site) {
  std::fprintf(stderr, "simt: %s called outside a kernel launched with simt::launch\n", site.what);
  std::abort();
}

SIMT_HOT_INLINE BlockScheduler& scheduler_for(const SyncSite& site) {
  BlockScheduler* scheduler = running_scheduler;
  if (scheduler == nullptr) outside_a_kernel(site);
  return *scheduler;
}
}  // namespace

int barrier(const SyncSite& site, int predicate, int* participants) {
  return scheduler_for(site).barrier(site, predicate, participants);
}

uint64_t warp_collective(const SyncSite& site, Collective kind, unsigned mask, uint64_t value,
                         int arg, int width) {
  return scheduler_for(site).warp_collective(site, kind, mask, value, arg, width);
}

void kernel_failure(const SyncSite& site, const char* message) {
  scheduler_for(site).fail_current(site, message);
}

unsigned char* allocate_static_shared(StaticSharedSite& site) {
  BlockScheduler* scheduler = running_scheduler;
  if (scheduler == nullptr) {
    std::fprintf(stderr,
                 "simt: SIMT_SHARED(%s) at %s:%d used outside a kernel launched with "
                 "simt::launch\n",
                 site.name, site.file, site.line);
    std::abort();
  }
  return scheduler->static_shared(site);
}

}  // namespace simt::detail
