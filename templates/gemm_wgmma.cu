// Hopper tensor-core GEMM (sm_90a): TMA loads into swizzled shared memory, completing
// on mbarriers; one producer warpgroup and JF_CONSUMERS consumer warpgroups issuing wgmma; the
// fused epilogue applied to the f32 accumulators: for each in-bounds (row, col), the values of
// jf_epilogue_values(p, row, col, sum_k A[row,k] * B[col,k]) are stored (kernels/epilogue.cuh),
// B given as [N,K] (K-major, like nn.Linear's weight).
//
// Needs from the prologue: JF_KERNEL_NAME, jf_elem_t, struct jf_params with jf_tensor_map
// members tma_a (A as [M,K], box JF_BK x JF_BM / JF_CLUSTER_N) and tma_b (B as [N,K], box JF_BK
// x JF_BN / JF_CLUSTER_M), both swizzled by the box's row bytes (JF_BK * E) and zero-filled;
// jf_epilogue_values, JF_STORES, JF_STORE_PTRS(p), JF_M(p), JF_N(p), JF_K(p), JF_BM, JF_BN, JF_BK,
// JF_STAGES, JF_CONSUMERS, JF_CLUSTER_M, JF_THREADS, JF_SMEM_BYTES, optionally JF_CLUSTER_N
// (default 1), JF_SPLIT_K, JF_EPILOGUE_INLINE (the epilogue on the registers for tiles inside N;
// otherwise rolled: kernels/epilogue.cuh), and exactly one of
//   JF_MMA_F16, JF_MMA_BF16
//   JF_MMA_TF32    f32 inputs multiplied as tf32 (the tensor cores ignore the low 13 mantissa bits)
//   JF_MMA_TF32X3  x = big + small, both tf32, three products per k-step (small*small dropped):
//                  near-f32 accuracy. A is split in registers: each consumer loads its fragments
//                  from the landed stage and multiplies them with A in registers (wgmma RS);
//                  warps 1-3 of the producer warpgroup write B's small half to a second buffer
//                  (B as loaded is its big half: the tensor cores truncate). JF_SUM_KTILES
//                  (default 1): k-tiles the tensor cores sum before each rounded f32 add. Needs
//                  JF_BK = 32.
//   JF_MMA_BF16X3  f32 inputs, x = hi + lo with both halves bf16 (rounded to nearest: 16 of x's 24
//                  bits), and three bf16 products: C = lo_a hi_b + hi_a lo_b + hi_a hi_b, the
//                  small ones first, as one bf16 GEMM over 3K k-tiles. The kernel first splits A
//                  and B into the halves, in global memory (p.x3_a, p.x3_b: rows of Kp = K
//                  rounded up to 8 bf16, hi then lo), every CTA a share, then waits for all of
//                  them (a grid barrier: the grid must be resident, hence persistent); tma_a /
//                  tma_b then describe the hi halves and tma_a_lo / tma_b_lo the lo ones (bf16,
//                  box JF_BK x rows). jf_elem_t is float (the output); the stages hold bf16.
//
// Constraints (static_asserted below), with E = sizeof(jf_elem_t) (bf16x3: 2 here, the stages'
// bf16, though jf_elem_t, the output, is float):
//   JF_BK * E == 128 or 64 (a tile row is one 128- or 64-byte swizzle row), JF_BN in
//   {32, 64, 128, 256}, JF_BM % (64 * JF_CONSUMERS) == 0 (ping-pong: JF_BM % 64 == 0), JF_BM <=
//   256 and JF_CLUSTER_M, JF_CLUSTER_N each 1 or 2,
//   JF_THREADS == 128 * (JF_CONSUMERS + 1),
//   JF_SMEM_BYTES == JF_STAGES * (JF_BM + JF_BN + X) * JF_BK * E + H * JF_BM * 4
//   + (H < JF_BN ? JF_CONSUMERS * 8192 : 0) + 2048 (the stages; the hand-off buffer; 2 KB a
//   consumer warp to stage the epilogue's stores; barriers and alignment), X = JF_BN for
//   JF_MMA_TF32X3 (B's small half), else 0; H = JF_HANDOFF (default 0).
//
// Tiles: the grid may be smaller than the tile count (persistent, one CTA an SM): each CTA (each
// cluster) walks its tiles in the grouped order, and the producer fills stages for the next tile
// while the consumers run this one's epilogue.
//
// Pipeline: stage s holds A [BM][BK] then B [BN][BK] (tf32x3: then B's small half). full[s]
// completes when TMA has written the stage (tf32x3: split[s] when B is split); empty[s] when
// every consumer's wgmma that read it has finished. Consumers keep one k-tile of wgmma in flight
// and release a stage as soon as the next one's group is issued.
//
// Ping-pong (JF_PINGPONG = 1, persistent grids, not tf32x3): each consumer warpgroup computes a
// whole JF_BM x JF_BN tile, the two taking turns over the CTA's tiles; an order barrier makes
// their mainloops alternate, so one's epilogue runs while the other's products keep the tensor
// cores busy. A stage then has one consumer: empty[s] counts one arrival a CTA of the cluster.
//
// Hand-off (JF_HANDOFF = H, JF_BN or JF_BN / 2; not tf32x3, ping-pong or split K): the epilogue of
// a tile's first H columns runs in warps 1-3 of the producer warpgroup, idle otherwise, while
// the consumers already multiply the next tile. A consumer writes those accumulators, f32, to a
// JF_BM x H buffer (acc_full), applies the epilogue to the other columns itself, and writes the
// next tile's once the epilogue warps have read the buffer (acc_empty). The CTA's last tile has
// no next one: the consumers join the epilogue warps on it.
//
// Split K (JF_SPLIT_K = S > 1, small problems: 64-row tiles, one consumer warpgroup, not
// persistent, no clusters of tiles): a cluster of S CTAs computes one tile, CTA r summing k-tiles
// [r * kt / S, (r + 1) * kt / S); each leaves its partial sums in its shared memory, and after a
// cluster barrier CTA r adds up rows [r * 64 / S, (r + 1) * 64 / S) of all S (distributed shared
// memory, a fixed order: deterministic) and applies the epilogue to them.
//
// Stream-K (JF_STREAM_K = 1, persistent grids; not ping-pong, hand-off or split K): when the
// U units (CTAs, or clusters) do not divide the T tiles, whole waves would leave SMs idle on the
// last one. The tiles of all waves but the last full one go round as usual (T / U - 1 each);
// the k-tiles of the rest (between U and 2U tiles) are shared out evenly, unit u taking the
// [u * S / U, (u + 1) * S / U) of them in tile-major order. A unit's share is at least a tile,
// so a tile is split between at most two units: u - 1 sums its first k-tiles (the head), u the
// others (the tail). Each unit takes its share from the last tile back: the head first, whose
// f32 sums it leaves in the workspace (p.sk_part, a slot a CTA) before raising its flags (a
// counter a consumer warp, p.sk_flags), and the tail last, which waits for u - 1's flags, adds
// the head's sums to its own (in that order: deterministic) and applies the epilogue. The head
// was u - 1's first piece of work, so the wait is normally over before it starts; the
// dependency points to a lower unit, which the GPU starts first. The finisher resets the flags
// to 0 for the next launch. Launches of one kernel that share the workspace must not overlap.
//
// Clusters: a cluster of JF_CLUSTER_M x JF_CLUSTER_N CTAs computes as many adjacent tiles, CTA
// `rank` the one at (rank % JF_CLUSTER_M, rank / JF_CLUSTER_M). Tiles of one column share B:
// with JF_CLUSTER_M = 2 each of the two loads its own A and half of B, multicast into both (a
// third less L2 traffic); tiles of one row share A the same way (JF_CLUSTER_N = 2: A's halves
// multicast, tma_a's box JF_BM / 2 rows). A stage is free only when the consumers of every CTA
// that writes into it released it, so they arrive on empty[s] in every CTA of the cluster. The
// grid is rounded up to whole clusters; a CTA whose tile lies past M or N still loads its parts
// and stores nothing.
#include "jitfuse/kernels/epilogue.cuh"
#include "jitfuse/kernels/gemm_grid.cuh"
#include "jitfuse/kernels/hopper.cuh"
#include "jitfuse/kernels/wgmma_ops.cuh"

