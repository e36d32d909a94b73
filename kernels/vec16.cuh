// 16-byte vector loads and stores for the elementwise template: 4 f32 or 8 f16/bf16 elements
// travel as four 32-bit words, in one ld.global.v4 / st.global.v4.
#pragma once
#include "jitfuse/kernels/types.cuh"

// 16 bytes of consecutive elements; lane l of a 16-bit type is half (l % 2) of word l / 2.
struct jf_pack {
  unsigned w[4];
};

// Whether all `n` pointers in `ptrs` are 16-byte aligned.
template <class T>
__device__ __forceinline__ bool jf_aligned16(const T* const* ptrs, int n) {
  unsigned long long bits = 0;
  for (int k = 0; k < n; ++k) bits |= reinterpret_cast<unsigned long long>(ptrs[k]);
  return (bits & 15) == 0;
}

// Reads the 16 bytes at p (16-byte aligned) through the read-only path: a kernel never writes
// what it reads (the binder rejects outputs that overlap other tensors).
__device__ __forceinline__ jf_pack jf_ld16(const void* p) {
  jf_pack v;
  asm("ld.global.nc.v4.u32 {%0, %1, %2, %3}, [%4];"
      : "=r"(v.w[0]), "=r"(v.w[1]), "=r"(v.w[2]), "=r"(v.w[3])
      : "l"(p));
  return v;
}

// Writes the 16 bytes of v to p (16-byte aligned).
__device__ __forceinline__ void jf_st16(void* p, const jf_pack& v) {
  asm volatile("st.global.v4.u32 [%0], {%1, %2, %3, %4};"
               :
               : "l"(p), "r"(v.w[0]), "r"(v.w[1]), "r"(v.w[2]), "r"(v.w[3])
               : "memory");
}

// Lane l of v as an element of type T (float, jf_f16 or jf_bf16).
template <class T>
__device__ __forceinline__ T jf_lane(const jf_pack& v, int l) {
  if constexpr (sizeof(T) == 4) {
    return __uint_as_float(v.w[l]);
  } else {
    T r;
    r.bits = static_cast<unsigned short>(v.w[l / 2] >> (16 * (l % 2)));
    return r;
  }
}

// Sets lane l of v to x. 16-bit lanes: the even lane of a word first (it clears the word).
template <class T>
__device__ __forceinline__ void jf_set_lane(jf_pack& v, int l, T x) {
  if constexpr (sizeof(T) == 4) {
    v.w[l] = __float_as_uint(x);
  } else if (l % 2 == 0) {
    v.w[l / 2] = x.bits;
  } else {
    v.w[l / 2] |= static_cast<unsigned>(x.bits) << 16;
  }
}
