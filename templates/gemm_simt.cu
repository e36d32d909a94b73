// FP32 FFMA tiled GEMM: for each in-bounds (row, col), jf_epilogue(p, row, col, sum_k A[row,k] * B[k,col]).
// The "ieee" math mode, and the fallback for every dtype on archs without the needed mma (sm_75+).
//
// Needs from the prologue: JF_KERNEL_NAME, jf_elem_t (float, jf_f16 or jf_bf16), struct jf_params
// with .a and .b, jf_epilogue_values, JF_STORES, JF_STORE_PTRS(p) (kernels/epilogue.cuh),
// JF_M(p), JF_N(p), JF_K(p), JF_B_KN, JF_VEC_A, JF_VEC_B, JF_BM, JF_BN, JF_BK (block tile),
// JF_TM, JF_TN (thread tile), JF_THREADS, JF_SMEM_BYTES, optionally JF_EPILOGUE_INLINE (the
// epilogue on the registers for tiles inside N; otherwise rolled: kernels/epilogue.cuh).
//
// Constraints (static_asserted below):
//   JF_TM % 4 == 0, JF_TN % 4 == 0, JF_BM % JF_TM == 0, JF_BN % JF_TN == 0
//   JF_THREADS == (JF_BM / JF_TM) * (JF_BN / JF_TN)
//   (JF_BM / JF_TM) % 4 == 0 and (JF_BN / JF_TN) % 8 == 0   (a warp is 4 x 8 threads)
//   JF_BK % 8 == 0, JF_BM % 8 == 0, JF_BN % 8 == 0           (16-byte loads stay inside a tile)
// Shared memory (two buffers of f32 tiles, As[BK][BM + 4] and Bs[BK][BN + 4]):
//   JF_SMEM_BYTES == 2 * JF_BK * (JF_BM + JF_BN + 8) * 4
//
// Each thread owns TM x TN outputs: TM/4 groups of 4 rows, spaced BM/(TM/4) apart, and likewise
// for columns, so its operands are float4 reads that a warp makes without bank conflicts.
// Global tiles are prefetched into registers while the other smem buffer is in use.
#include "jitfuse/kernels/epilogue.cuh"
#include "jitfuse/kernels/gemm_grid.cuh"

namespace jf_simt {

static_assert(JF_TM % 4 == 0 && JF_TN % 4 == 0, "gemm_simt: JF_TM and JF_TN must be multiples of 4");
static_assert(JF_BM % JF_TM == 0 && JF_BN % JF_TN == 0, "gemm_simt: JF_BM % JF_TM and JF_BN % JF_TN must be 0");
static_assert(JF_THREADS == (JF_BM / JF_TM) * (JF_BN / JF_TN), "gemm_simt: JF_THREADS must be (BM/TM)*(BN/TN)");
static_assert((JF_BM / JF_TM) % 4 == 0 && (JF_BN / JF_TN) % 8 == 0, "gemm_simt: BM/TM % 4 and BN/TN % 8 must be 0");
static_assert(JF_BK % 8 == 0 && JF_BM % 8 == 0 && JF_BN % 8 == 0, "gemm_simt: JF_BM, JF_BN, JF_BK must be multiples of 8");
static_assert(JF_SMEM_BYTES == 2 * JF_BK * (JF_BM + JF_BN + 8) * 4, "gemm_simt: JF_SMEM_BYTES must be 2*BK*(BM+BN+8)*4");

constexpr int kThreadsM = JF_BM / JF_TM;  // threads along M
constexpr int kThreadsN = JF_BN / JF_TN;  // threads along N
constexpr int kLdA = JF_BM + 4;           // smem row lengths (floats); +4 keeps transposed stores conflict-free
constexpr int kLdB = JF_BN + 4;

struct __align__(16) f4 {
  float x, y, z, w;
};

// One BK-slice of a row-major operand staged in registers, then stored to smem as f32 [BK][X + 4].
// K_CONTIG: the source rows run along k (A, and B when [N,K]); else along X (B when [K,N]).
template <int X, bool K_CONTIG, bool VEC>
struct Tile {
  static constexpr int V = VEC ? 16 / static_cast<int>(sizeof(jf_elem_t)) : 1;  // elements per load
  static constexpr int ROWS = K_CONTIG ? X : JF_BK;
  static constexpr int COLS = K_CONTIG ? JF_BK : X;
  static constexpr int CPR = COLS / V;  // loads per source row
  static constexpr int CHUNKS = ROWS * CPR;
  static constexpr int ITERS = (CHUNKS + JF_THREADS - 1) / JF_THREADS;
  static constexpr int LD = X + 4;
  static_assert(COLS % V == 0, "gemm_simt: a vector load must not straddle a tile");

