// Elementwise kernel: applies the generated jf_elementwise(p, i, in, out) to every element.
// The template reads the full-shape inputs into in[] and writes out[] to the outputs: as 16-byte
// vectors (JF_VEC elements, JF_UNROLL vectors per thread per pass, every load issued before any
// arithmetic) when all those pointers are 16-byte aligned, element by element otherwise and for
// the last numel % JF_VEC elements. Broadcast operands are jf_elementwise's own reads.
//
// Needs, from the generated prologue: JF_KERNEL_NAME, JF_THREADS, JF_MIN_BLOCKS, JF_NUMEL(p),
// JF_VEC (16 / sizeof(jf_elem_t)), JF_UNROLL, jf_elem_t, JF_LOADS and JF_LOAD_PTRS(p) (the
// full-shape inputs), JF_STORES and JF_STORE_PTRS(p) (the outputs), struct jf_params and
// jf_elementwise(const jf_params&, long long i, const float* in, float* out).
// Launch: any 1-D grid of JF_THREADS-thread blocks; grid-stride loops cover the rest. A grid of
// JF_MIN_BLOCKS blocks per SM is resident at once (the launch bounds guarantee the registers).
#pragma once
#include "jitfuse/kernels/vec16.cuh"

static_assert(JF_VEC * sizeof(jf_elem_t) == 16, "JF_VEC must fill 16 bytes");

// Elements i .. i + JF_VEC - 1 (i a multiple of JF_VEC) from the loaded vectors `raw`: the body
// once per lane, each lane with its own index (a per-row operand may change inside a vector).
__device__ __forceinline__ void jf_vector(const jf_params& p, jf_elem_t* const* st, long long i,
                                          const jf_pack* raw) {
  jf_pack res[JF_STORES];
#pragma unroll
  for (int l = 0; l < JF_VEC; ++l) {
    float in[JF_LOADS + 1], out[JF_STORES];
#pragma unroll
    for (int k = 0; k < JF_LOADS; ++k) in[k] = jf_to_float(jf_lane<jf_elem_t>(raw[k], l));
    jf_elementwise(p, i + l, in, out);
#pragma unroll
    for (int k = 0; k < JF_STORES; ++k) jf_set_lane(res[k], l, jf_from_float<jf_elem_t>(out[k]));
  }
#pragma unroll
  for (int k = 0; k < JF_STORES; ++k) jf_st16(st[k] + i, res[k]);
}

extern "C" __global__ void __launch_bounds__(JF_THREADS, JF_MIN_BLOCKS) JF_KERNEL_NAME(const jf_params p) {
  const jf_elem_t* const ld[JF_LOADS + 1] = {JF_LOAD_PTRS(p)};
  jf_elem_t* const st[JF_STORES] = {JF_STORE_PTRS(p)};
  const long long n = JF_NUMEL(p);
  const long long threads = static_cast<long long>(gridDim.x) * JF_THREADS;
  const long long t = static_cast<long long>(blockIdx.x) * JF_THREADS + threadIdx.x;
  long long scalar_from = 0;  // the vector path covers the elements before this
  if (jf_aligned16(ld, JF_LOADS) && jf_aligned16(st, JF_STORES)) {
    const long long vectors = n / JF_VEC;
    for (long long v = t; v < vectors; v += JF_UNROLL * threads) {
      jf_pack raw[JF_UNROLL][JF_LOADS + 1];
#pragma unroll
      for (int u = 0; u < JF_UNROLL; ++u) {
        if (v + u * threads >= vectors) break;
#pragma unroll
        for (int k = 0; k < JF_LOADS; ++k) raw[u][k] = jf_ld16(ld[k] + (v + u * threads) * JF_VEC);
      }
#pragma unroll
      for (int u = 0; u < JF_UNROLL; ++u) {
        if (v + u * threads >= vectors) break;
        jf_vector(p, st, (v + u * threads) * JF_VEC, raw[u]);
      }
    }
    scalar_from = vectors * JF_VEC;
  }
  // The rest element by element: the last numel % JF_VEC, or everything when a pointer is not
  // 16-byte aligned (then JF_UNROLL elements per thread per pass, loads first).
  for (long long i = scalar_from + t; i < n; i += JF_UNROLL * threads) {
    float in[JF_UNROLL][JF_LOADS + 1];
#pragma unroll
    for (int u = 0; u < JF_UNROLL; ++u) {
      if (i + u * threads >= n) break;
#pragma unroll
      for (int k = 0; k < JF_LOADS; ++k) in[u][k] = jf_ld(ld[k], i + u * threads);
    }
#pragma unroll
    for (int u = 0; u < JF_UNROLL; ++u) {
      if (i + u * threads >= n) break;
      float out[JF_STORES];
      jf_elementwise(p, i + u * threads, in[u], out);
#pragma unroll
      for (int k = 0; k < JF_STORES; ++k) jf_st(st[k], i + u * threads, out[k]);
    }
  }
}
