#include "kernels/simt/fiber_stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

namespace simt::detail {
namespace {

size_t page_size() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

}  // namespace

FiberStack::FiberStack(size_t usable_bytes, unsigned color) {
  const size_t page = page_size();
  // 64 colours of one cache line each span a 4 KiB page; the extra page keeps
  // the usable size what was asked for.
  color_offset_ = (color % 64) * 64;
  size_ = (usable_bytes + page - 1) / page * page + page;
  // MAP_NORESERVE: a thousand 64 KiB stacks reserve 64 MiB of address space,
  // but only the pages a kernel touches become memory.
  void* p = mmap(nullptr, size_ + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    throw std::runtime_error(std::string("simt: cannot map a fiber stack: ") +
                             std::strerror(errno));
  }
  mapping_ = static_cast<char*>(p);
  if (mprotect(mapping_, page, PROT_NONE) != 0) {
    munmap(mapping_, size_ + page);
    throw std::runtime_error(std::string("simt: cannot protect a stack guard page: ") +
                             std::strerror(errno));
  }
  bottom_ = mapping_ + page;
}

FiberStack::~FiberStack() {
  munmap(mapping_, size_ + page_size());
}

void StackPool::set_stack_bytes(size_t bytes) {
  if (bytes == bytes_) return;
  bytes_ = bytes;
  idle_.clear();
  all_.clear();
}

FiberStack* StackPool::acquire() {
  if (!idle_.empty()) {
    FiberStack* stack = idle_.back();
    idle_.pop_back();
    return stack;
  }
  all_.push_back(std::make_unique<FiberStack>(bytes_, static_cast<unsigned>(all_.size())));
  return all_.back().get();
}

void StackPool::release(FiberStack* stack) {
  idle_.push_back(stack);
}

}  // namespace simt::detail
