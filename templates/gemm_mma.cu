// Tensor-core GEMM with mma.sync (sm_80+): for each in-bounds (row, col),
// the epilogue of sum_k A[row,k] * B[k,col], an f32 accumulator, applied rolled
// (kernels/epilogue.cuh).
//
// Needs from the prologue: JF_KERNEL_NAME, jf_elem_t, struct jf_params with .a and .b,
// jf_epilogue_values, JF_STORES, JF_STORE_PTRS(p) (kernels/epilogue.cuh), JF_M(p), JF_N(p),
// JF_K(p), JF_B_KN, JF_VEC_A, JF_VEC_B, JF_BM, JF_BN, JF_BK, JF_WM, JF_WN (warp tile),
// JF_STAGES, JF_THREADS, JF_SMEM_BYTES, and exactly one of
//   JF_MMA_F16    (jf_elem_t = jf_f16,  m16n8k16)
//   JF_MMA_BF16   (jf_elem_t = jf_bf16, m16n8k16)
//   JF_MMA_TF32   (jf_elem_t = float,   m16n8k8, operands rounded to tf32)
//   JF_MMA_TF32X3 (jf_elem_t = float,   m16n8k8, x = big + small, three products per step)
//
// Constraints (static_asserted below), with E = sizeof(jf_elem_t) and KS = 32 / E:
//   JF_BM % JF_WM == 0, JF_BN % JF_WN == 0, JF_WM % 16 == 0, JF_WN % 16 == 0
//   JF_THREADS == (JF_BM / JF_WM) * (JF_BN / JF_WN) * 32
//   JF_BK % 16 == 0 for f16/bf16, JF_BK % 8 == 0 for tf32 (a whole number of mma k-steps, KS)
//   JF_THREADS % (JF_BK * E / 4) == 0, and with JF_B_KN also JF_THREADS % (JF_BN * E / 4) == 0
//     (each thread loads one fixed column of a tile; holds for the usual power-of-two configs)
//   JF_STAGES >= 2
// Shared memory, JF_STAGES buffers of A [BM][BK] and B, each smem row padded by 16 bytes (A, and
// B when [N,K]) or by 8 elements (B when [K,N]) so fragment loads hit 32 distinct banks:
//   JF_B_KN == 0:  JF_SMEM_BYTES == JF_STAGES * (JF_BM + JF_BN) * (JF_BK * E + 16)
//   JF_B_KN == 1:  JF_SMEM_BYTES == JF_STAGES * (JF_BM * (JF_BK * E + 16) + JF_BK * (JF_BN + 8) * E)
//
// Pipeline: tile kt + STAGES - 1 is requested while tile kt is multiplied. With JF_VEC_* the
// request is cp.async 16-byte copies (zero-filled outside the matrix); without, 4-byte loads into
// registers that are written to smem before the tile's last k-step (any K, any alignment); both
// loaders live in kernels/gemm_mma_load.cuh.
// Fragments are double-buffered in registers, one k-step ahead, across tile boundaries too.
#include "jitfuse/kernels/cp_async.cuh"
#include "jitfuse/kernels/epilogue.cuh"
#include "jitfuse/kernels/gemm_grid.cuh"
#include "jitfuse/kernels/gemm_mma_load.cuh"
#include "jitfuse/kernels/mma.cuh"

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "gemm_mma.cu needs sm_80 or newer (mma.sync bf16/tf32, cp.async); use gemm_simt.cu"
#endif
#if (defined(JF_MMA_F16) + defined(JF_MMA_BF16) + defined(JF_MMA_TF32) + defined(JF_MMA_TF32X3)) != 1
#error "gemm_mma.cu: define exactly one of JF_MMA_F16, JF_MMA_BF16, JF_MMA_TF32, JF_MMA_TF32X3"
#endif

