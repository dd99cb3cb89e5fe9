#include "kernels/runtime/gpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

namespace medtex::gpu {

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::kNone:
      return "none";
    case Backend::kCuda:
      return "cuda";
    case Backend::kEmulated:
      return "emulated";
  }
  return "?";
}

namespace {

// One opened backend: its raw layer, allocator, stream and staging buffer.
struct Opened {
  DeviceInfo info;
  void* stream = nullptr;
  std::unique_ptr<CachingAllocator> allocator;
  void* (*pinned_malloc)(size_t) = nullptr;
  void (*pinned_free)(void*) = nullptr;
  simt::Error (*copy)(void*, const void*, size_t, CopyKind, void*) = nullptr;
  simt::Error (*synchronize)(void*) = nullptr;
  simt::Error (*last_error)() = nullptr;
  void* staging = nullptr;  // pinned, for uploads from pageable memory
  size_t staging_bytes = 0;
};

std::atomic<Backend> g_active{Backend::kNone};
std::mutex g_mutex;
Opened* g_opened[3] = {nullptr, nullptr, nullptr};  // by Backend; never freed (process lifetime)

Opened& current() {
  const Backend b = g_active.load(std::memory_order_relaxed);
  MT_CHECK(b != Backend::kNone && g_opened[int(b)] != nullptr,
           "no GPU backend selected: call gpu::use() (the program's --device) first");
  return *g_opened[int(b)];
}

template <class Impl>
Opened* open(Backend b) {
  auto* o = new Opened();
  const simt::Error e = Impl::open_device(&o->info, &o->stream);
  if (!e.ok()) {
    delete o;
    fail("cannot open the ", backend_name(b), " backend: ", e.message());
  }
  o->allocator = std::make_unique<CachingAllocator>(Impl::raw_malloc, Impl::raw_free,
                                                    /*host_memory=*/b == Backend::kEmulated);
  o->pinned_malloc = Impl::pinned_malloc;
  o->pinned_free = Impl::pinned_free;
  o->copy = Impl::copy;
  o->synchronize = Impl::synchronize;
  o->last_error = Impl::last_error;
  return o;
}

// The raw layer of one build as a type, so that open<> is written once.
#define MT_RAW_LAYER(Name, ns)                                    \
  struct Name {                                                   \
    static constexpr auto open_device = &ns::open_device;         \
    static constexpr auto raw_malloc = &ns::raw_malloc;           \
    static constexpr auto raw_free = &ns::raw_free;               \
    static constexpr auto pinned_malloc = &ns::pinned_malloc;     \
    static constexpr auto pinned_free = &ns::pinned_free;         \
    static constexpr auto copy = &ns::copy;                       \
    static constexpr auto synchronize = &ns::synchronize;         \
    static constexpr auto last_error = &ns::last_error;           \
  };
MT_RAW_LAYER(EmuImpl, emu_impl)
#if MEDTEX_HAVE_CUDA
MT_RAW_LAYER(CudaImpl, cuda_impl)
#endif
#undef MT_RAW_LAYER

void checked(const simt::Error& e, const char* call, const char* what, size_t bytes) {
  MT_CHECK(e.ok(), "cuda: ", call, " of ", bytes, " bytes for ", what, ": ", e.message());
}

}  // namespace

const Probe& probe_cuda() {
  static const Probe probe = [] {
    Probe p;
#if MEDTEX_HAVE_CUDA
    std::string why;
    const int n = cuda_impl::device_count(&why);
    if (n <= 0) {
      p.reason = why.empty() ? "no CUDA device" : why;
      return p;
    }
    p.available = true;
#else
    p.reason = "this build has no CUDA (nvcc was not found when it was configured)";
#endif
    return p;
  }();
  return probe;
}

