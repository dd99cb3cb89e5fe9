// A caching allocator for device memory: freed blocks go to a free list and
// serve later requests of a similar size, so a training loop in steady state
// calls cudaMalloc (slow, and synchronising) only while the first steps run.
//
// Sizes are rounded up to 512 bytes. A request takes the smallest cached
// block that fits and wastes at most a quarter of it plus 64 KiB; otherwise
// it allocates fresh. When fresh allocation fails, every cached block is
// released and it is tried once more before the error. Blocks are never split
// or merged: simple, and enough for the fixed shapes of a training loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <unordered_map>

namespace medtex::gpu {

struct AllocatorStats {
  size_t in_use_bytes = 0;   // handed out and not yet freed (rounded sizes)
  size_t cached_bytes = 0;   // freed and kept for reuse
  size_t peak_in_use_bytes = 0;
  int64_t raw_allocs = 0;    // calls to the backend's malloc that succeeded
  int64_t raw_frees = 0;
  int64_t cache_hits = 0;    // requests served from the cache
  int64_t live_blocks = 0;   // blocks handed out and not yet freed
};

class CachingAllocator {
 public:
  using RawMalloc = void* (*)(size_t);
  using RawFree = void (*)(void*);

  // host_memory: the blocks are host memory (the emulator's). Under
  // AddressSanitizer the allocator then poisons what no tensor owns: the
  // rounding slack past each request and every cached block, so a kernel
  // that reads past its tensor is caught even though the block is bigger.
  CachingAllocator(RawMalloc raw_malloc, RawFree raw_free, bool host_memory = false)
      : raw_malloc_(raw_malloc), raw_free_(raw_free), host_memory_(host_memory) {}
  ~CachingAllocator() { release_cached(); }
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  static constexpr size_t kRound = 512;

  // nullptr when the backend is out of memory even after emptying the cache.
  void* allocate(size_t bytes);
  // p must come from allocate() of this allocator (nullptr is ignored).
  void free(void* p);
  // Gives every cached block back to the backend.
  void release_cached();
  AllocatorStats stats() const;

 private:
  RawMalloc raw_malloc_;
  RawFree raw_free_;
  bool host_memory_;
  mutable std::mutex mutex_;
  std::multimap<size_t, void*> cache_;         // rounded size -> free block
  std::unordered_map<void*, size_t> live_;     // handed-out block -> rounded size
  AllocatorStats stats_;
};

}  // namespace medtex::gpu
