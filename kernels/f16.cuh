// IEEE half precision as a raw bit pattern; conversions through PTX cvt (all archs).
#pragma once
#include "jitfuse/kernels/types.cuh"

struct __align__(2) jf_f16 {
  unsigned short bits;
};

__device__ __forceinline__ float jf_to_float(jf_f16 x) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(x.bits));
  return f;
}

template <>
__device__ __forceinline__ jf_f16 jf_from_float<jf_f16>(float x) {
  jf_f16 r;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(r.bits) : "f"(x));
  return r;
}
