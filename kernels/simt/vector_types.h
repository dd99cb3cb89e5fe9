// CUDA's built-in vector and index types for the emulated build: dim3, uint3
// and the float/int/uint vector types, with the same layout and alignment as
// the toolkit's <vector_types.h>, so a float4 load in an emulated kernel has
// the same alignment requirement (and UBSan flags a misaligned one, as the GPU
// would fault).
//
// The toolkit's own header is not used even when it is installed: it would make
// the emulator differ between machines with and without CUDA, and it clashes
// with definitions the emulator must make itself (see the README's limits:
// cuda_fp16.h types are therefore not available to emulated kernels).
#pragma once

// Like CUDA, these live in the global namespace.

struct uint3 {
  unsigned int x, y, z;
};

struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}  // NOLINT: implicit, as in CUDA
  constexpr operator uint3() const { return uint3{x, y, z}; }
};

struct alignas(8) float2 {
  float x, y;
};
struct float3 {
  float x, y, z;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
struct alignas(16) double2 {
  double x, y;
};
struct alignas(8) int2 {
  int x, y;
};
struct int3 {
  int x, y, z;
};
struct alignas(16) int4 {
  int x, y, z, w;
};
struct alignas(8) uint2 {
  unsigned int x, y;
};
struct alignas(16) uint4 {
  unsigned int x, y, z, w;
};

constexpr float2 make_float2(float x, float y) {
  return float2{x, y};
}
constexpr float3 make_float3(float x, float y, float z) {
  return float3{x, y, z};
}
constexpr float4 make_float4(float x, float y, float z, float w) {
  return float4{x, y, z, w};
}
constexpr double2 make_double2(double x, double y) {
  return double2{x, y};
}
constexpr int2 make_int2(int x, int y) {
  return int2{x, y};
}
constexpr int3 make_int3(int x, int y, int z) {
  return int3{x, y, z};
}
constexpr int4 make_int4(int x, int y, int z, int w) {
  return int4{x, y, z, w};
}
constexpr uint2 make_uint2(unsigned int x, unsigned int y) {
  return uint2{x, y};
}
constexpr uint3 make_uint3(unsigned int x, unsigned int y, unsigned int z) {
  return uint3{x, y, z};
}
constexpr uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) {
  return uint4{x, y, z, w};
}