#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ != 900 || !defined(__CUDA_ARCH_FEAT_SM90_ALL))
#error "gemm_wgmma.cu needs sm_90a (wgmma, setmaxnreg); use gemm_mma.cu elsewhere"
#endif
#if (defined(JF_MMA_F16) + defined(JF_MMA_BF16) + defined(JF_MMA_TF32) + defined(JF_MMA_TF32X3) + \
     defined(JF_MMA_BF16X3)) != 1
#error "gemm_wgmma.cu: define exactly one of JF_MMA_F16, JF_MMA_BF16, JF_MMA_TF32, JF_MMA_TF32X3, JF_MMA_BF16X3"
#endif

namespace jf_wg {

constexpr int E = sizeof(jf_elem_t);            // bytes of an output element
#if defined(JF_MMA_BF16X3)
constexpr bool kX3 = true;
constexpr int EO = 2;                          // bytes of an operand element in the stages
#else
constexpr bool kX3 = false;
constexpr int EO = E;
#endif
constexpr int KSTEP = 32 / EO;                 // k per wgmma: 32 bytes of each row
constexpr int KSTEPS = JF_BK / KSTEP;          // wgmma k-steps per k-tile
#if !defined(JF_PINGPONG)
#define JF_PINGPONG 0
#endif
constexpr bool kPingPong = JF_PINGPONG;       // each consumer warpgroup a tile of its own
constexpr int WG_M = kPingPong ? JF_BM : JF_BM / JF_CONSUMERS;  // rows per consumer warpgroup
constexpr int MI = WG_M / 64;                  // m64 wgmma per consumer per k-step
constexpr int ACC = JF_BN / 2;                 // accumulators per thread per m64 tile
constexpr int ROW = JF_BK * EO;                // bytes of a tile row: the swizzle width
constexpr int A_STAGE = JF_BM * ROW;
constexpr int B_STAGE = JF_BN * ROW;
constexpr int LOADED = A_STAGE + B_STAGE;      // bytes TMA writes per stage
#if defined(JF_MMA_TF32X3)
constexpr bool kSplit = true;
#else
constexpr bool kSplit = false;
#endif
constexpr int STAGE = kSplit ? LOADED + B_STAGE : LOADED;  // tf32x3: + B's small half
// The epilogue's staging: 2 KB a consumer warp, 16 rows of 128 bytes, of which a chunk of
// CHUNK_COLS columns fills 128 bytes (64 for a 64-byte-wide tile: JF_BN = 32, 16-bit).
constexpr int EPI_WARP = 2048;
constexpr int CHUNK_COLS = JF_BN * E < 128 ? JF_BN : 128 / E;
constexpr int CHUNK_SEGS = CHUNK_COLS * E / 16;  // 16-byte pieces of a chunk row
#if !defined(JF_HANDOFF)
#define JF_HANDOFF 0
#endif
constexpr int HANDOFF = JF_HANDOFF;            // columns of a tile the epilogue warps take
constexpr bool kHandoff = HANDOFF > 0;
constexpr int EPI_WARPS = 3;                   // warps 1-3 of the producer warpgroup
// The hand-off buffer: JF_BM rows of HANDOFF f32, 16-byte chunks XOR-swizzled by row % 8.
constexpr int HAND_ROW = HANDOFF * 4;
constexpr int HAND_BYTES = JF_BM * HAND_ROW;
constexpr int EPI_BYTES = HAND_BYTES + (HANDOFF < JF_BN ? JF_CONSUMERS * 4 * EPI_WARP : 0);
static_assert(JF_BN % CHUNK_COLS == 0 && CHUNK_SEGS * 16 == CHUNK_COLS * E && (CHUNK_SEGS == 4 || CHUNK_SEGS == 8),
              "gemm_wgmma: a tile row must be 64 bytes or a multiple of 128");
#if defined(JF_SUM_KTILES)
constexpr int kSumKtiles = JF_SUM_KTILES;  // tf32x3: k-tiles the tensor cores sum before a rounded add
#else
constexpr int kSumKtiles = 1;
#endif
static_assert(kSumKtiles >= 1, "gemm_wgmma: JF_SUM_KTILES must be at least 1");

#if defined(JF_MMA_F16) || defined(JF_MMA_BF16)
static_assert(E == 2, "gemm_wgmma: JF_MMA_F16/BF16 need a 2-byte jf_elem_t");
#elif defined(JF_MMA_BF16X3)
static_assert(E == 4, "gemm_wgmma: JF_MMA_BF16X3 needs jf_elem_t = float");
#else
static_assert(E == 4, "gemm_wgmma: JF_MMA_TF32/TF32X3 need jf_elem_t = float");
#endif
static_assert(ROW == 128 || ROW == 64, "gemm_wgmma: JF_BK * the operand's size must be 128 or 64");
static_assert(!kSplit || ROW == 128, "gemm_wgmma: JF_MMA_TF32X3 needs JF_BK = 32 (A's fragments assume the 128-byte swizzle)");
static_assert(JF_BN == 32 || JF_BN == 64 || JF_BN == 128 || JF_BN == 256, "gemm_wgmma: JF_BN must be 32, 64, 128 or 256");
static_assert(JF_BM % (64 * JF_CONSUMERS) == 0 || kPingPong, "gemm_wgmma: JF_BM must be a multiple of 64 * JF_CONSUMERS");
static_assert(!kPingPong || (JF_CONSUMERS == 2 && JF_BM % 64 == 0 && !kSplit),
              "gemm_wgmma: JF_PINGPONG needs two consumer warpgroups, 64-row multiples and no tf32x3");
static_assert(JF_THREADS == 128 * (JF_CONSUMERS + 1), "gemm_wgmma: JF_THREADS must be 128 * (JF_CONSUMERS + 1)");
static_assert(JF_STAGES >= 2, "gemm_wgmma: JF_STAGES must be at least 2");
#if !defined(JF_CLUSTER_N)
#define JF_CLUSTER_N 1
#endif
#define JF_CLUSTER (JF_CLUSTER_M * JF_CLUSTER_N)
constexpr int CLUSTER = JF_CLUSTER;            // CTAs a cluster
static_assert(JF_CLUSTER_M == 1 || JF_CLUSTER_M == 2, "gemm_wgmma: JF_CLUSTER_M must be 1 or 2");
static_assert(JF_CLUSTER_N == 1 || JF_CLUSTER_N == 2, "gemm_wgmma: JF_CLUSTER_N must be 1 or 2");
static_assert(JF_BM <= 256, "gemm_wgmma: JF_BM must be at most 256 (a TMA box's rows)");
#if !defined(JF_SPLIT_K)
#define JF_SPLIT_K 1
#endif
constexpr int SPLIT_K = JF_SPLIT_K;
static_assert(SPLIT_K == 1 || SPLIT_K == 2 || SPLIT_K == 4 || SPLIT_K == 8, "gemm_wgmma: JF_SPLIT_K must be 1, 2, 4 or 8");
static_assert(SPLIT_K == 1 || (CLUSTER == 1 && JF_CONSUMERS == 1 && JF_BM == 64),
              "gemm_wgmma: JF_SPLIT_K needs JF_CLUSTER_M = JF_CLUSTER_N = 1, one consumer warpgroup and 64-row tiles");
#if !defined(JF_STREAM_K)
#define JF_STREAM_K 0
#endif
constexpr bool kStreamK = JF_STREAM_K;
static_assert(!kStreamK || (!kPingPong && !kHandoff && SPLIT_K == 1),
              "gemm_wgmma: JF_STREAM_K excludes ping-pong, hand-off and split K");
static_assert(!kX3 || (!kStreamK && !kPingPong && !kHandoff && SPLIT_K == 1),
              "gemm_wgmma: JF_MMA_BF16X3 excludes stream-K, ping-pong, hand-off and split K");
// Split K's partial sums: [64][RED_LD] f32 in the stages' memory (padded rows: fewer conflicts).
constexpr int RED_LD = JF_BN + 4;
static_assert(SPLIT_K == 1 || 64 * RED_LD * 4 <= JF_STAGES * STAGE, "gemm_wgmma: split K's sums must fit the stages");
constexpr int B_PART = JF_BN / JF_CLUSTER_M;  // rows of B each CTA of a tile column loads
constexpr int A_PART = JF_BM / JF_CLUSTER_N;  // rows of A each CTA of a tile row loads
static_assert(!kHandoff || ((HANDOFF == JF_BN || (HANDOFF == JF_BN / 2 && HANDOFF % CHUNK_COLS == 0)) &&
                            HANDOFF >= 32 && !kSplit && !kPingPong && SPLIT_K == 1),
              "gemm_wgmma: JF_HANDOFF must be 0, JF_BN or JF_BN / 2 (at least 32), without tf32x3, "
              "ping-pong or split K");
static_assert(JF_SMEM_BYTES == JF_STAGES * STAGE + EPI_BYTES + 2048,
              "gemm_wgmma: JF_SMEM_BYTES must be STAGES * (BM + BN (+ BN for tf32x3)) * BK * E + "
              "HANDOFF * BM * 4 + CONSUMERS * 8 KB (the epilogue's staging, unless HANDOFF = BN) + 2048");

// Two elements, adjacent in a row, to shared memory: one 4- or 8-byte store.
__device__ __forceinline__ void epi_st_pair(unsigned at, jf_elem_t a, jf_elem_t b) {
  if constexpr (E == 2) {
    unsigned short x, y;
    memcpy(&x, &a, 2);
    memcpy(&y, &b, 2);
    asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(at), "r"(unsigned(x) | (unsigned(y) << 16)) : "memory");
  } else {
    unsigned x, y;
    memcpy(&x, &a, 4);
    memcpy(&y, &b, 4);
    asm volatile("st.shared.v2.b32 [%0], {%1, %2};\n" ::"r"(at), "r"(x), "r"(y) : "memory");
  }
}

