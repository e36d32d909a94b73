// Host-side f16 and bf16 conversions, rounding to nearest even, as the GPU's cvt.rn does.
#pragma once

#include <cstdint>
#include <cstring>

namespace jitfuse {

// The bf16 bit pattern nearest to `f` (ties to even; NaN stays a quiet NaN).
inline std::uint16_t float_to_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return std::uint16_t(u >> 16);
}

// The float a bf16 bit pattern stands for (exact).
inline float bf16_to_float(std::uint16_t h) {
  const std::uint32_t u = std::uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The IEEE binary16 bit pattern nearest to `f` (ties to even; overflow to inf; NaN quiet).
std::uint16_t float_to_f16(float f);
// The float a binary16 bit pattern stands for (exact).
float f16_to_float(std::uint16_t h);

}  // namespace jitfuse