namespace jf_mma {

constexpr int E = sizeof(jf_elem_t);
#if defined(JF_MMA_F16) || defined(JF_MMA_BF16)
static_assert(E == 2, "gemm_mma: JF_MMA_F16/BF16 need a 2-byte jf_elem_t");
#else
static_assert(E == 4, "gemm_mma: JF_MMA_TF32/TF32X3 need jf_elem_t = float");
#endif
constexpr int KS = 32 / E;  // k per mma: every k-step is 32 bytes of each row
constexpr int WARPS_N = JF_BN / JF_WN;
constexpr int MT = JF_WM / 16;  // mma tiles per warp along M
constexpr int NT = JF_WN / 8;   // and along N
constexpr int A_LD = JF_BK * E + 16;  // bytes per smem row
constexpr int B_LD = JF_B_KN ? (JF_BN + 8) * E : JF_BK * E + 16;
constexpr int A_STAGE = JF_BM * A_LD;
constexpr int B_STAGE = (JF_B_KN ? JF_BK : JF_BN) * B_LD;

static_assert(JF_BM % JF_WM == 0 && JF_BN % JF_WN == 0, "gemm_mma: JF_BM % JF_WM and JF_BN % JF_WN must be 0");
static_assert(JF_WM % 16 == 0 && JF_WN % 16 == 0, "gemm_mma: JF_WM and JF_WN must be multiples of 16");
static_assert(JF_THREADS == (JF_BM / JF_WM) * (JF_BN / JF_WN) * 32, "gemm_mma: JF_THREADS must be (BM/WM)*(BN/WN)*32");
static_assert(JF_BK % KS == 0, "gemm_mma: JF_BK must be a multiple of 16 (f16/bf16) or 8 (tf32)");
static_assert(JF_STAGES >= 2, "gemm_mma: JF_STAGES must be at least 2");
static_assert(JF_SMEM_BYTES == JF_STAGES * (A_STAGE + B_STAGE),
              "gemm_mma: JF_SMEM_BYTES must be STAGES*(BM+BN)*(BK*E+16) for [N,K] B, "
              "STAGES*(BM*(BK*E+16)+BK*(BN+8)*E) for [K,N] B");

// d += a * b in the configured precision; a and b hold raw f16/bf16 pairs or raw f32 bits.
__device__ __forceinline__ void mma(float (&d)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
#if defined(JF_MMA_F16)
  jf_mma_16816_f16(d, a, b);
#elif defined(JF_MMA_BF16)
  jf_mma_16816_bf16(d, a, b);
#else
  jf_mma_1688_tf32(d, a, b);
#endif
}

// Sets a warp tile of accumulators to zero.
__device__ __forceinline__ void zero(float (&acc)[MT][NT][4]) {
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[mt][nt][q] = 0.0f;
    }
  }
}

// One k-step's operand fragments of the warp tile, raw bits as loaded from smem.
struct Frags {
  unsigned a[MT][4];
  unsigned b[NT][2];
};

// Loads k-step ks of the stage whose lane addresses are a_addr, b_addr (see the kernel).
__device__ __forceinline__ void load_frags(Frags& f, unsigned a_addr, unsigned b_addr, int ks) {
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) jf_ldmatrix_x4(f.a[mt], a_addr + mt * 16 * A_LD + ks * 32);
#pragma unroll
  for (int np = 0; np < NT / 2; ++np) {
    unsigned r[4];
    if constexpr (!JF_B_KN) {
      jf_ldmatrix_x4(r, b_addr + np * 16 * B_LD + ks * 32);
    } else if constexpr (E == 2) {
      jf_ldmatrix_x4_trans(r, b_addr + ks * 16 * B_LD + np * 32);
    } else {  // tf32 from [K,N]: ldmatrix cannot transpose 32-bit elements, so plain 32-bit loads
      const unsigned at = b_addr + ks * 8 * B_LD + np * 64;
      r[0] = jf_lds_u32(at);
      r[1] = jf_lds_u32(at + 4 * B_LD);
      r[2] = jf_lds_u32(at + 32);
      r[3] = jf_lds_u32(at + 4 * B_LD + 32);
    }
    f.b[2 * np][0] = r[0];
    f.b[2 * np][1] = r[1];
    f.b[2 * np + 1][0] = r[2];
    f.b[2 * np + 1][1] = r[3];
  }
}

// acc += the warp tile's product for one k-step of fragments.
__device__ __forceinline__ void mma_step(float (&acc)[MT][NT][4], const Frags& f) {
  unsigned af[MT][4], bf[NT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int q = 0; q < 4; ++q) af[mt][q] = f.a[mt][q];
  }
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
    bf[nt][0] = f.b[nt][0];
    bf[nt][1] = f.b[nt][1];
  }

#if defined(JF_MMA_TF32X3)
  // x = big + small with both tf32; small*small is below f32 rounding and is dropped. The small
  // products go first so they are not absorbed by the larger running sum.
  unsigned a_small[MT][4], b_small[NT][2];
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const unsigned big = jf_to_tf32(af[mt][q]);
      a_small[mt][q] = jf_to_tf32(__float_as_uint(__uint_as_float(af[mt][q]) - __uint_as_float(big)));
      af[mt][q] = big;
    }
  }
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
    for (int q = 0; q < 2; ++q) {
      const unsigned big = jf_to_tf32(bf[nt][q]);
      b_small[nt][q] = jf_to_tf32(__float_as_uint(__uint_as_float(bf[nt][q]) - __uint_as_float(big)));
      bf[nt][q] = big;
    }
  }
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      mma(acc[mt][nt], a_small[mt], bf[nt]);
      mma(acc[mt][nt], af[mt], b_small[nt]);
      mma(acc[mt][nt], af[mt], bf[nt]);
    }
  }