__device__ __forceinline__ unsigned long long desc(unsigned addr) {
  return ROW == 128 ? jf_wgmma_desc_sw128(addr) : jf_wgmma_desc_sw64(addr);
}

// d (+)= A * B for one k-step; a and b are shared-memory addresses of K-major swizzled tiles.
__device__ __forceinline__ void mma(float (&d)[ACC], unsigned a, unsigned b, int scale_d) {
#if defined(JF_MMA_F16)
  jf_wgmma_f16(d, desc(a), desc(b), scale_d);
#elif defined(JF_MMA_BF16) || defined(JF_MMA_BF16X3)
  jf_wgmma_bf16(d, desc(a), desc(b), scale_d);
#else
  jf_wgmma_tf32(d, desc(a), desc(b), scale_d);
#endif
}

// tf32x3: writes small = x - big for the B_STAGE bytes of B at `b` to b + B_STAGE, big being x
// truncated to tf32. B itself stays as loaded: the tensor cores read a tf32 operand's top 19
// bits and ignore the low 13 (truncation), so x is big to them. Measured on the H100: were it
// rounding, big * small would miss up to an ulp of tf32 and the relative norm error would be
// 1e-4 or worse, not the 1.3e-6 seen (the GPU tests hold tf32x3 to 1e-5); writing big in
// place cost 3-6%. The layout, swizzle included, is unchanged: the split is element by element.
// `part`/`parts`: this thread's share. (A is split by the consumers, in registers.)
__device__ __forceinline__ void split_b(unsigned b, int part, int parts) {
  // Four 16-byte chunks a pass, all loaded first: the stores' memory clobbers would keep the
  // next chunk's load behind them, and the three warps' passes are latency-bound. tf32x3 at
  // 2048x8192x8192 on H100s: one chunk a pass 2207-2228 us, four 1947-1971, eight (producer at
  // 56 registers, consumers at 224) 2114 (bench/NOTES.md v5).
  constexpr int CHUNKS = B_STAGE / 16, U = 4;
  for (int i0 = part; i0 < CHUNKS; i0 += U * parts) {
    unsigned x[U][4];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (i0 + u * parts >= CHUNKS) continue;
      asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
                   : "=r"(x[u][0]), "=r"(x[u][1]), "=r"(x[u][2]), "=r"(x[u][3]) : "r"(b + 16 * (i0 + u * parts)));
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (i0 + u * parts >= CHUNKS) continue;
      unsigned small[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        small[q] = __float_as_uint(__uint_as_float(x[u][q]) - __uint_as_float(x[u][q] & 0xffffe000u));
      }
      asm volatile("st.shared.v4.b32 [%0], {%1, %2, %3, %4};\n"
                   ::"r"(b + 16 * (i0 + u * parts) + B_STAGE), "r"(small[0]), "r"(small[1]), "r"(small[2]),
                   "r"(small[3]) : "memory");
    }
  }
}

// tf32x3: a consumer thread's fragments of its warpgroup's rows of the A tile at `a` (K-major,
// 128-byte swizzle), for every k-step, split into big (the f32 truncated to tf32) and small =
// x - big. Fragment layout (kernels/wgmma_ops.cuh, jf_wgmma_tf32_rs): element i of k-step k is
// row 16 w + l / 4 + 8 (i % 2), column 8 k + l % 4 + 4 (i / 2); its 16-byte chunk, 2 k + i / 2,
// is XOR-swizzled by the row % 8, which is l / 4. Conflict-free: a warp's 32 loads cover 8 rows'
// different chunks, 4 words each.
__device__ __forceinline__ void load_split_a(unsigned a, int w, int l, unsigned (&big)[MI][KSTEPS][4],
                                             unsigned (&small)[MI][KSTEPS][4]) {
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int k = 0; k < KSTEPS; ++k) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = mi * 64 + 16 * w + l / 4 + 8 * (i % 2);
        const unsigned at = a + r * ROW + (((2 * k + i / 2) ^ (l / 4)) * 16) + 4 * (l % 4);
        unsigned x;
        asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(x) : "r"(at));
        big[mi][k][i] = x & 0xffffe000u;
        small[mi][k][i] = __float_as_uint(__uint_as_float(x) - __uint_as_float(big[mi][k][i]));
      }
    }
  }
}

// One k-tile's products into d (with `fresh`, d is overwritten, not added to): A and B are
// shared-memory tiles at a and b.
__device__ __forceinline__ void products(float (&d)[MI][ACC], unsigned a, unsigned b, bool fresh) {
  jf_wgmma_fence();
#pragma unroll
  for (int k = 0; k < KSTEPS; ++k) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) mma(d[mi], a + mi * 64 * ROW + k * 32, b + k * 32, fresh && k == 0 ? 0 : 1);
  }
}

// tf32x3: one k-tile's three products into d, A's halves in registers (load_split_a), B at b
// with its small half B_STAGE bytes on; the small products first, or the big one would absorb
// them.
__device__ __forceinline__ void products_split(float (&d)[MI][ACC], const unsigned (&big)[MI][KSTEPS][4],
                                               const unsigned (&small)[MI][KSTEPS][4], unsigned b,
                                               bool fresh) {
  jf_wgmma_fence();
#pragma unroll
  for (int k = 0; k < KSTEPS; ++k) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      const unsigned bk = b + k * 32;
      jf_wgmma_tf32_rs(d[mi], small[mi][k], desc(bk), fresh && k == 0 ? 0 : 1);
      jf_wgmma_tf32_rs(d[mi], big[mi][k], desc(bk + B_STAGE), 1);
      jf_wgmma_tf32_rs(d[mi], big[mi][k], desc(bk), 1);
    }
  }
}

