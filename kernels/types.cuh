// Element types, conversions and scalar loads/stores for generated kernels.
// f16 and bf16 travel as raw 16-bit patterns (kernels/f16.cuh, kernels/bf16.cuh), so that
// no toolkit header is needed at run time. All arithmetic is in f32.
#pragma once

// Converts a float to element type T, rounding to nearest even.
template <class T>
__device__ __forceinline__ T jf_from_float(float x);

__device__ __forceinline__ float jf_to_float(float x) { return x; }
template <>
__device__ __forceinline__ float jf_from_float<float>(float x) { return x; }

// Reads element i of p as f32.
template <class T>
__device__ __forceinline__ float jf_ld(const T* __restrict__ p, long long i) {
  return jf_to_float(p[i]);
}

// Shared-window address of a pointer into shared memory, as the PTX that takes shared addresses
// (cp.async, ldmatrix, mbarrier, TMA, wgmma descriptors) wants it.
__device__ __forceinline__ unsigned jf_smem_addr(const void* p) {
  return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

// Writes v, converted to T, to element i of p.
template <class T>
__device__ __forceinline__ void jf_st(T* __restrict__ p, long long i, float v) {
  p[i] = jf_from_float<T>(v);
}