  struct alignas(V * sizeof(jf_elem_t)) Chunk {
    jf_elem_t v[V];
  };
  Chunk reg[ITERS];

  // Loads the tile at (row0, col0) of a rows x cols source; elements outside it read as zero.
  __device__ __forceinline__ void load(const jf_elem_t* __restrict__ src, int rows, int cols, int row0, int col0) {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int c = threadIdx.x + i * JF_THREADS;
      if (CHUNKS % JF_THREADS != 0 && c >= CHUNKS) break;
      const int r = row0 + c / CPR;
      const int k = col0 + (c % CPR) * V;
      // With VEC, cols % V == 0 (the host's JF_VEC_* promise), so a chunk is all in or all out.
      if (r < rows && k < cols) {
        reg[i] = *reinterpret_cast<const Chunk*>(src + static_cast<long long>(r) * cols + k);
      } else {
        reg[i] = Chunk{};
      }
    }
  }

  // Writes the staged tile, converted to f32, into smem buffer s ([BK][LD]).
  __device__ __forceinline__ void store(float* s) const {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const int c = threadIdx.x + i * JF_THREADS;
      if (CHUNKS % JF_THREADS != 0 && c >= CHUNKS) break;
      const int r = c / CPR;
      const int k = (c % CPR) * V;
      if constexpr (K_CONTIG) {
#pragma unroll
        for (int j = 0; j < V; ++j) s[(k + j) * LD + r] = jf_to_float(reg[i].v[j]);
      } else if constexpr (V % 4 == 0) {
#pragma unroll
        for (int j = 0; j < V; j += 4) {
          *reinterpret_cast<f4*>(&s[r * LD + k + j]) =
              f4{jf_to_float(reg[i].v[j]), jf_to_float(reg[i].v[j + 1]), jf_to_float(reg[i].v[j + 2]),
                 jf_to_float(reg[i].v[j + 3])};
        }
      } else {
        s[r * LD + k] = jf_to_float(reg[i].v[0]);
      }
    }
  }
};

}  // namespace jf_simt