// A consumer's k-tiles it .. it + kt_count - 1 of one tile into acc (`it` advances past them):
// one k-tile of wgmma in flight, its stage released once the next one's group is issued and it
// has finished. issue(it, d, fresh) issues k-tile it into d; release(s) frees stage s;
// issued_all() runs once the last k-tile is issued.
template <class Issue, class Release, class Issued>
__device__ __forceinline__ void mainloop(float (&acc)[MI][ACC], int& it, int kt_count, Issue& issue,
                                         Release& release, Issued& issued_all) {
  if (kt_count == 0) {  // split K with fewer k-tiles than CTAs: this one's share is empty
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int i = 0; i < ACC; ++i) acc[mi][i] = 0.0f;
    }
    return;
  }
  // The first k-tile apart, fresh: with a k-tile count known only at run time (stream-K), a
  // run-time `fresh` in the loop cost ptxas spills.
  issue(it, acc, true);
  if (kt_count == 1) issued_all();
  ++it;
  for (int kt = 1; kt < kt_count; ++kt, ++it) {
    issue(it, acc, false);
    if (kt == kt_count - 1) issued_all();
    jf_wgmma_wait<1>();  // k-tile it - 1's products are done: its stage can be refilled
    release((it - 1) % JF_STAGES);
  }
  jf_wgmma_wait<0>();
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) jf_wgmma_fence_regs(acc[mi]);
  release((it - 1) % JF_STAGES);
}

// As mainloop, for tf32x3: the tensor cores' f32 accumulation truncates, an error that grows
// with the length of the sum, so they sum kSumKtiles k-tiles at a time into `part`, which is then
// added to acc with a rounded FADD. Reading `part` needs its products finished (wait<0>): with a
// second buffer in flight instead, ptxas serializes every wgmma (C7514).
template <class Issue, class Release>
__device__ __forceinline__ void mainloop_tile_sums(float (&acc)[MI][ACC], int& it, int kt_count,
                                                   Issue& issue, Release& release) {
  float part[MI][ACC];
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int i = 0; i < ACC; ++i) acc[mi][i] = 0.0f;
  }
#pragma unroll 1
  for (int kt0 = 0; kt0 < kt_count; kt0 += kSumKtiles) {
    const int n = kt_count - kt0 < kSumKtiles ? kt_count - kt0 : kSumKtiles;
#pragma unroll 1
    for (int i = 0; i < n; ++i, ++it) {
      issue(it, part, i == 0);
      jf_wgmma_wait<1>();  // k-tile it - 1's products are done: its stage can be refilled
      if (i > 0) release((it - 1) % JF_STAGES);
    }
    jf_wgmma_wait<0>();
    release((it - 1) % JF_STAGES);
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      jf_wgmma_fence_regs(part[mi]);
#pragma unroll
      for (int q = 0; q < ACC; ++q) acc[mi][q] += part[mi][q];
    }
  }
}

// The hand-off's stores of single elements, as a call: one copy of the epilogue's code.
__device__ __noinline__ void epilogue_call(const jf_params& p, int row, int col, float v0) {
  jf_epilogue(p, row, col, v0);
}

// The fused epilogue of a consumer warpgroup's WG_M x JF_BN accumulators (from chunk cc0 of
// CHUNK_COLS columns on: the hand-off takes the ones before), rows from m0 and columns from n0.
// Accumulator (m64 tile mi, thread t = 32 w + l): acc[mi][4 j + 2 h + q] is row 16 w + 8 h +
// l / 4, column 8 j + 2 (l % 4) + q.
// Inline (JF_EPILOGUE_INLINE, a short epilogue), for a tile inside N with one output whose rows
// are 16-byte aligned: the epilogue runs on the registers, and the warp stages each chunk of its
// 16 rows x CHUNK_COLS (128 bytes a row, or 64) in its 2 KB at `buf` and writes it out a row per
// CHUNK_SEGS lanes, 16 bytes a lane. Otherwise (kernels/epilogue.cuh, jf_chunk_epilogue): chunks
// of 16 x 32 f32 staged in `buf` in a loop that is not unrolled (a uniform branch names the
// chunk's registers), each applied by the kernel's one rolled copy of the epilogue.
__device__ __forceinline__ void epilogue(const jf_params& p, const float (&acc)[MI][ACC], int m0,
                                         int n0, int M, int N, unsigned buf, int w, int l, int cc0 = 0) {
#if JF_EPILOGUE_INLINE
  jf_elem_t* const outs[JF_STORES] = {JF_STORE_PTRS(p)};
  if (JF_STORES == 1 && (reinterpret_cast<unsigned long long>(outs[0]) & 15) == 0 &&
      (static_cast<long long>(N) * E) % 16 == 0 && n0 + JF_BN <= N) {
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
      const int row0 = m0 + mi * 64 + 16 * w;  // the warp's first row
#pragma unroll
      for (int cc = cc0; cc < JF_BN / CHUNK_COLS; ++cc) {
        const int col0 = n0 + cc * CHUNK_COLS;
        // Every value of the chunk first, then the shared-memory stores: no store (a compiler
        // barrier) and no branch between them, so the loads the epilogue makes issue together
        // (a bias row once for both rows) and the chunk's independent chains interleave. A row
        // past M computes on row M - 1's inputs (the epilogue may read [M, N] ones) and is not
        // stored.
        jf_elem_t v[2][CHUNK_COLS / 8][2];
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int row = min(row0 + 8 * h + l / 4, M - 1);
#pragma unroll
          for (int jj = 0; jj < CHUNK_COLS / 8; ++jj) {
            const int j = cc * (CHUNK_COLS / 8) + jj, col = col0 + 8 * jj + 2 * (l % 4);
            float v0[JF_STORES], v1[JF_STORES];
            jf_epilogue_values(p, row, col, acc[mi][4 * j + 2 * h], v0);
            jf_epilogue_values(p, row, col + 1, acc[mi][4 * j + 2 * h + 1], v1);
            v[h][jj][0] = jf_from_float<jf_elem_t>(v0[0]);
            v[h][jj][1] = jf_from_float<jf_elem_t>(v1[0]);
          }
        }
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int r = 8 * h + l / 4;
          if (row0 + r >= M) continue;
#pragma unroll
          for (int jj = 0; jj < CHUNK_COLS / 8; ++jj) {
            const int cl = 8 * jj + 2 * (l % 4);
            // 16-byte chunks of a row XOR-swizzled by row % 8: conflict-free both ways.
            const unsigned at = buf + r * 128 + ((((cl * E) / 16) ^ (r % 8)) * 16) + (cl * E) % 16;
            epi_st_pair(at, v[h][jj][0], v[h][jj][1]);
          }
        }
        __syncwarp();
#pragma unroll
        for (int i = 0; i < 16 * CHUNK_SEGS / 32; ++i) {
          const int q = l + 32 * i, r = q / CHUNK_SEGS, chunk = q % CHUNK_SEGS, row = row0 + r;
          unsigned x[4];
          asm volatile("ld.shared.v4.b32 {%0, %1, %2, %3}, [%4];\n"
                       : "=r"(x[0]), "=r"(x[1]), "=r"(x[2]), "=r"(x[3])
                       : "r"(buf + r * 128 + ((chunk ^ (r % 8)) * 16)));
          if (row < M) {
            jf_elem_t* dst = outs[0] + static_cast<long long>(row) * N + col0 + chunk * (16 / E);
            asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};\n"
                         ::"l"(dst), "r"(x[0]), "r"(x[1]), "r"(x[2]), "r"(x[3]) : "memory");
          }
        }
        __syncwarp();
      }
    }
    return;
  }
#endif
  constexpr int NCH = JF_BN / 32;
  static_assert(EPI_WARP == JF_CHUNK_BYTES, "gemm_wgmma: a warp's staging holds one 16 x 32 f32 chunk");
  const int c0 = cc0 * CHUNK_COLS / 32;  // the hand-off's columns come first
#pragma unroll 1
  for (int q = 0; q < MI * NCH; ++q) {
    if (q % NCH < c0) continue;
#pragma unroll
    for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
      for (int cc = 0; cc < NCH; ++cc) {
        if (q == mi * NCH + cc) jf_chunk_store(buf, l, [&](int i) { return acc[mi][16 * cc + i]; });
      }
    }
    __syncwarp();
    jf_chunk_epilogue(p, buf, m0 + (q / NCH) * 64 + 16 * w, n0 + (q % NCH) * 32, M, N, l);
    __syncwarp();
  }
}

