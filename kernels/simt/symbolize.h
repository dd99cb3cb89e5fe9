// Names a function from its address, for error messages ("kernel
// medtex::...::softmax_rows<128>(...) failed"). Only error paths call it.
#pragma once

#include <string>

namespace simt::detail {

// The demangled name of the function starting at `address`, or its address
// in hex when no symbol table names it (a stripped binary).
std::string function_name(const void* address);

}  // namespace simt::detail
