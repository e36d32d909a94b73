// bfloat16 as a raw bit pattern: the top half of an f32.
#pragma once
#include "jitfuse/kernels/types.cuh"

struct __align__(2) jf_bf16 {
  unsigned short bits;
};

__device__ __forceinline__ float jf_to_float(jf_bf16 x) {
  return __uint_as_float(static_cast<unsigned>(x.bits) << 16);
}

template <>
__device__ __forceinline__ jf_bf16 jf_from_float<jf_bf16>(float x) {
  jf_bf16 r;
#if __CUDA_ARCH__ >= 800
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
#else
  // sm_75 has no bf16 cvt: round to nearest even by hand, keeping NaN a quiet NaN.
  unsigned u = __float_as_uint(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) {
    r.bits = static_cast<unsigned short>((u >> 16) | 0x40u);
  } else {
    u += 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<unsigned short>(u >> 16);
  }
#endif
  return r;
}
