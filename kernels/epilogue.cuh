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

// The rolled epilogue. A template stages its f32 accumulators in shared memory and applies the
// epilogue to them in a loop that is not unrolled, JF_EPILOGUE_VEC columns a thread at a time, so
// the kernel holds that many copies of the epilogue's code whatever its tile: unrolled over a
// tile, a long chain of ops (erff, expf, ...) became a hundred copies and minutes of NVRTC time.
// Four columns a thread measured fastest on an H200 (bf16 gemm + 13 ops at 4096^3: 512 us, 540
// with two, 634 with one). JF_EPILOGUE_INLINE (set by the code generator for short,
// straight-line epilogues) adds the wgmma and SIMT templates' inline path for interior tiles,
// which measured 3-7% faster on the example (bench/NOTES.md v10); the rolled path then covers
// the edge tiles.
#if !defined(JF_EPILOGUE_INLINE)
#define JF_EPILOGUE_INLINE 0
#endif
constexpr int JF_EPILOGUE_VEC = 4;

// Writes V values, converted to T, to elements i ... i + V - 1 of p: one store of V * sizeof(T)
// bytes when that address allows it, else V.
template <class T, int V>
__device__ __forceinline__ void jf_st_vec(T* __restrict__ p, long long i, const float (&v)[V]) {
  T* at = p + i;
  if ((reinterpret_cast<unsigned long long>(at) & (V * sizeof(T) - 1)) == 0) {
    struct __align__(V * sizeof(T)) Vec { T x[V]; };
    Vec out;
#pragma unroll
    for (int e = 0; e < V; ++e) out.x[e] = jf_from_float<T>(v[e]);
    *reinterpret_cast<Vec*>(at) = out;
  } else {
#pragma unroll
    for (int e = 0; e < V; ++e) at[e] = jf_from_float<T>(v[e]);
  }
}

// The epilogue of (row, col ... col + V - 1), row < M and col < N, on their accumulators acc[]:
// V copies of its code, independent chains the scheduler interleaves. Columns past N are
// computed on column N - 1's inputs and not stored.
template <int V>
__device__ __forceinline__ void jf_epilogue_vec(const jf_params& p, int row, int col, int N,
                                                const float (&acc)[V]) {
  float out[JF_STORES][V];
#pragma unroll
  for (int e = 0; e < V; ++e) {
    float o[JF_STORES];
    jf_epilogue_values(p, row, min(col + e, N - 1), acc[e], o);
#pragma unroll
    for (int s = 0; s < JF_STORES; ++s) out[s][e] = o[s];
  }
  jf_elem_t* const st[JF_STORES] = {JF_STORE_PTRS(p)};
  const long long i = (long long)row * JF_N(p) + col;
#pragma unroll
  for (int s = 0; s < JF_STORES; ++s) {
    if (V == 1 || col + V <= N) {
      jf_st_vec<jf_elem_t, V>(st[s], i, out[s]);
    } else {
#pragma unroll
      for (int e = 0; e < V; ++e) {
        if (col + e < N) jf_st(st[s], i + e, out[s][e]);
      }
    }
  }
}

// A warp's chunk of 16 rows x 32 columns of m16n8 accumulator fragments (the layout of mma.sync
// and of wgmma): v(4 j + 2 h + e) is row 8 h + lane / 4, column 8 j + 2 (lane % 4) + e, for j < 4.
// Staged as f32 in 2 KB of shared memory at `buf`, rows of 128 bytes whose 8-byte pairs are
// XOR-swizzled by 4 (row % 4): the pair stores of each half-warp and the row reads (V floats a
// lane) are free of bank conflicts.
constexpr int JF_CHUNK_BYTES = 16 * 32 * 4;

__device__ __forceinline__ unsigned jf_chunk_at(unsigned buf, int r, int c) {
  return buf + r * 128 + (((c / 2) ^ (4 * (r % 4))) * 8) + (c % 2) * 4;
}

template <class Frag>
__device__ __forceinline__ void jf_chunk_store(unsigned buf, int lane, Frag v) {
#pragma unroll
  for (int j = 0; j < 4; ++j) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const unsigned at = jf_chunk_at(buf, 8 * h + lane / 4, 8 * j + 2 * (lane % 4));
      asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n" ::"r"(at), "f"(v(4 * j + 2 * h)),
                   "f"(v(4 * j + 2 * h + 1)) : "memory");
    }
  }
}

// Loads V consecutive floats (V = 1, 2 or 4, aligned to V) from shared-memory address `at`.
template <int V>
__device__ __forceinline__ void jf_lds_vec(unsigned at, float (&v)[V]) {
  if constexpr (V == 4) {
    asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                 : "=f"(v[0]), "=f"(v[1]), "=f"(v[2]), "=f"(v[3]) : "r"(at) : "memory");
  } else if constexpr (V == 2) {
    asm volatile("ld.shared.v2.f32 {%0, %1}, [%2];\n" : "=f"(v[0]), "=f"(v[1]) : "r"(at) : "memory");
  } else {
    asm volatile("ld.shared.f32 %0, [%1];\n" : "=f"(v[0]) : "r"(at) : "memory");
  }
}

// The epilogue of a chunk staged by jf_chunk_store, rows from row0 and columns from col0: lanes
// take V consecutive columns each, 32 / V lanes a row, so a warp's stores are V row segments.
__device__ __forceinline__ void jf_chunk_epilogue(const jf_params& p, unsigned buf, int row0, int col0,
                                                  int M, int N, int lane) {
  constexpr int V = JF_EPILOGUE_VEC, LANES = 32 / V;
#pragma unroll 1
  for (int it = 0; it < 16 / V; ++it) {
    const int r = it * V + lane / LANES, c = V * (lane % LANES), row = row0 + r, col = col0 + c;
    float v[V];
    jf_lds_vec<V>(jf_chunk_at(buf, r, c), v);
    if (row < M && col < N) jf_epilogue_vec<V>(p, row, col, N, v);
  }
}
