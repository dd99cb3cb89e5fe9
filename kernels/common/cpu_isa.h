// Which x86 vector extension the CPU kernels may use, chosen at run time.
//
// The build targets baseline x86-64 (SSE2) so that one binary runs on any
// x86-64 machine; the hot loops that gain from wider vectors (GEMM's
// micro-kernel) are compiled a second and third time with GCC's `target`
// attribute and picked here, once, from what the CPU and the OS support.
//
// Bits do not depend on the choice: the wide kernels round exactly as the
// baseline one does (a separate multiply and add per element, never a fused
// multiply-add, in the same order), so a model trained on an AVX-512 server
// and one trained on an SSE2-only laptop are bitwise identical. Tests pin this.
//
// MEDTEX_CPU_ISA=baseline|avx2|avx512 caps the choice (to compare them in a
// benchmark, or to rule the wide kernels out); asking for more than the CPU
// has gives the best it has.
#pragma once

#include <string>

namespace medtex::cpu {

enum class Isa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

// The best extension the CPU and OS support (ignores MEDTEX_CPU_ISA).
Isa supported_isa();

// What the kernels use: supported_isa(), capped by MEDTEX_CPU_ISA (read once;
// an unknown value fails with one line naming it).
Isa active_isa();

const char* isa_name(Isa isa);  // "baseline (SSE2)", "AVX2", "AVX-512"

}  // namespace medtex::cpu
