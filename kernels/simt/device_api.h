// The device side of the SIMT emulator: what CUDA kernel source uses, as
// plain C++. Included through simt.h in the emulated build only.
//
// Synchronising calls (__syncthreads, warp collectives) are macros so that
// each textual call site carries its file, line, function and a __COUNTER__
// id: the scheduler tells barriers apart by site and names them in errors.
#pragma once

#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/simt/emulator.h"

// ---- qualifiers ---------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// __restrict__ is a GNU keyword already. __noinline__ is deliberately not
// defined: libstdc++ writes __attribute__((__noinline__)), which the macro
// would break.

// Plain `__shared__`: one copy per OS thread, and a block runs on one OS
// thread from start to end, so each running block has its own. It is NOT
// poisoned: it keeps what the previous block on the worker left (README:
// limits). Kernels should declare static shared memory with SIMT_SHARED.
#define __shared__ static thread_local

// Static shared memory that is poisoned at the start of every block:
// `SIMT_SHARED(float, tile, [32][33]);` declares `float (&tile)[32][33]`,
// `SIMT_SHARED(float, total);` a `float&`. Under nvcc it is
// `__shared__ __align__(16) float tile[32][33];` (simt.h). The first thread of
// a block to reach the declaration carves the array from its worker's arena
// and fills it with 0xFF bytes (NaN as float, -1 as int); the block's other
// threads get the same array. The element type must not contain a comma
// (use an alias).
#define SIMT_SHARED(T, name, ...)                                            \
  static constinit ::simt::detail::StaticSharedSite simt_shared_site_##name{ \
      #name, __FILE__, __LINE__, sizeof(T __VA_ARGS__),                      \
      ::simt::detail::static_shared_alignment<T __VA_ARGS__>()};             \
  auto& name = *::simt::detail::static_shared<T __VA_ARGS__>(simt_shared_site_##name)

// Dynamic shared memory: `SIMT_DYNAMIC_SHARED(float, red);` declares
// `float* red` pointing at the launch's dynamic shared memory, which is filled
// with 0xFF bytes (NaN as float, -1 as int) at the start of every block.
#define SIMT_DYNAMIC_SHARED(T, name) \
  T* name = reinterpret_cast<T*>(::simt::detail::current_dynamic_shared)

// `#pragma unroll` for both compilers: nvcc unrolls, the emulator ignores it.
#define SIMT_UNROLL

// ---- built-in variables -------------------------------------------------------
#define threadIdx (*::simt::detail::current_thread_idx)
#define blockIdx (::simt::detail::current_block->block_idx)
#define blockDim (::simt::detail::current_block->block_dim)
#define gridDim (::simt::detail::current_block->grid_dim)
inline constexpr int warpSize = 32;

// ---- synchronisation entry points (implemented in scheduler.cpp) ----------------
namespace simt::detail {

enum class Collective : uint8_t {
  kSyncWarp,
  kActiveMask,
  kShflIdx,
  kShflUp,
  kShflDown,
  kShflXor,
  kBallot,
  kAny,
  kAll,
  kReduceAddSigned,
  kReduceAddUnsigned,
  kReduceMinSigned,
  kReduceMinUnsigned,
  kReduceMaxSigned,
  kReduceMaxUnsigned,
  kReduceAnd,
  kReduceOr,
  kReduceXor,
};

// Waits until every thread of the block still running has reached the same
// barrier; returns how many of them passed a non-zero predicate, and in
// *participants how many took part.
int barrier(const SyncSite& site, int predicate, int* participants);

// Publishes `value` for the lanes named in `mask` and waits until all of them
// that have not exited arrive at a collective with the same mask; returns this
// lane's result. `arg` is the source lane, delta or lane mask of a shuffle.
uint64_t warp_collective(const SyncSite& site, Collective kind, unsigned mask, uint64_t value,
                         int arg, int width);

// Ends the calling CUDA thread's kernel with an error (reported by the launch).
[[noreturn]] void kernel_failure(const SyncSite& site, const char* message);

// Shuffles move up to 8 bytes: every type CUDA shuffles (int, float, double,
// long long, __half2 packed as unsigned...) fits.
template <class T>
uint64_t to_bits(T value) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>,
                "warp shuffles move trivially copyable values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  return bits;
}
template <class T>
T from_bits(uint64_t bits) {
  T value;
  std::memcpy(&value, &bits, sizeof(T));
  return value;
}

template <class T>
T shuffle(const SyncSite& site, Collective kind, unsigned mask, T value, int arg, int width) {
  return from_bits<T>(warp_collective(site, kind, mask, to_bits(value), arg, width));
}

inline int syncthreads_count(const SyncSite& site, int predicate) {
  int participants = 0;
  return barrier(site, predicate != 0, &participants);
}
inline int syncthreads_and(const SyncSite& site, int predicate) {
  int participants = 0;
  return barrier(site, predicate != 0, &participants) == participants;
}
inline int syncthreads_or(const SyncSite& site, int predicate) {
  int participants = 0;
  return barrier(site, predicate != 0, &participants) != 0;
}

}  // namespace simt::detail

