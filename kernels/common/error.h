// Errors with context. Every layer throws medtex::Error with a message that
// names the op and the shapes involved; the program turns it into one line on
// stderr and a non-zero exit.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace medtex {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Joins the parts with operator<< and throws. Use it through MT_CHECK.
template <class... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  std::ostringstream s;
  (s << ... << std::forward<Parts>(parts));
  throw Error(s.str());
}

}  // namespace medtex

// MT_CHECK(cond, "conv2d: ", "expected 4-d input, got ", shape) throws when cond is false.
#define MT_CHECK(cond, ...)         \
  do {                              \
    if (!(cond)) {                  \
      ::medtex::fail(__VA_ARGS__);  \
    }                               \
  } while (0)
