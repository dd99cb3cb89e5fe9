// Fiber stacks for the emulator, and the AddressSanitizer annotations that
// every switch between stacks needs.
//
// Each stack is its own mmap with a PROT_NONE guard page below it, so a kernel
// that overflows its stack faults at once instead of corrupting the stack of
// the CUDA thread next to it. Stacks are pooled per OS thread and reused LIFO:
// the stack a finished thread leaves is still in cache when the next one starts.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SIMT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIMT_ASAN 1
#endif
#endif

#if defined(SIMT_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif

namespace simt::detail {

// [bottom, bottom + size): the usable part of a stack (stacks grow down).
struct StackBounds {
  const void* bottom = nullptr;
  size_t size = 0;
};

class FiberStack {
 public:
  // `color` staggers where the stack starts within its top page (below).
  FiberStack(size_t usable_bytes, unsigned color);
  ~FiberStack();
  FiberStack(const FiberStack&) = delete;
  FiberStack& operator=(const FiberStack&) = delete;

  // Where the fiber's stack starts. Stack tops are page-aligned, so without an
  // offset the hot top frames of a thousand fibers would all map to the same
  // few cache sets and evict each other; staggering them by whole cache lines
  // took the emulated SGEMM 256^3 from 109 to 70 ms.
  void* top() const { return bottom_ + size_ - color_offset_; }
  size_t size() const { return size_ - color_offset_; }  // from top() down to the guard page
  StackBounds bounds() const { return {bottom_, size_}; }
  // AddressSanitizer keeps a per-fiber "fake stack" for use-after-return
  // checks; it is handed over at every switch away from this stack.
  void** asan_fake_stack() { return &asan_fake_stack_; }

 private:
  char* mapping_ = nullptr;  // guard page + usable part
  char* bottom_ = nullptr;
  size_t size_ = 0;
  size_t color_offset_ = 0;
  void* asan_fake_stack_ = nullptr;
};

class StackPool {
 public:
  // Stacks handed out from now on have `bytes` usable; changing it frees the
  // idle stacks of the old size (none may be in use then).
  void set_stack_bytes(size_t bytes);
  FiberStack* acquire();
  void release(FiberStack* stack);
  size_t reserved() const { return all_.size(); }

 private:
  size_t bytes_ = 0;
  std::vector<std::unique_ptr<FiberStack>> all_;
  std::vector<FiberStack*> idle_;
};

// Without these, AddressSanitizer believes the OS thread is still on its own
// stack after a switch: an exception thrown on a fiber then makes it unpoison
// the wrong range and report errors that are not there.
//
// Tell AddressSanitizer about a switch to the stack `to`: call right before
// the switch, with the slot where the current fiber's fake stack is kept
// (nullptr when the current fiber ends with this switch).
inline void asan_start_switch([[maybe_unused]] void** fake_stack_slot,
                              [[maybe_unused]] StackBounds to) {
#if defined(SIMT_ASAN)
  __sanitizer_start_switch_fiber(fake_stack_slot, to.bottom, to.size);
#endif
}
// Call right after arriving on a stack; `from` receives the bounds of the stack
// that was left (the first arrival on a fiber learns the OS thread's own stack).
inline void asan_finish_switch([[maybe_unused]] void* fake_stack,
                               [[maybe_unused]] StackBounds* from) {
#if defined(SIMT_ASAN)
  const void* bottom = nullptr;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake_stack, &bottom, &size);
  if (from != nullptr) *from = {bottom, size};
#endif
}

}  // namespace simt::detail