#define SIMT_SYNC_SITE_(what)                       \
  ::simt::detail::SyncSite {                        \
    what, __FILE__, __func__, __LINE__, __COUNTER__ \
  }

#define __syncthreads() \
  static_cast<void>(::simt::detail::syncthreads_count(SIMT_SYNC_SITE_("__syncthreads"), 0))
#define __syncthreads_count(pred) \
  ::simt::detail::syncthreads_count(SIMT_SYNC_SITE_("__syncthreads_count"), (pred))
#define __syncthreads_and(pred) \
  ::simt::detail::syncthreads_and(SIMT_SYNC_SITE_("__syncthreads_and"), (pred))
#define __syncthreads_or(pred) \
  ::simt::detail::syncthreads_or(SIMT_SYNC_SITE_("__syncthreads_or"), (pred))

// ---- warp primitives ------------------------------------------------------------
// Exchanged within the warp only. A lane waits until every lane of its mask
// that has not exited arrives; a lane the mask names that never arrives is a
// deadlock, reported with where each thread waits. Reading from a lane that
// is not taking part (undefined on the GPU) yields all-one bits: NaN or -1.

#define __syncwarp(...)                                                     \
  static_cast<void>(::simt::detail::warp_collective(                        \
      SIMT_SYNC_SITE_("__syncwarp"), ::simt::detail::Collective::kSyncWarp, \
      ::simt::detail::syncwarp_mask(__VA_ARGS__), 0, 0, 32))
// The lanes that reach this call together: those of the warp waiting at the
// same __activemask() site once no thread of the block can move on.
#define __activemask()                                   \
  static_cast<unsigned>(::simt::detail::warp_collective( \
      SIMT_SYNC_SITE_("__activemask"), ::simt::detail::Collective::kActiveMask, 0, 0, 0, 32))

#define __shfl_sync(...) ::simt::detail::shfl_sync(SIMT_SYNC_SITE_("__shfl_sync"), __VA_ARGS__)
#define __shfl_up_sync(...) \
  ::simt::detail::shfl_up_sync(SIMT_SYNC_SITE_("__shfl_up_sync"), __VA_ARGS__)
#define __shfl_down_sync(...) \
  ::simt::detail::shfl_down_sync(SIMT_SYNC_SITE_("__shfl_down_sync"), __VA_ARGS__)
#define __shfl_xor_sync(...) \
  ::simt::detail::shfl_xor_sync(SIMT_SYNC_SITE_("__shfl_xor_sync"), __VA_ARGS__)

#define __ballot_sync(mask, pred)                                                            \
  static_cast<unsigned>(::simt::detail::warp_collective(SIMT_SYNC_SITE_("__ballot_sync"),    \
                                                        ::simt::detail::Collective::kBallot, \
                                                        (mask), (pred) != 0, 0, 32))
#define __any_sync(mask, pred)                                                               \
  static_cast<int>(::simt::detail::warp_collective(SIMT_SYNC_SITE_("__any_sync"),            \
                                                   ::simt::detail::Collective::kAny, (mask), \
                                                   (pred) != 0, 0, 32))
#define __all_sync(mask, pred)                                                               \
  static_cast<int>(::simt::detail::warp_collective(SIMT_SYNC_SITE_("__all_sync"),            \
                                                   ::simt::detail::Collective::kAll, (mask), \
                                                   (pred) != 0, 0, 32))

// sm_80 warp reductions over int and unsigned.
#define SIMT_WARP_REDUCE_(name, op, mask, value) \
  ::simt::detail::warp_reduce(SIMT_SYNC_SITE_(name), ::simt::detail::ReduceOp::op, (mask), (value))
#define __reduce_add_sync(mask, value) SIMT_WARP_REDUCE_("__reduce_add_sync", kAdd, mask, value)
#define __reduce_min_sync(mask, value) SIMT_WARP_REDUCE_("__reduce_min_sync", kMin, mask, value)
#define __reduce_max_sync(mask, value) SIMT_WARP_REDUCE_("__reduce_max_sync", kMax, mask, value)
#define __reduce_and_sync(mask, value) \
  SIMT_WARP_REDUCE_("__reduce_and_sync", kAnd, mask, static_cast<unsigned>(value))
