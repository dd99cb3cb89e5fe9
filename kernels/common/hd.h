// MT_HD marks small inline functions that both the host compiler and nvcc
// compile (RNG, index maths), so the CPU twin and the CUDA kernel share them.
#pragma once

#if defined(__CUDACC__)
#define MT_HD __host__ __device__ __forceinline__
#else
#define MT_HD inline
#endif