// Hand-off: a consumer thread's accumulators of the tile's first HANDOFF columns to the buffer at
// `buf`, rows from r0 (its warpgroup's first). A store covers 8 bytes of a 16-byte chunk, the
// chunks of a row XOR-swizzled by row % 8: a warp's 32 stores fill 16 chunks, two wavefronts.
__device__ __forceinline__ void acc_to_handoff(const float (&acc)[MI][ACC], unsigned buf, int r0, int w,
                                               int l) {
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = r0 + mi * 64 + 16 * w + 8 * h + l / 4;
#pragma unroll
      for (int j = 0; j < HANDOFF / 8; ++j) {
        const int chunk = 2 * j + (l % 4) / 2;
        const unsigned at = buf + r * HAND_ROW + ((chunk ^ (r % 8)) * 16) + 8 * (l % 2);
        asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n"
                     ::"r"(at), "f"(acc[mi][4 * j + 2 * h]), "f"(acc[mi][4 * j + 2 * h + 1]) : "memory");
      }
    }
  }
}

// Hand-off: warp `part` of `parts` applies the epilogue to its share of the buffer at `buf` (the
// tile at m0, n0): 16-byte chunks (4 columns) in row order, a warp's 32 lanes 32 consecutive
// chunks of a row (conflict-free), so that its stores cover 128 contiguous bytes of a row
// (bf16/f16; 256 for f32). Other outputs, or unaligned ones, take stores of one element.
__device__ __forceinline__ void drain_handoff(const jf_params& p, unsigned buf, int m0, int n0, int M,
                                              int N, int part, int parts, int l) {
  constexpr int CPR = kHandoff ? HANDOFF / 4 : 1;  // chunks a row (1: unused, no division by 0)
  jf_elem_t* const outs[JF_STORES] = {JF_STORE_PTRS(p)};
  // A rolled epilogue keeps its copies few: the call below, not four inlined ones.
  const bool vec = JF_EPILOGUE_INLINE && JF_STORES == 1 &&
                   (reinterpret_cast<unsigned long long>(outs[0]) & (4 * E - 1)) == 0 && N % 4 == 0;
#pragma unroll 2
  for (int q = 32 * part + l; q < JF_BM * CPR; q += 32 * parts) {
    const int r = q / CPR, ch = q % CPR, row = m0 + r, col = n0 + 4 * ch;
    if (row >= M) break;  // rows only grow with q
    float x[4];
    asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                 : "=f"(x[0]), "=f"(x[1]), "=f"(x[2]), "=f"(x[3])
                 : "r"(buf + r * HAND_ROW + ((ch ^ (r % 8)) * 16)));
    if (vec && col + 4 <= N) {
      unsigned y[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        float v[JF_STORES];
        jf_epilogue_values(p, row, col + e, x[e], v);
        const jf_elem_t o = jf_from_float<jf_elem_t>(v[0]);
        if constexpr (E == 2) {
          unsigned short u;
          memcpy(&u, &o, 2);
          y[e] = u;
        } else {
          memcpy(&y[e], &o, 4);
        }
      }
      jf_elem_t* dst = outs[0] + static_cast<long long>(row) * N + col;
      if constexpr (E == 2) {
        asm volatile("st.global.v2.b32 [%0], {%1, %2};\n"
                     ::"l"(dst), "r"(y[0] | (y[1] << 16)), "r"(y[2] | (y[3] << 16)) : "memory");
      } else {
        asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};\n"
                     ::"l"(dst), "r"(y[0]), "r"(y[1]), "r"(y[2]), "r"(y[3]) : "memory");
      }
    } else {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        if (col + e < N) epilogue_call(p, row, col + e, x[e]);
      }
    }
  }
}

// A piece of a CTA's work: k-tiles [k0, k1) of tile `tile`, and what becomes of the sums.
enum Role { kWhole, kHead, kTail };  // epilogue; to the workspace; add the head's, then epilogue
struct Work {
  int tile, k0, k1;
  Role role;
};

// The pieces of unit `unit` of `units` (a CTA, or a cluster), in the order it takes them: item
// j of `items`. Without stream-K, tiles unit, unit + units, ... whole (split K: k-tiles
// [k_lo, k_hi) of each). With it, see the header: the whole tiles first, then the shared
// k-tiles, from the unit's last tile back.
struct Schedule {
  int unit, units, kt, k_lo, k_hi, n_whole, whole_tiles, items;
  int sk_b = 0, sk_e = 0, t_last = 0;  // the unit's share of the shared k-tiles, tile-major; its last tile

  // 32-bit arithmetic only: a 64-bit division is a call, and the registers live across it spill.
  __device__ Schedule(int unit_, int units_, int tile_count, int kt_, int k_lo_, int k_hi_)
      : unit(unit_), units(units_), kt(kt_), k_lo(k_lo_), k_hi(k_hi_), whole_tiles(tile_count) {
    const int rest = tile_count % units + units;  // the tiles whose k-tiles are shared out
    if (kStreamK && tile_count > units && rest != units && static_cast<long long>(rest) * kt <= 0x7fffffff) {
      whole_tiles = tile_count - rest;
      const int shared = rest * kt, q = shared / units, r = shared % units;
      sk_b = unit * q + min(unit, r);
      sk_e = sk_b + q + (unit < r ? 1 : 0);
      t_last = (sk_e - 1) / kt;
    }
    n_whole = unit < whole_tiles ? (whole_tiles - unit + units - 1) / units : 0;
    items = n_whole + (sk_e > sk_b ? t_last - sk_b / kt + 1 : 0);
  }
  __device__ Work get(int j) const {
    if (j < n_whole) return Work{unit + j * units, k_lo, k_hi, kWhole};
    const int t = t_last - (j - n_whole), t0 = t * kt;  // the last shared tile first
    const int k0 = max(sk_b, t0) - t0, k1 = min(sk_e, t0 + kt) - t0;
    return Work{whole_tiles + t, k0, k1, k0 > 0 ? kTail : k1 < kt ? kHead : kWhole};
  }
};

#if JF_STREAM_K
// Stream-K: CTA `cta`'s slot of the workspace, JF_BM x JF_BN f32 as float4s [i][q] for consumer
// thread q (coalesced; the finisher's thread q reads the same ones), and consumer warp (c, w)'s
// flag: the number of its lanes whose sums are there.
__device__ __forceinline__ float4* sk_slot(const jf_params& p, int cta) {
  return reinterpret_cast<float4*>(p.sk_part) + static_cast<long long>(cta) * (JF_BM * JF_BN / 4);
}
__device__ __forceinline__ unsigned* sk_flag(const jf_params& p, int cta, int c, int w) {
  return p.sk_flags + (cta * JF_CONSUMERS + c) * 4 + w;
}

// A head's sums to CTA `cta`'s slot, then the lane's release of them.
__device__ __forceinline__ void sk_store(const jf_params& p, const float (&acc)[MI][ACC], int cta, int c,
                                         int t) {
  float4* const slot = sk_slot(p, cta) + c * 128 + t;
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int i = 0; i < ACC / 4; ++i) {
      asm volatile("st.global.v4.f32 [%0], {%1, %2, %3, %4};\n"
                   ::"l"(slot + (mi * (ACC / 4) + i) * (128 * JF_CONSUMERS)), "f"(acc[mi][4 * i]),
                   "f"(acc[mi][4 * i + 1]), "f"(acc[mi][4 * i + 2]), "f"(acc[mi][4 * i + 3]) : "memory");
    }
  }
  asm volatile("red.release.gpu.global.add.u32 [%0], 1;\n" ::"l"(sk_flag(p, cta, c, t / 32)) : "memory");
}

