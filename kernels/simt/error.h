// simt::Error: what a launch returns in both builds. It is CUDA-free so that
// host APIs (the `_cuda.cu` launchers) can return it without dragging CUDA
// types into the engine.
//
// Both the nvcc build and the emulated build include this header, and both can
// be linked into one binary, so everything here is inline and identical in
// both: the one definition rule holds because the token sequence is the same.
#pragma once

#include <string>
#include <utility>

namespace simt {

// Error codes. Where the CUDA runtime has a code for the same condition the
// emulator uses the same number, so `int(err.code())` means the same thing
// whichever backend produced it.
enum ErrorCode : int {
  kSuccess = 0,
  kInvalidValue = 1,          // cudaErrorInvalidValue: e.g. an attribute over its maximum
  kInvalidConfiguration = 9,  // cudaErrorInvalidConfiguration: grid, block or shared memory
  kLaunchFailure = 719,       // cudaErrorLaunchFailure: the kernel failed while running
                              // (emulator: divergent barrier, deadlock, exception)
};

// The outcome of a launch. Success carries no message; a failure's message
// names the kernel and says what went wrong. [[nodiscard]]: a launch whose
// result is ignored is a bug that the GPU would hide until much later.
class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(int code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const noexcept { return code_ == kSuccess; }
  int code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  int code_ = kSuccess;
  std::string message_;
};

}  // namespace simt
