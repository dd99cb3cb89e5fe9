#include "kernels/common/cpu_isa.h"

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "kernels/common/error.h"

namespace medtex::cpu {

Isa supported_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  // libgcc's CPU model checks both CPUID and, through XGETBV, that the OS
  // saves the wider registers; "avx512f" is the foundation the kernels use.
  static const Isa isa = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2")) return Isa::kAvx2;
    return Isa::kBaseline;
  }();
  return isa;
#else
  return Isa::kBaseline;
#endif
}

Isa active_isa() {
  static const Isa isa = [] {
    const char* env = std::getenv("MEDTEX_CPU_ISA");
    Isa cap = Isa::kAvx512;
    if (env != nullptr && *env != '\0') {
      const std::string_view v(env);
      if (v == "baseline" || v == "sse2") {
        cap = Isa::kBaseline;
      } else if (v == "avx2") {
        cap = Isa::kAvx2;
      } else if (v == "avx512") {
        cap = Isa::kAvx512;
      } else {
        fail("MEDTEX_CPU_ISA='", env, "' is not one of baseline, avx2, avx512");
      }
    }
    return std::min(cap, supported_isa());
  }();
  return isa;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      return "AVX-512";
    case Isa::kAvx2:
      return "AVX2";
    case Isa::kBaseline:
      break;
  }
  return "baseline (SSE2)";
}

}  // namespace medtex::cpu