// A tail: waits until every lane of the matching warp of CTA `cta` has left its head's sums, adds
// them to acc (acc + head), and resets the flag.
__device__ __forceinline__ void sk_add(const jf_params& p, float (&acc)[MI][ACC], int cta, int c, int t) {
  unsigned* const flag = sk_flag(p, cta, c, t / 32);
  for (;;) {
    unsigned n;
    asm volatile("ld.acquire.gpu.global.u32 %0, [%1];\n" : "=r"(n) : "l"(flag) : "memory");
    if (n == 32) break;
    __nanosleep(64);
  }
  const float4* const slot = sk_slot(p, cta) + c * 128 + t;
  constexpr int BATCH = 4;  // loads in flight: a few registers, not the whole slot
  static_assert((ACC / 4) % BATCH == 0, "gemm_wgmma: stream-K's loads go in batches of 4");
#pragma unroll
  for (int mi = 0; mi < MI; ++mi) {
#pragma unroll
    for (int i0 = 0; i0 < ACC / 4; i0 += BATCH) {
      float4 v[BATCH];
#pragma unroll
      for (int i = 0; i < BATCH; ++i) {
        asm volatile("ld.global.cg.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                     : "=f"(v[i].x), "=f"(v[i].y), "=f"(v[i].z), "=f"(v[i].w)
                     : "l"(slot + (mi * (ACC / 4) + i0 + i) * (128 * JF_CONSUMERS)) : "memory");
      }
#pragma unroll
      for (int i = 0; i < BATCH; ++i) {
        acc[mi][4 * (i0 + i)] += v[i].x;
        acc[mi][4 * (i0 + i) + 1] += v[i].y;
        acc[mi][4 * (i0 + i) + 2] += v[i].z;
        acc[mi][4 * (i0 + i) + 3] += v[i].w;
      }
    }
  }
  __syncwarp();  // every lane has seen the count
  if (t % 32 == 0) asm volatile("st.relaxed.gpu.global.u32 [%0], 0;\n" ::"l"(flag) : "memory");
}
#endif

#if defined(JF_MMA_BF16X3)
// bf16x3: the halves' rows are K rounded up to 8 bf16 (16 bytes, as TMA needs), zero-padded.
__device__ __forceinline__ int x3_kp(int K) { return (K + 7) & ~7; }

// bf16x3: two f32 to their bf16 halves, rounded to nearest: hi = bf16(x), lo = bf16(x - hi),
// packed low element first.
__device__ __forceinline__ void x3_halves(float x0, float x1, unsigned& hi, unsigned& lo) {
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(hi) : "f"(x1), "f"(x0));
  const float r0 = x0 - __uint_as_float(hi << 16), r1 = x1 - __uint_as_float(hi & 0xffff0000u);
  asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(lo) : "f"(r1), "f"(r0));
}

// bf16x3: warp `warp` of `warps` (over the grid) splits its rows of the f32 [rows, K] matrix at
// src (rows 16-byte aligned: K % 4 == 0) into hi ([rows, Kp] bf16 at dst) and lo (the next rows x
// Kp): a row at a time, lanes on consecutive groups of 4 elements (coalesced), 4 groups a lane in
// flight; the padding columns get zeros.
__device__ __forceinline__ void x3_split(const float* __restrict__ src, unsigned short* __restrict__ dst,
                                         int rows, int K, int warp, int warps, int l) {
  const int kp = x3_kp(K), groups = kp / 4;
  unsigned short* const lo_base = dst + static_cast<long long>(rows) * kp;
  constexpr int U = 4;
  for (int r = warp; r < rows; r += warps) {
    const float* const in = src + static_cast<long long>(r) * K;
    const long long out = static_cast<long long>(r) * kp;
    for (int g0 = l; g0 < groups; g0 += 32 * U) {
      float4 v[U];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int k = 4 * (g0 + 32 * u);
        v[u] = make_float4(0.f, 0.f, 0.f, 0.f);
        if (k < K) {
          asm volatile("ld.global.nc.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                       : "=f"(v[u].x), "=f"(v[u].y), "=f"(v[u].z), "=f"(v[u].w) : "l"(in + k));
        }
      }
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int g = g0 + 32 * u;
        if (g >= groups) continue;
        unsigned h0, l0, h1, l1;
        x3_halves(v[u].x, v[u].y, h0, l0);
        x3_halves(v[u].z, v[u].w, h1, l1);
        asm volatile("st.global.v2.b32 [%0], {%1, %2};\n" ::"l"(dst + out + 4 * g), "r"(h0), "r"(h1) : "memory");
        asm volatile("st.global.v2.b32 [%0], {%1, %2};\n" ::"l"(lo_base + out + 4 * g), "r"(l0), "r"(l1) : "memory");
      }
    }
  }
}

// bf16x3: every CTA of the grid waits here until all have arrived (their halves written).
// sync[0] counts arrivals, sync[1] is the generation: the last to arrive resets the count and
// bumps the generation, which the others wait for; both start at 0 (the host zeroes them) and
// come back to a count of 0, so any grid size may follow. The grid must be resident (the
// persistent grid is at most the CTAs the GPU holds at once). The halves are read by TMA (the
// async proxy): proxy fences on both sides.
__device__ __forceinline__ void x3_grid_barrier(unsigned* sync) {
  asm volatile("fence.proxy.async.global;\n" ::: "memory");
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned gen, old;
    asm volatile("ld.relaxed.gpu.global.u32 %0, [%1];\n" : "=r"(gen) : "l"(sync + 1) : "memory");
    asm volatile("atom.acq_rel.gpu.global.add.u32 %0, [%1], 1;\n" : "=r"(old) : "l"(sync) : "memory");
    if (old == gridDim.x - 1) {
      asm volatile("st.relaxed.gpu.global.u32 [%0], 0;\n" ::"l"(sync) : "memory");
      asm volatile("st.release.gpu.global.u32 [%0], %1;\n" ::"l"(sync + 1), "r"(gen + 1) : "memory");
    } else {
      for (;;) {
        unsigned now;
        asm volatile("ld.acquire.gpu.global.u32 %0, [%1];\n" : "=r"(now) : "l"(sync + 1) : "memory");
        if (now != gen) break;
        __nanosleep(256);
      }
    }
  }
  __syncthreads();
  asm volatile("fence.proxy.async.global;\n" ::: "memory");
}
#endif

// Split K: a consumer thread's partial sums (one m64 tile) to [64][RED_LD] f32 at `red`, the
// stages' memory (free: every TMA write has landed and none is pending).
__device__ __forceinline__ void partial_sums_to_smem(const float (&acc)[ACC], unsigned red, int w, int l) {
#pragma unroll
  for (int h = 0; h < 2; ++h) {
#pragma unroll
    for (int j = 0; j < JF_BN / 8; ++j) {
      const unsigned at = red + ((16 * w + 8 * h + l / 4) * RED_LD + 8 * j + 2 * (l % 4)) * 4;
      asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n"
                   ::"r"(at), "f"(acc[4 * j + 2 * h]), "f"(acc[4 * j + 2 * h + 1]) : "memory");
    }
  }
}

// Split K, after a cluster barrier: CTA `kpart` adds up its 64 / SPLIT_K rows of every CTA's
// partial sums (distributed shared memory, in rank order: deterministic) and applies the
// epilogue; t is the consumer thread (0..127). Every remote read is issued before the first sum
// is used: one round trip of the cluster's latency, not one for each pair. The sums go to this
// thread's own slots of this CTA's partial sums (no other thread or CTA reads them again), and a
// loop that is not unrolled applies the epilogue to them: two copies of its code, whatever the
// tile (measured level with the epilogue inlined: 5.3 us at f32 128x1024x512 on an H200).
__device__ __forceinline__ void split_k_reduce(const jf_params& p, unsigned red, int kpart, int m0,
                                               int n0, int M, int N, int t) {
  constexpr int ROWS = 64 / SPLIT_K;
  static_assert(ROWS * JF_BN / 2 % 128 == 0, "gemm_wgmma: split K's rows must be whole passes of 128 threads");
  constexpr int PER = ROWS * JF_BN / 2 / 128;
  float2 v[PER][SPLIT_K];
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int q = t + 128 * i, r = kpart * ROWS + q / (JF_BN / 2), cl = 2 * (q % (JF_BN / 2));
#pragma unroll
    for (int c = 0; c < SPLIT_K; ++c) v[i][c] = jf_dsmem_ld2(red + (r * RED_LD + cl) * 4, c);
  }
#pragma unroll
  for (int i = 0; i < PER; ++i) {
    const int q = t + 128 * i, r = kpart * ROWS + q / (JF_BN / 2), cl = 2 * (q % (JF_BN / 2));
    float2 sum = v[i][0];
#pragma unroll
    for (int c = 1; c < SPLIT_K; ++c) {
      sum.x += v[i][c].x;
      sum.y += v[i][c].y;
    }
    asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n" ::"r"(red + (r * RED_LD + cl) * 4), "f"(sum.x),
                 "f"(sum.y) : "memory");
  }