#define __reduce_or_sync(mask, value) \
  SIMT_WARP_REDUCE_("__reduce_or_sync", kOr, mask, static_cast<unsigned>(value))
#define __reduce_xor_sync(mask, value) \
  SIMT_WARP_REDUCE_("__reduce_xor_sync", kXor, mask, static_cast<unsigned>(value))

namespace simt::detail {

inline unsigned syncwarp_mask() {
  return 0xffffffffu;
}
inline unsigned syncwarp_mask(unsigned mask) {
  return mask;
}

// The shuffles, with CUDA's signatures; width is a power of two up to 32.
template <class T>
T shfl_sync(const SyncSite& site, unsigned mask, T var, int src_lane, int width = warpSize) {
  return shuffle(site, Collective::kShflIdx, mask, var, src_lane, width);
}
template <class T>
T shfl_up_sync(const SyncSite& site, unsigned mask, T var, unsigned delta, int width = warpSize) {
  return shuffle(site, Collective::kShflUp, mask, var, static_cast<int>(delta), width);
}
template <class T>
T shfl_down_sync(const SyncSite& site, unsigned mask, T var, unsigned delta, int width = warpSize) {
  return shuffle(site, Collective::kShflDown, mask, var, static_cast<int>(delta), width);
}
template <class T>
T shfl_xor_sync(const SyncSite& site, unsigned mask, T var, int lane_mask, int width = warpSize) {
  return shuffle(site, Collective::kShflXor, mask, var, lane_mask, width);
}

enum class ReduceOp { kAdd, kMin, kMax, kAnd, kOr, kXor };

// One body for both types: `is_signed` picks the comparison and the kind.
inline uint64_t warp_reduce_bits(const SyncSite& site, ReduceOp op, unsigned mask, uint64_t bits,
                                 bool is_signed) {
  Collective kind = Collective::kReduceAnd;
  switch (op) {
    case ReduceOp::kAdd:
      kind = is_signed ? Collective::kReduceAddSigned : Collective::kReduceAddUnsigned;
      break;
    case ReduceOp::kMin:
      kind = is_signed ? Collective::kReduceMinSigned : Collective::kReduceMinUnsigned;
      break;
    case ReduceOp::kMax:
      kind = is_signed ? Collective::kReduceMaxSigned : Collective::kReduceMaxUnsigned;
      break;
    case ReduceOp::kAnd:
      kind = Collective::kReduceAnd;
      break;
    case ReduceOp::kOr:
      kind = Collective::kReduceOr;
      break;
    case ReduceOp::kXor:
      kind = Collective::kReduceXor;
      break;
  }
  return warp_collective(site, kind, mask, bits, 0, warpSize);
}
inline int warp_reduce(const SyncSite& site, ReduceOp op, unsigned mask, int value) {
  return from_bits<int>(warp_reduce_bits(site, op, mask, to_bits(value), true));
}
inline unsigned warp_reduce(const SyncSite& site, ReduceOp op, unsigned mask, unsigned value) {
  return from_bits<unsigned>(warp_reduce_bits(site, op, mask, to_bits(value), false));
}

}  // namespace simt::detail

// ---- memory fences and miscellany -------------------------------------------------
// Blocks run concurrently on several OS threads, so fences and atomics are
// real ones. Within a block, threads interleave only at synchronisation
// points, so the emulator never shows a reordering a GPU could (README).
inline void __threadfence_block() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
inline void __threadfence() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
inline void __threadfence_system() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}
inline void __nanosleep(unsigned) {}
#define __trap() ::simt::detail::kernel_failure(SIMT_SYNC_SITE_("__trap"), "__trap() called")

// Cache-hinted loads and stores are plain loads and stores.
template <class T>
inline T __ldg(const T* p) {
  return *p;
}
template <class T>
inline T __ldcg(const T* p) {
  return *p;
}
template <class T>
inline T __ldcs(const T* p) {
  return *p;
}
template <class T>
inline void __stcg(T* p, T v) {
  *p = v;
}
template <class T>
inline void __stcs(T* p, T v) {
  *p = v;
}