#else
#if defined(JF_MMA_TF32)
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int q = 0; q < 4; ++q) af[mt][q] = jf_to_tf32(af[mt][q]);
  }
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
    bf[nt][0] = jf_to_tf32(bf[nt][0]);
    bf[nt][1] = jf_to_tf32(bf[nt][1]);
  }
#endif
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) mma(acc[mt][nt], af[mt], bf[nt]);
  }
#endif
}

}  // namespace jf_mma

extern "C" __global__ void __launch_bounds__(JF_THREADS) JF_KERNEL_NAME(const jf_params p) {
  using namespace jf_mma;
  extern __shared__ __align__(128) unsigned char jf_smem[];
  unsigned char* const a_smem = jf_smem;
  unsigned char* const b_smem = jf_smem + JF_STAGES * A_STAGE;
  const unsigned a_base = jf_smem_addr(a_smem), b_base = jf_smem_addr(b_smem);

  const int M = JF_M(p), N = JF_N(p), K = JF_K(p);
  int tile_m, tile_n;
  jf_gemm_tile(blockIdx.x, (M + JF_BM - 1) / JF_BM, (N + JF_BN - 1) / JF_BN, tile_m, tile_n);
  const int m0 = tile_m * JF_BM, n0 = tile_n * JF_BN;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int wm = (warp / WARPS_N) * JF_WM, wn = (warp % WARPS_N) * JF_WN;

  // Lane addresses for the fragment loads within a stage (see kernels/mma.cuh for the layouts).
  // A, ldmatrix.x4: matrices (rows 0-7 | 8-15) x (k bytes 0-15 | 16-31), lane l names a row of l/8.
  const unsigned a_lane = (wm + lane % 16) * A_LD + (lane / 16) * 16;
  // B, per pair of n8 tiles: matrices (n 0-7, k lo), (n 0-7, k hi), (n 8-15, k lo), (n 8-15, k hi).
  unsigned b_lane;
  if constexpr (!JF_B_KN) {
    b_lane = (wn + (lane / 16) * 8 + lane % 8) * B_LD + ((lane / 8) % 2) * 16;
  } else if constexpr (E == 2) {
    b_lane = (((lane / 8) % 2) * 8 + lane % 8) * B_LD + (wn + (lane / 16) * 8) * E;
  } else {
    b_lane = (lane % 4) * B_LD + (wn + lane / 4) * E;  // b0 = B[k = t][n = g], b1 = B[t + 4][g]
  }

  AsyncTile<JF_BM, JF_BK, A_LD, false> a_async;
  AsyncTile<JF_B_KN ? JF_BK : JF_BN, JF_B_KN ? JF_BN : JF_BK, B_LD, JF_B_KN != 0> b_async;
  if constexpr (JF_VEC_A) a_async.init(p.a, M, K, m0, 0, K);
  if constexpr (JF_VEC_B && JF_B_KN) b_async.init(p.b, K, N, 0, n0, K);
  if constexpr (JF_VEC_B && !JF_B_KN) b_async.init(p.b, N, K, n0, 0, K);
  SyncTile<JF_BM, JF_BK, A_LD, false> a_regs;
  SyncTile<JF_B_KN ? JF_BK : JF_BN, JF_B_KN ? JF_BN : JF_BK, B_LD, JF_B_KN != 0> b_regs;
  if constexpr (!JF_VEC_A) a_regs.init(p.a, M, K, m0, 0, K);
  if constexpr (!JF_VEC_B && JF_B_KN) b_regs.init(p.b, K, N, 0, n0, K);
  if constexpr (!JF_VEC_B && !JF_B_KN) b_regs.init(p.b, N, K, n0, 0, K);

  // Requests the next tile (tiles go in order) into stage s: cp.async for vector operands,
  // registers for the others.
  auto request = [&](int s) {
    if constexpr (JF_VEC_A) {
      a_async.issue(a_base + s * A_STAGE, p.a);
    } else {
      a_regs.load();
    }
    if constexpr (JF_VEC_B) {
      b_async.issue(b_base + s * B_STAGE, p.b);
    } else {
      b_regs.load();
    }
  };
  // Completes a request for the non-vector operands (no-op for cp.async ones).
  auto land = [&](int s) {
    if constexpr (!JF_VEC_A) a_regs.store(a_smem + s * A_STAGE);
    if constexpr (!JF_VEC_B) b_regs.store(b_smem + s * B_STAGE);
  };

  float acc[MT][NT][4];
  zero(acc);

  const int kt_count = (K + JF_BK - 1) / JF_BK;
#pragma unroll
  for (int s = 0; s < JF_STAGES - 1; ++s) {
    if (s < kt_count) {
      request(s);
      land(s);
    }
    jf_cp_async_commit();  // one group per tile, empty or not, keeps the wait count fixed
  }
  jf_cp_async_wait<JF_STAGES - 2>();
  __syncthreads();

  // Fragments are double-buffered: k-step ks + 1 (or the next tile's first) is read from smem
  // while k-step ks is multiplied. Barrier b(kt), before the last k-step of tile kt, publishes
  // tile kt + 1; all reads of tile kt - 1's stage happened before b(kt - 1), so after it that
  // stage can be refilled (with tile kt + STAGES - 1, at the first k-step of tile kt).
  constexpr int KSTEPS = JF_BK / KS;
#if defined(JF_MMA_TF32X3)
  // The tensor cores' f32 accumulation truncates, an error that grows with K; tf32x3 sums each
  // tile apart and adds it to acc with a rounded FADD, so it stays near SGEMM accuracy.
  constexpr bool kTileSums = true;
#else
  constexpr bool kTileSums = false;
#endif
  float part[MT][NT][4];
  Frags frag[2];
  load_frags(frag[0], a_base + a_lane, b_base + b_lane, 0);
  for (int kt = 0; kt < kt_count; ++kt) {
    const int s = kt % JF_STAGES;
    const int next = kt + JF_STAGES - 1;
    const unsigned a_addr = a_base + s * A_STAGE + a_lane;
    const unsigned b_addr = b_base + s * B_STAGE + b_lane;
    if constexpr (kTileSums) zero(part);
#pragma unroll
    for (int ks = 0; ks < KSTEPS; ++ks) {
      if (ks == 0) {
        if (next < kt_count) request(next % JF_STAGES);
        jf_cp_async_commit();
      }
      if (ks == KSTEPS - 1) {
        if (next < kt_count) land(next % JF_STAGES);
        jf_cp_async_wait<JF_STAGES - 2>();  // this thread's copies of tile kt + 1 have landed
        __syncthreads();
        if (kt + 1 < kt_count) {
          const int s1 = (kt + 1) % JF_STAGES;
          load_frags(frag[(ks + 1) % 2], a_base + s1 * A_STAGE + a_lane, b_base + s1 * B_STAGE + b_lane, 0);
        }
      } else {
        load_frags(frag[(ks + 1) % 2], a_addr, b_addr, ks + 1);
      }
      mma_step(kTileSums ? part : acc, frag[ks % 2]);
    }
    if constexpr (kTileSums) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[mt][nt][q] += part[mt][nt][q];
        }
      }
    }
    if constexpr (KSTEPS % 2 != 0) frag[0] = frag[1];  // the next tile's first k-step is in frag[1]
  }

  // Accumulator fragment: acc[mt][nt] = C[g][2t, 2t+1] and C[g + 8][2t, 2t+1] of that 16x8 tile.
  // The rolled epilogue (kernels/epilogue.cuh), whatever its length: it measured faster here than
  // the epilogue inlined on the registers (bf16 4096^3 330 vs 353 us on an H200; bench/NOTES.md).
  // The stages are free once every warp is past its last k-step, and each warp stages its 16 x 32
  // chunks in 2 KB of them, in a loop that is not unrolled (a uniform branch names the chunk's
  // registers).
  static_assert(JF_WN % 32 == 0, "gemm_mma: the rolled epilogue takes chunks of 32 columns");
  static_assert(JF_SMEM_BYTES >= (JF_THREADS / 32) * JF_CHUNK_BYTES,
                "gemm_mma: the rolled epilogue stages 2 KB a warp in the stages' shared memory");
  constexpr int NCH = JF_WN / 32;
  const unsigned buf = a_base + warp * JF_CHUNK_BYTES;
  __syncthreads();
#pragma unroll 1
  for (int q = 0; q < MT * NCH; ++q) {
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int cc = 0; cc < NCH; ++cc) {
        if (q == mt * NCH + cc) jf_chunk_store(buf, lane, [&](int i) { return acc[mt][4 * cc + i / 4][i % 4]; });
      }
    }
    __syncwarp();
    jf_chunk_epilogue(p, buf, m0 + wm + (q / NCH) * 16, n0 + wn + (q % NCH) * 32, M, N, lane);
    __syncwarp();
  }
}