void use(Backend b) {
  std::lock_guard<std::mutex> lock(g_mutex);
  const Backend now = g_active.load();
  if (b == now) return;
  if (now != Backend::kNone && g_opened[int(now)] != nullptr) {
    const AllocatorStats s = g_opened[int(now)]->allocator->stats();
    MT_CHECK(s.live_blocks == 0, "cannot switch the GPU backend from ", backend_name(now), " to ",
             backend_name(b), " while ", s.live_blocks, " device allocations (",
             s.in_use_bytes, " bytes) live on it");
  }
  if (b == Backend::kCuda && g_opened[int(b)] == nullptr) {
    const Probe& p = probe_cuda();
    MT_CHECK(p.available, "CUDA unavailable: ", p.reason);
#if MEDTEX_HAVE_CUDA
    g_opened[int(b)] = open<CudaImpl>(b);
#endif
  }
  if (b == Backend::kEmulated && g_opened[int(b)] == nullptr) g_opened[int(b)] = open<EmuImpl>(b);
  g_active.store(b);
}

Backend active() { return g_active.load(std::memory_order_relaxed); }

const DeviceInfo& info() { return current().info; }
void* stream() { return current().stream; }

void* alloc(size_t bytes, const char* what) {
  Opened& o = current();
  void* p = o.allocator->allocate(bytes);
  if (p == nullptr) {
    const AllocatorStats s = o.allocator->stats();
    fail("cuda: out of device memory allocating ", bytes, " bytes for ", what, " (", s.in_use_bytes,
         " bytes in use by tensors)");
  }
  return p;
}

void free(void* p) {
  if (p != nullptr) current().allocator->free(p);
}

AllocatorStats allocator_stats() { return current().allocator->stats(); }
void empty_cache() { current().allocator->release_cached(); }

void copy_to_device(void* dst, const void* src, size_t bytes, const char* what) {
  Opened& o = current();
  if (bytes == 0) return;
  if (active() == Backend::kCuda && bytes >= (size_t{64} << 10)) {
    // Pageable -> pinned -> device: the DMA engine reads pinned memory directly.
    std::lock_guard<std::mutex> lock(g_mutex);
    if (o.staging_bytes < bytes) {
      if (o.staging) checked(o.synchronize(o.stream), "synchronize", what, bytes), o.pinned_free(o.staging);
      o.staging = o.pinned_malloc(bytes);
      o.staging_bytes = o.staging ? bytes : 0;
    }
    if (o.staging) {
      std::memcpy(o.staging, src, bytes);
      checked(o.copy(dst, o.staging, bytes, CopyKind::kHostToDevice, o.stream), "upload", what, bytes);
      return;
    }
  }
  checked(o.copy(dst, src, bytes, CopyKind::kHostToDevice, o.stream), "upload", what, bytes);
}

void copy_to_host(void* dst, const void* src, size_t bytes, const char* what) {
  Opened& o = current();
  checked(o.copy(dst, src, bytes, CopyKind::kDeviceToHost, o.stream), "download", what, bytes);
}

void copy_on_device(void* dst, const void* src, size_t bytes, const char* what) {
  Opened& o = current();
  checked(o.copy(dst, src, bytes, CopyKind::kDeviceToDevice, o.stream), "device copy", what, bytes);
}

void synchronize(const char* what) {
  Opened& o = current();
  const simt::Error e = o.synchronize(o.stream);
  MT_CHECK(e.ok(), "cuda: ", what, ": ", e.message());
}

namespace detail {

bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("MEDTEX_CUDA_SYNC");
    return v != nullptr && std::strcmp(v, "1") == 0;
  }();
  return on;
}

void launch_failed(const simt::Error& e, const std::string& where) {
  fail("cuda: ", where, ": ", e.message());
}

void check_after_sync(const std::string& where) {
  Opened& o = current();
  simt::Error e = o.synchronize(o.stream);
  if (e.ok()) e = o.last_error();
  if (!e.ok()) launch_failed(e, where);
}

}  // namespace detail

}  // namespace medtex::gpu