// ---- atomics --------------------------------------------------------------------
// CUDA atomics are relaxed; std::atomic_ref gives the same on plain memory
// (global or shared). Overloads, not templates, so that atomicAdd(unsigned*, 1)
// converts its argument as CUDA's overloads do.
namespace simt::detail {
template <class T>
T atomic_add(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_add(v, std::memory_order_relaxed);
}
template <class T>
T atomic_sub(T* p, T v) {
  return std::atomic_ref<T>(*p).fetch_sub(v, std::memory_order_relaxed);
}
template <class T>
T atomic_exch(T* p, T v) {
  return std::atomic_ref<T>(*p).exchange(v, std::memory_order_relaxed);
}
template <class T>
T atomic_cas(T* p, T expected, T desired) {
  std::atomic_ref<T>(*p).compare_exchange_strong(expected, desired, std::memory_order_relaxed);
  return expected;  // the old value, whether or not the swap happened
}
// Replaces the value with update(old) atomically; returns the old value.
template <class T, class Update>
T atomic_update(T* p, Update update) {
  std::atomic_ref<T> ref(*p);
  T old = ref.load(std::memory_order_relaxed);
  while (!ref.compare_exchange_weak(old, update(old), std::memory_order_relaxed)) {
  }
  return old;
}
}  // namespace simt::detail

inline int atomicAdd(int* p, int v) {
  return simt::detail::atomic_add(p, v);
}
inline unsigned atomicAdd(unsigned* p, unsigned v) {
  return simt::detail::atomic_add(p, v);
}
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return simt::detail::atomic_add(p, v);
}
inline float atomicAdd(float* p, float v) {
  return simt::detail::atomic_add(p, v);
}
inline double atomicAdd(double* p, double v) {
  return simt::detail::atomic_add(p, v);
}
inline int atomicSub(int* p, int v) {
  return simt::detail::atomic_sub(p, v);
}
inline unsigned atomicSub(unsigned* p, unsigned v) {
  return simt::detail::atomic_sub(p, v);
}

inline int atomicExch(int* p, int v) {
  return simt::detail::atomic_exch(p, v);
}
inline unsigned atomicExch(unsigned* p, unsigned v) {
  return simt::detail::atomic_exch(p, v);
}
inline unsigned long long atomicExch(unsigned long long* p, unsigned long long v) {
  return simt::detail::atomic_exch(p, v);
}
inline float atomicExch(float* p, float v) {
  return simt::detail::atomic_exch(p, v);
}

inline int atomicCAS(int* p, int compare, int v) {
  return simt::detail::atomic_cas(p, compare, v);
}
inline unsigned atomicCAS(unsigned* p, unsigned compare, unsigned v) {
  return simt::detail::atomic_cas(p, compare, v);
}
inline unsigned long long atomicCAS(unsigned long long* p, unsigned long long compare,
                                    unsigned long long v) {
  return simt::detail::atomic_cas(p, compare, v);
}
inline unsigned short atomicCAS(unsigned short* p, unsigned short compare, unsigned short v) {
  return simt::detail::atomic_cas(p, compare, v);
}

#define SIMT_ATOMIC_MIN_MAX_(T)                                                      \
  inline T atomicMax(T* p, T v) {                                                    \
    return simt::detail::atomic_update(p, [v](T old) { return old < v ? v : old; }); \
  }                                                                                  \
  inline T atomicMin(T* p, T v) {                                                    \
    return simt::detail::atomic_update(p, [v](T old) { return v < old ? v : old; }); \
  }
SIMT_ATOMIC_MIN_MAX_(int)
SIMT_ATOMIC_MIN_MAX_(unsigned)
SIMT_ATOMIC_MIN_MAX_(long long)
SIMT_ATOMIC_MIN_MAX_(unsigned long long)
#undef SIMT_ATOMIC_MIN_MAX_

#define SIMT_ATOMIC_BITWISE_(T)                                            \
  inline T atomicAnd(T* p, T v) {                                          \
    return std::atomic_ref<T>(*p).fetch_and(v, std::memory_order_relaxed); \
  }                                                                        \
  inline T atomicOr(T* p, T v) {                                           \
    return std::atomic_ref<T>(*p).fetch_or(v, std::memory_order_relaxed);  \
  }                                                                        \
  inline T atomicXor(T* p, T v) {                                          \
    return std::atomic_ref<T>(*p).fetch_xor(v, std::memory_order_relaxed); \
  }
SIMT_ATOMIC_BITWISE_(int)
SIMT_ATOMIC_BITWISE_(unsigned)
SIMT_ATOMIC_BITWISE_(unsigned long long)
#undef SIMT_ATOMIC_BITWISE_