#pragma unroll 1
  for (int i = 0; i < PER; ++i) {
    const int q = t + 128 * i, r = kpart * ROWS + q / (JF_BN / 2), cl = 2 * (q % (JF_BN / 2));
    const int row = m0 + r, col = n0 + cl;
    float sum[2];
    jf_lds_vec<2>(red + (r * RED_LD + cl) * 4, sum);
    if (row < M && col < N) jf_epilogue_vec<2>(p, row, col, N, sum);
  }
}

}  // namespace jf_wg

#if JF_CLUSTER > 1
#define JF_CLUSTER_DIMS __cluster_dims__(JF_CLUSTER, 1, 1)
#elif JF_SPLIT_K > 1
#define JF_CLUSTER_DIMS __cluster_dims__(JF_SPLIT_K, 1, 1)
#else
#define JF_CLUSTER_DIMS
#endif

extern "C" __global__ void JF_CLUSTER_DIMS __launch_bounds__(JF_THREADS, 1)
    JF_KERNEL_NAME(const __grid_constant__ jf_params p) {
  using namespace jf_wg;
  extern __shared__ __align__(1024) unsigned char jf_smem[];
  // Barriers first (full[s], empty[s], split[s], order[2], acc_full, acc_empty: 8 bytes each),
  // the schedule, then the stages from the next 1024-byte boundary, as the 128-byte swizzle needs.
  constexpr int SCHED_AT = 24 * JF_STAGES + 32;
  const unsigned bars = jf_smem_addr(jf_smem);
  const unsigned tiles = (bars + SCHED_AT + sizeof(Schedule) + 1023) & ~1023u;
  // The epilogue's memory, EPI_BYTES: the hand-off buffer, then the consumer warps' staging.
  const unsigned epi = tiles + JF_STAGES * STAGE;
  const unsigned staging = epi + HAND_BYTES;
  auto full = [&](int s) { return bars + 8 * s; };
  auto empty = [&](int s) { return bars + 8 * (JF_STAGES + s); };
  auto split = [&](int s) { return bars + 8 * (2 * JF_STAGES + s); };
  auto order = [&](int c) { return bars + 8 * (3 * JF_STAGES + c); };
  const unsigned acc_full = bars + 8 * (3 * JF_STAGES + 2), acc_empty = acc_full + 8;

  const int M = JF_M(p), N = JF_N(p), K = JF_K(p);
  // Tiles of a cluster (JF_CLUSTER_M x JF_CLUSTER_N adjacent ones: a cluster tile) in the
  // grouped order; CTA `rank` of a cluster takes the tile at (rank_m, rank_n) of each. The grid
  // may be smaller than the tile count (persistent): cluster i takes cluster tiles i, i +
  // clusters, ... Every CTA of a cluster walks the same cluster tiles, in step.
  const int rank = CLUSTER > 1 ? int(jf_cluster_ctarank()) : 0;
  const int rank_m = rank % JF_CLUSTER_M, rank_n = rank / JF_CLUSTER_M;
  const int tiles_m = (M + JF_BM - 1) / JF_BM;
  const int cluster_rows = (tiles_m + JF_CLUSTER_M - 1) / JF_CLUSTER_M;
  const int tiles_n = (N + JF_BN - 1) / JF_BN;
  const int cluster_cols = (tiles_n + JF_CLUSTER_N - 1) / JF_CLUSTER_N;
  const int tile_count = cluster_rows * cluster_cols;
  auto origin = [&](int tile, int& m0, int& n0) {
    int tm, tn;
    jf_gemm_tile(tile, cluster_rows, cluster_cols, tm, tn);
    m0 = (tm * JF_CLUSTER_M + rank_m) * JF_BM;
    n0 = (tn * JF_CLUSTER_N + rank_n) * JF_BN;
  };
  // This CTA's k-tiles: all, or (split K) its share; its work, a piece at a time.
  const int kt_pass = (K + JF_BK - 1) / JF_BK;  // k-tiles of one pass over K
  const int kt_all = (kX3 ? 3 : 1) * kt_pass;  // bf16x3: three passes, lo_a hi_b, hi_a lo_b, hi_a hi_b
  const int kpart = SPLIT_K > 1 ? int(jf_cluster_ctarank()) : 0;
  // Without stream-K the schedule folds to constants where the dims are baked in (a k-tile count
  // known to the compiler). With it, it lives in shared memory, read where needed: in registers,
  // its fields would stay live through the consumers' loop, whose 128 accumulators a thread
  // leave few to spare (ptxas spilled).
  const Schedule mine(blockIdx.x / (CLUSTER * SPLIT_K), gridDim.x / (CLUSTER * SPLIT_K),
                      tile_count, kt_all, kpart * kt_all / SPLIT_K, (kpart + 1) * kt_all / SPLIT_K);
  Schedule* const shared_sched = reinterpret_cast<Schedule*>(jf_smem + SCHED_AT);
  const Schedule& sched = kStreamK ? *shared_sched : mine;
  const int wg = threadIdx.x / 128;  // 0: the producer

  if (threadIdx.x == 0) {
    if (kStreamK) *shared_sched = mine;
    for (int s = 0; s < JF_STAGES; ++s) {
      jf_mbar_init(full(s), 1);
      jf_mbar_init(empty(s), (kPingPong ? 1 : JF_CONSUMERS) * CLUSTER);
      jf_mbar_init(split(s), 3);  // tf32x3: warps 1-3 of the producer warpgroup
    }
    jf_mbar_init(order(0), 1);  // ping-pong: consumer warpgroup c may start its next tile
    jf_mbar_init(order(1), 1);
    jf_mbar_init(acc_full, 128 * JF_CONSUMERS);  // hand-off: every consumer thread wrote its part
    jf_mbar_init(acc_empty, 32 * EPI_WARPS);     // every epilogue thread read its share
    jf_mbar_init_fence();
    jf_tma_prefetch(&p.tma_a);
    jf_tma_prefetch(&p.tma_b);
#if defined(JF_MMA_BF16X3)
    jf_tma_prefetch(&p.tma_a_lo);
    jf_tma_prefetch(&p.tma_b_lo);
#endif
  }
#if JF_CLUSTER > 1
  jf_cluster_sync();  // the peers' barriers exist before any multicast or remote arrive
#else
  __syncthreads();
#endif
  // Launched with programmatic stream serialization (LaunchConfig::pdl), everything above may
  // run during the previous kernel's tail; nothing below touches global memory before that
  // kernel is done. The next kernel's CTAs may then take the SMs this grid leaves free.
  jf_grid_dependency_wait();
  jf_grid_launch_dependents();
#if defined(JF_MMA_BF16X3)
  {  // A and B into their bf16 halves, every warp of the grid a share; then all of them done.
    const int warps = gridDim.x * (JF_THREADS / 32), warp = blockIdx.x * (JF_THREADS / 32) + threadIdx.x / 32;
    x3_split(p.a, p.x3_a, M, K, warp, warps, threadIdx.x % 32);
    x3_split(p.b, p.x3_b, N, K, warp, warps, threadIdx.x % 32);
    x3_grid_barrier(p.x3_sync);
  }
#endif

  // Every role counts k-tiles over all of this CTA's tiles: k-tile `it` (0, 1, ...) lives in
  // stage it % JF_STAGES, in that stage's use number it / JF_STAGES (the barrier phase).
  if (wg == 0) {
#if JF_CONSUMERS > 1
    jf_setmaxnreg_dec<kHandoff ? 56 : 40>();  // the hand-off's epilogue warps need more
#endif
    if (threadIdx.x == 0) {
      int it = 0;
      for (int j = 0; j < sched.items; ++j) {
        const Work wk = sched.get(j);
        int m0, n0;
        origin(wk.tile, m0, n0);
        for (int kt = wk.k0; kt < wk.k1; ++kt, ++it) {
          const int s = it % JF_STAGES;
          if (it >= JF_STAGES) jf_mbar_wait(empty(s), ((it / JF_STAGES) - 1) & 1);
          jf_mbar_arrive_expect_tx(full(s), LOADED);
          const unsigned a = tiles + s * STAGE;
          int k0 = kt * JF_BK;
          const jf_tensor_map* map_a = &p.tma_a;
          const jf_tensor_map* map_b = &p.tma_b;
#if defined(JF_MMA_BF16X3)
          const int pass = kt / kt_pass;  // lo_a hi_b, hi_a lo_b, hi_a hi_b
          k0 = (kt - pass * kt_pass) * JF_BK;
          if (pass == 0) map_a = &p.tma_a_lo;
          if (pass == 1) map_b = &p.tma_b_lo;
#endif
#if JF_CLUSTER_N > 1
          // A's part rank_n, into every CTA of this tile row (ranks rank_m + JF_CLUSTER_M j).
          jf_tma_load_2d_multicast(a + rank_n * A_PART * ROW, map_a, k0, m0 + rank_n * A_PART, full(s),
                                   (JF_CLUSTER_M == 1 ? 0x3u : 0x5u) << rank_m);
#else
          jf_tma_load_2d(a, map_a, k0, m0, full(s));
#endif
#if JF_CLUSTER_M > 1
          // B's part rank_m, into every CTA of this tile column (ranks JF_CLUSTER_M rank_n + i).
          jf_tma_load_2d_multicast(a + A_STAGE + rank_m * B_PART * ROW, map_b, k0,
                                   n0 + rank_m * B_PART, full(s), ((1u << JF_CLUSTER_M) - 1) << (JF_CLUSTER_M * rank_n));
#else
          jf_tma_load_2d(a + A_STAGE, map_b, k0, n0, full(s));
#endif
        }
      }
    } else if (kSplit && threadIdx.x >= 32) {
      int it = 0;
      for (int j = 0; j < sched.items; ++j) {
        const Work wk = sched.get(j);
        for (int kt = wk.k0; kt < wk.k1; ++kt, ++it) {
          const int s = it % JF_STAGES;
          jf_mbar_wait(full(s), (it / JF_STAGES) & 1);
          split_b(tiles + s * STAGE + A_STAGE, threadIdx.x - 32, 96);
          asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // for the wgmma reads
          __syncwarp();
          if (threadIdx.x % 32 == 0) jf_mbar_arrive(split(s));
        }
      }
    } else if (kHandoff && threadIdx.x >= 32) {
      // The epilogue warps: each of this CTA's tiles once the consumers have handed it off; on
      // the last one, the consumer warps join in.
      for (int n = 0; n < sched.items; ++n) {
        int m0, n0;
        origin(sched.get(n).tile, m0, n0);
        const bool last = n + 1 == sched.items;
        jf_mbar_wait(acc_full, n & 1);
        drain_handoff(p, epi, m0, n0, M, N, threadIdx.x / 32 - 1,
                      EPI_WARPS + (last ? 4 * JF_CONSUMERS : 0), threadIdx.x % 32);
        if (!last) jf_mbar_arrive(acc_empty);
      }
    }
  } else {
#if JF_CONSUMERS > 1
    jf_setmaxnreg_inc<kHandoff ? 224 : 232>();
#endif
    const int c = wg - 1;
    const int t = threadIdx.x % 128, w = t / 32, l = t % 32;
    // Releases stage s in every CTA of the cluster.
    auto release = [&](int s) {
      if (t != 0) return;
#if JF_CLUSTER > 1
      for (int r = 0; r < CLUSTER; ++r) jf_mbar_arrive_cluster(empty(s), r);
#else
      jf_mbar_arrive(empty(s));
#endif
    };
    // Issues k-tile `it`'s products into d (with `fresh`, d is overwritten, not added to).
    auto issue = [&](int it, float (&d)[MI][ACC], bool fresh) {
      const int s = it % JF_STAGES;
      jf_mbar_wait(full(s), (it / JF_STAGES) & 1);
      const unsigned a = tiles + s * STAGE + (kPingPong ? 0 : c * WG_M * ROW);
      const unsigned b = tiles + s * STAGE + A_STAGE;
      if constexpr (kSplit) {
        // The registers of A must not change while a wgmma that reads them runs (PTX: undefined;
        // ptxas does not guard it, measured: wrong sums), so the previous k-tile's products
        // finish first; the other consumer warpgroup's keep the tensor cores busy meanwhile.
        jf_wgmma_wait<0>();
        unsigned big[MI][KSTEPS][4], small[MI][KSTEPS][4];
        load_split_a(a, w, l, big, small);
        jf_mbar_wait(split(s), (it / JF_STAGES) & 1);  // B's small half is written
        products_split(d, big, small, b, fresh);
      } else {
        products(d, a, b, fresh);
      }
      jf_wgmma_commit();
    };

    // Ping-pong: consumer c takes every other tile of this CTA's, c's first. Tile j of the CTA
    // is k-tiles j * kt_count ... of the stage ring, so c skips the other's. Before its n-th
    // tile, c waits until the other has issued all of its previous one (order(c)): the
    // mainloops take turns, each overlapping the other's epilogue, and no consumer waits on a
    // stage more than one use ahead of it (a barrier's parity would not tell them apart).
    constexpr int per = kPingPong ? 2 : 1;
    auto issued_all = [&]() {
      if (kPingPong && t == 0) jf_mbar_arrive(order(1 - c));
    };
    float acc[MI][ACC];
    const int kt_whole = sched.k_hi - sched.k_lo;  // a whole tile's k-tiles (ping-pong's unit)
    int it = kPingPong ? c * kt_whole : 0;
    int n = 0;
    for (int j = kPingPong ? c : 0; j < sched.items; j += per, ++n) {
      const Work wk = sched.get(j);
      const int kt_count = wk.k1 - wk.k0;
      int m0, n0;
      origin(wk.tile, m0, n0);
      if (kPingPong && (c == 1 || n > 0)) jf_mbar_wait(order(c), (c == 1 ? n : n - 1) & 1);
      if constexpr (!kSplit) mainloop(acc, it, kt_count, issue, release, issued_all);
      else mainloop_tile_sums(acc, it, kt_count, issue, release);

      if constexpr (SPLIT_K > 1) {
        partial_sums_to_smem(acc[0], tiles, w, l);  // added up after the cluster barrier below
      } else if constexpr (kHandoff) {
        const bool last = j + 1 == sched.items;
        if (n > 0) jf_mbar_wait(acc_empty, (n - 1) & 1);  // the buffer's previous tile is read
        acc_to_handoff(acc, epi, c * WG_M, w, l);
        jf_mbar_arrive(acc_full);
        if (HANDOFF < JF_BN) {
          epilogue(p, acc, m0 + c * WG_M, n0, M, N, staging + (c * 4 + w) * EPI_WARP, w, l,
                   HANDOFF / CHUNK_COLS);
        }
        if (last) {  // no next tile to multiply: help the epilogue warps
          jf_mbar_wait(acc_full, n & 1);
          drain_handoff(p, epi, m0, n0, M, N, EPI_WARPS + 4 * c + w, EPI_WARPS + 4 * JF_CONSUMERS, l);
        }
      } else {
#if JF_STREAM_K
        if (wk.role == kHead) {  // a share of the tile's k-tiles: a later unit finishes it
          sk_store(p, acc, blockIdx.x, c, t);
          continue;
        }
        if (wk.role == kTail) sk_add(p, acc, blockIdx.x - CLUSTER, c, t);
#endif
        // The fused epilogue, while the producer already loads the next tile.
        epilogue(p, acc, m0 + (kPingPong ? 0 : c * WG_M), n0, M, N, staging + (c * 4 + w) * EPI_WARP, w, l);
      }
      if (kPingPong) it += kt_whole;  // the other consumer's tile
    }
  }
#if JF_SPLIT_K > 1
  jf_cluster_sync();  // every CTA's partial sums are in its shared memory
  if (wg == 1 && sched.items > 0) {
    int m0, n0;
    origin(sched.get(0).tile, m0, n0);
    split_k_reduce(p, tiles, kpart, m0, n0, M, N, threadIdx.x - 128);
  }
#endif
#if JF_CLUSTER > 1 || JF_SPLIT_K > 1
  jf_cluster_sync();  // no CTA leaves while a peer may still arrive on its barriers or read its sums
#endif
}
