// The stores of a GEMM kernel's fused epilogue. The generated jf_epilogue_values(p, row, col,
// acc, out) computes the JF_STORES values that leave the kernel at (row, col) into out[]; these
// write them to JF_STORE_PTRS(p), the row-major [M, N] outputs.
#pragma once
#include "jitfuse/kernels/types.cuh"

// Writes a and b, converted to T, to elements i and i + 1 of p: one store of 2 * sizeof(T) bytes
// when that address allows it, else two.
template <class T>
__device__ __forceinline__ void jf_st2(T* __restrict__ p, long long i, float a, float b) {
  T* at = p + i;
  if ((reinterpret_cast<unsigned long long>(at) & (2 * sizeof(T) - 1)) == 0) {
    struct __align__(2 * sizeof(T)) Pair { T x, y; };
    *reinterpret_cast<Pair*>(at) = Pair{jf_from_float<T>(a), jf_from_float<T>(b)};
  } else {
    at[0] = jf_from_float<T>(a);
    at[1] = jf_from_float<T>(b);
  }
}

// The epilogue of output element (row, col), on its f32 accumulator.
__device__ __forceinline__ void jf_epilogue(const jf_params& p, int row, int col, float acc) {
  float out[JF_STORES];
  jf_epilogue_values(p, row, col, acc, out);
  jf_elem_t* const st[JF_STORES] = {JF_STORE_PTRS(p)};
  const long long i = (long long)row * JF_N(p) + col;
#pragma unroll
  for (int s = 0; s < JF_STORES; ++s) jf_st(st[s], i, out[s]);
}

// The epilogue of (row, col) and (row, col + 1), both in bounds: paired stores.
__device__ __forceinline__ void jf_epilogue_pair(const jf_params& p, int row, int col, float acc0,
                                                 float acc1) {
  float out0[JF_STORES], out1[JF_STORES];
  jf_epilogue_values(p, row, col, acc0, out0);
  jf_epilogue_values(p, row, col + 1, acc1, out1);
  jf_elem_t* const st[JF_STORES] = {JF_STORE_PTRS(p)};
  const long long i = (long long)row * JF_N(p) + col;
#pragma unroll
  for (int s = 0; s < JF_STORES; ++s) jf_st2(st[s], i, out0[s], out1[s]);
}