// ((old >= limit) ? 0 : old + 1) and ((old == 0 || old > limit) ? limit : old - 1), as in CUDA.
inline unsigned atomicInc(unsigned* p, unsigned limit) {
  return simt::detail::atomic_update(p,
                                     [limit](unsigned old) { return old >= limit ? 0u : old + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
  return simt::detail::atomic_update(
      p, [limit](unsigned old) { return (old == 0 || old > limit) ? limit : old - 1; });
}

// ---- math intrinsics ------------------------------------------------------------
// The fast-math intrinsics are computed exactly (the GPU's are approximate to
// a few ulp), so compare emulated and GPU results with a tolerance.
//
// glibc's <math.h> declares __expf, __logf, __sinf ... as extern "C" (its
// internal names) but libm does not export them: a C++ definition would
// conflict with the declaration and no definition fails to link. So they are
// defined here as extern "C" inline, matching glibc's declarations.
extern "C" {
inline float __expf(float x) noexcept {
  return std::exp(x);
}
inline float __exp10f(float x) noexcept {
  return std::pow(10.0f, x);
}
inline float __logf(float x) noexcept {
  return std::log(x);
}
inline float __log2f(float x) noexcept {
  return std::log2(x);
}
inline float __log10f(float x) noexcept {
  return std::log10(x);
}
inline float __powf(float x, float y) noexcept {
  return std::pow(x, y);
}
inline float __sinf(float x) noexcept {
  return std::sin(x);
}
inline float __cosf(float x) noexcept {
  return std::cos(x);
}
inline float __tanf(float x) noexcept {
  return std::tan(x);
}
inline void __sincosf(float x, float* s, float* c) noexcept {
  *s = std::sin(x);
  *c = std::cos(x);
}
}
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float __frcp_rn(float x) {
  return 1.0f / x;
}
inline float __fsqrt_rn(float x) {
  return std::sqrt(x);
}
inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fmaf_rn(float a, float b, float c) {
  return std::fma(a, b, c);
}
inline float rsqrtf(float x) {
  return 1.0f / std::sqrt(x);
}
inline double rsqrt(double x) {
  return 1.0 / std::sqrt(x);
}
inline float __saturatef(float x) {
  return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f;
}  // NaN -> 0
inline int __float2int_rn(float x) {
  return static_cast<int>(std::nearbyint(x));
}
inline int __float2int_rz(float x) {
  return static_cast<int>(x);
}
inline float __int2float_rn(int x) {
  return static_cast<float>(x);
}
inline int __float_as_int(float x) {
  return std::bit_cast<int>(x);
}
inline unsigned __float_as_uint(float x) {
  return std::bit_cast<unsigned>(x);
}
inline float __int_as_float(int x) {
  return std::bit_cast<float>(x);
}
inline float __uint_as_float(unsigned x) {
  return std::bit_cast<float>(x);
}

// CUDA's host-and-device min/max overloads.
inline int min(int a, int b) {
  return b < a ? b : a;
}
inline int max(int a, int b) {
  return a < b ? b : a;
}
inline unsigned min(unsigned a, unsigned b) {
  return b < a ? b : a;
}
inline unsigned max(unsigned a, unsigned b) {
  return a < b ? b : a;
}
inline long long min(long long a, long long b) {
  return b < a ? b : a;
}
inline long long max(long long a, long long b) {
  return a < b ? b : a;
}
inline unsigned long long min(unsigned long long a, unsigned long long b) {
  return b < a ? b : a;
}
inline unsigned long long max(unsigned long long a, unsigned long long b) {
  return a < b ? b : a;
}
inline float min(float a, float b) {
  return std::fmin(a, b);
}
inline float max(float a, float b) {
  return std::fmax(a, b);
}
inline double min(double a, double b) {
  return std::fmin(a, b);
}
inline double max(double a, double b) {
  return std::fmax(a, b);
}

// ---- bit intrinsics ----------------------------------------------------------------
inline int __popc(unsigned x) {
  return std::popcount(x);
}
inline int __popcll(unsigned long long x) {
  return std::popcount(x);
}
inline int __clz(int x) {
  return std::countl_zero(static_cast<unsigned>(x));
}
inline int __clzll(long long x) {
  return std::countl_zero(static_cast<unsigned long long>(x));
}
inline int __ffs(int x) {
  return x == 0 ? 0 : std::countr_zero(static_cast<unsigned>(x)) + 1;
}
inline int __ffsll(long long x) {
  return x == 0 ? 0 : std::countr_zero(static_cast<unsigned long long>(x)) + 1;
}
inline unsigned __brev(unsigned x) {
  unsigned r = 0;
  for (int i = 0; i < 32; ++i) r |= ((x >> i) & 1u) << (31 - i);
  return r;
}
inline int __mulhi(int a, int b) {
  return static_cast<int>((static_cast<long long>(a) * b) >> 32);
}
inline unsigned __umulhi(unsigned a, unsigned b) {
  return static_cast<unsigned>((static_cast<unsigned long long>(a) * b) >> 32);
}