extern "C" __global__ void __launch_bounds__(JF_THREADS) JF_KERNEL_NAME(const jf_params p) {
  using namespace jf_simt;
  extern __shared__ __align__(128) unsigned char jf_smem[];
  float* const as = reinterpret_cast<float*>(jf_smem);  // [2][BK][kLdA]
  float* const bs = as + 2 * JF_BK * kLdA;              // [2][BK][kLdB]

  const int M = JF_M(p), N = JF_N(p), K = JF_K(p);
  int tile_m, tile_n;
  jf_gemm_tile(blockIdx.x, (M + JF_BM - 1) / JF_BM, (N + JF_BN - 1) / JF_BN, tile_m, tile_n);
  const int m0 = tile_m * JF_BM, n0 = tile_n * JF_BN;

  // Warps are 4 (M) x 8 (N) threads: per k a warp reads 4 distinct float4 of A and 8 of B.
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  constexpr int kWarpsN = kThreadsN / 8;
  const int ty = (warp / kWarpsN) * 4 + lane / 8;
  const int tx = (warp % kWarpsN) * 8 + lane % 8;

  Tile<JF_BM, true, JF_VEC_A != 0> ta;
  Tile<JF_BN, JF_B_KN == 0, JF_VEC_B != 0> tb;
  auto load = [&](int kt) {
    ta.load(p.a, M, K, m0, kt * JF_BK);
    if constexpr (JF_B_KN) {
      tb.load(p.b, K, N, kt * JF_BK, n0);
    } else {
      tb.load(p.b, N, K, n0, kt * JF_BK);
    }
  };

  float acc[JF_TM][JF_TN];
#pragma unroll
  for (int i = 0; i < JF_TM; ++i) {
#pragma unroll
    for (int j = 0; j < JF_TN; ++j) acc[i][j] = 0.0f;
  }

  const int kt_count = (K + JF_BK - 1) / JF_BK;
  load(0);
  ta.store(as);
  tb.store(bs);
  __syncthreads();

  for (int kt = 0; kt < kt_count; ++kt) {
    const int cur = kt & 1;
    const bool more = kt + 1 < kt_count;
    if (more) load(kt + 1);  // in flight while we compute on the current buffer

    const float* a_s = as + cur * JF_BK * kLdA + ty * 4;
    const float* b_s = bs + cur * JF_BK * kLdB + tx * 4;
#pragma unroll
    for (int k = 0; k < JF_BK; ++k) {
      float a[JF_TM], b[JF_TN];
#pragma unroll
      for (int i = 0; i < JF_TM / 4; ++i) {
        const f4 v = *reinterpret_cast<const f4*>(a_s + k * kLdA + i * kThreadsM * 4);
        a[4 * i] = v.x; a[4 * i + 1] = v.y; a[4 * i + 2] = v.z; a[4 * i + 3] = v.w;
      }
#pragma unroll
      for (int j = 0; j < JF_TN / 4; ++j) {
        const f4 v = *reinterpret_cast<const f4*>(b_s + k * kLdB + j * kThreadsN * 4);
        b[4 * j] = v.x; b[4 * j + 1] = v.y; b[4 * j + 2] = v.z; b[4 * j + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < JF_TM; ++i) {
#pragma unroll
        for (int j = 0; j < JF_TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
      }
    }

    // The other buffer was last read before the previous iteration's barrier, so it is free.
    if (more) {
      ta.store(as + (cur ^ 1) * JF_BK * kLdA);
      tb.store(bs + (cur ^ 1) * JF_BK * kLdB);
    }
    __syncthreads();
  }

#if JF_EPILOGUE_INLINE
  // A short epilogue on a tile inside N: on the registers.
  if (n0 + JF_BN <= N) {
#pragma unroll
    for (int i = 0; i < JF_TM; ++i) {
      const int row = m0 + (i / 4) * kThreadsM * 4 + ty * 4 + i % 4;
      if (row >= M) continue;
#pragma unroll
      for (int j = 0; j < JF_TN; ++j) {
        jf_epilogue(p, row, n0 + (j / 4) * kThreadsN * 4 + tx * 4 + j % 4, acc[i][j]);
      }
    }
    return;
  }
#endif
  // Otherwise the rolled epilogue (kernels/epilogue.cuh): the tile in slabs of SR x SC, each
  // thread's 4 x 4 block of it at (4 ty, 4 tx), staged in the stages' shared memory in a loop that
  // is not unrolled (a uniform branch names the slab's registers); each thread then applies the
  // epilogue to 4 consecutive columns at a time, rows of threads in step.
  constexpr int SR = kThreadsM * 4, SC = kThreadsN * 4;
  static_assert(SR * SC * 4 <= JF_SMEM_BYTES, "gemm_simt: a slab of the tile must fit the stages' shared memory");
  float* const slab = as;
#pragma unroll 1
  for (int s = 0; s < (JF_TM / 4) * (JF_TN / 4); ++s) {
    __syncthreads();  // the last reads of the stages (or of the previous slab) are done
#pragma unroll
    for (int ig = 0; ig < JF_TM / 4; ++ig) {
#pragma unroll
      for (int jg = 0; jg < JF_TN / 4; ++jg) {
        if (s != ig * (JF_TN / 4) + jg) continue;
#pragma unroll
        for (int a = 0; a < 4; ++a) {
          const float* v = acc[4 * ig + a] + 4 * jg;
          *reinterpret_cast<f4*>(slab + (ty * 4 + a) * SC + tx * 4) = f4{v[0], v[1], v[2], v[3]};
        }
      }
    }
    __syncthreads();
    const int r0 = m0 + (s / (JF_TN / 4)) * SR, c0 = n0 + (s % (JF_TN / 4)) * SC;
    constexpr int V = JF_EPILOGUE_VEC, GROUPS = SR * SC / V;  // V consecutive columns a thread a pass
#pragma unroll 1
    for (int g = threadIdx.x; g < GROUPS; g += JF_THREADS) {
      const int r = g / (SC / V), c = V * (g % (SC / V)), row = r0 + r, col = c0 + c;
      float v[V];
#pragma unroll
      for (int e = 0; e < V; ++e) v[e] = slab[r * SC + c + e];
      if (row < M && col < N) jf_epilogue_vec<V>(p, row, col, N, v);
    }
  }
}
