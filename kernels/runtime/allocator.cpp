#include "kernels/runtime/allocator.h"

#include <algorithm>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define MT_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define MT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define MT_POISON(p, n) ((void)(p), (void)(n))
#define MT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace medtex::gpu {

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = std::max<size_t>(1, (bytes + kRound - 1) / kRound) * kRound;
  std::lock_guard<std::mutex> lock(mutex_);
  void* p = nullptr;
  size_t got = size;
  auto it = cache_.lower_bound(size);
  if (it != cache_.end() && it->first - size <= it->first / 4 + (size_t{64} << 10)) {
    got = it->first;
    p = it->second;
    cache_.erase(it);
    stats_.cached_bytes -= got;
    ++stats_.cache_hits;
  } else {
    p = raw_malloc_(size);
    if (p == nullptr && !cache_.empty()) {
      for (auto& [s, q] : cache_) {
        if (host_memory_) MT_UNPOISON(q, s);
        raw_free_(q);
        ++stats_.raw_frees;
      }
      cache_.clear();
      stats_.cached_bytes = 0;
      p = raw_malloc_(size);
    }
    if (p == nullptr) return nullptr;
    ++stats_.raw_allocs;
  }
  if (host_memory_) {
    MT_UNPOISON(p, bytes);
    MT_POISON(static_cast<char*>(p) + bytes, got - bytes);
  }
  live_.emplace(p, got);
  stats_.in_use_bytes += got;
  stats_.peak_in_use_bytes = std::max(stats_.peak_in_use_bytes, stats_.in_use_bytes);
  ++stats_.live_blocks;
  return p;
}

void CachingAllocator::free(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = live_.find(p);
  if (it == live_.end()) return;  // not ours: a bug upstream, but never a double free here
  const size_t size = it->second;
  live_.erase(it);
  if (host_memory_) MT_POISON(p, size);
  stats_.in_use_bytes -= size;
  --stats_.live_blocks;
  cache_.emplace(size, p);
  stats_.cached_bytes += size;
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [size, p] : cache_) {
    if (host_memory_) MT_UNPOISON(p, size);
    raw_free_(p);
    ++stats_.raw_frees;
  }
  cache_.clear();
  stats_.cached_bytes = 0;
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

}  // namespace medtex::gpu
