// Shared-memory tile loaders for templates/gemm_mma.cu: each request moves one operand's next
// JF_BK-wide tile from global memory into a pipeline stage, either by 16-byte cp.async copies
// (AsyncTile, for operands the host marked JF_VEC_*) or through registers (SyncTile, any shape
// and alignment).
//
// Not self-contained: relies on the generated prologue for jf_elem_t, JF_THREADS and JF_BK.
#pragma once

#include "jitfuse/kernels/cp_async.cuh"

namespace jf_mma {

// One operand's tiles, ROWS x COLS elements (COLS contiguous) of a row-major rows x cols matrix,
// copied into smem rows of LD bytes with 16-byte cp.async; the tile advances by JF_BK along k
// with each issue. K_ROWS: k runs along the rows (B as [K,N]); else along the columns.
// Needs cols % VE == 0 and a 16-byte aligned base (the host's JF_VEC_* promise), so a chunk is
// all in or all out of the matrix.
template <int ROWS, int COLS, int LD, bool K_ROWS>
struct AsyncTile {
  static constexpr int VE = 16 / sizeof(jf_elem_t);  // elements per chunk
  static constexpr int CPR = COLS / VE;               // chunks per row
  static constexpr int RSTEP = JF_THREADS / CPR;      // rows between one thread's chunks
  static constexpr int ITERS = (ROWS + RSTEP - 1) / RSTEP;
  static_assert(JF_THREADS % CPR == 0, "gemm_mma: JF_THREADS must be a multiple of the 16-byte chunks in a tile row");
  static_assert(ITERS <= 32, "gemm_mma: too many chunks per thread");

  const jf_elem_t* g;   // this thread's first chunk of the next tile
  long long tile_step;  // elements from one tile to the next
  long long row_step;   // elements between this thread's chunks (RSTEP rows)
  unsigned dst;         // smem offset of this thread's first chunk within a stage
  int r0;               // tile row of the first chunk
  int k_left;           // K minus the k index of this thread's first chunk (columns when !K_ROWS)
  unsigned fixed_ok;    // bit i: chunk i lies inside the matrix along the non-k dimension

  __device__ __forceinline__ void init(const jf_elem_t* src, int rows, int cols, int row0, int col0, int k_extent) {
    r0 = threadIdx.x / CPR;
    const int c0 = (threadIdx.x % CPR) * VE;
    g = src + static_cast<long long>(row0 + r0) * cols + col0 + c0;
    row_step = static_cast<long long>(RSTEP) * cols;
    tile_step = K_ROWS ? static_cast<long long>(JF_BK) * cols : JF_BK;
    dst = r0 * LD + (threadIdx.x % CPR) * 16;
    k_left = k_extent - (K_ROWS ? r0 : c0);
    fixed_ok = 0;
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      const bool ok = K_ROWS ? col0 + c0 < cols : row0 + r0 + i * RSTEP < rows;
      fixed_ok |= static_cast<unsigned>(ok) << i;
    }
  }

  // Starts the copies of the next tile into the stage at shared address stage; base is any valid
  // global address, read by nothing, for the chunks outside the matrix.
  __device__ __forceinline__ void issue(unsigned stage, const jf_elem_t* base) {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      if (ROWS % RSTEP != 0 && r0 + i * RSTEP >= ROWS) break;
      const bool in = ((fixed_ok >> i) & 1u) && (K_ROWS ? i * RSTEP < k_left : 0 < k_left);
      jf_cp_async_16(stage + dst + i * RSTEP * LD, in ? g + i * row_step : base, in);
    }
    g += tile_step;
    k_left -= JF_BK;
  }
};

// The same tiles through registers, one 32-bit word (1 or 2 elements) per load: any cols, any
// alignment. load() fetches the next tile into registers; store() writes them to a stage.
template <int ROWS, int COLS, int LD, bool K_ROWS>
struct SyncTile {
  static constexpr int PER = 4 / sizeof(jf_elem_t);  // elements per word
  static constexpr int WPR = COLS / PER;              // words per tile row
  static constexpr int RSTEP = JF_THREADS / WPR;      // rows between one thread's words
  static constexpr int ITERS = (ROWS + RSTEP - 1) / RSTEP;
  static_assert(JF_THREADS % WPR == 0, "gemm_mma: JF_THREADS must be a multiple of the 4-byte words in a tile row");
  static_assert(ITERS <= 32, "gemm_mma: too many words per thread");

  const jf_elem_t* g;   // this thread's first word of the next tile
  long long tile_step;  // elements from one tile to the next
  long long row_step;   // elements between this thread's words
  unsigned dst;         // smem offset of this thread's first word within a stage
  int r0;               // tile row of the first word
  int k_left;           // K minus the k index of this thread's first element
  unsigned fixed_ok;    // bit i: word i's row is inside the matrix (!K_ROWS); bits 0, 1: its two columns are (K_ROWS)
  unsigned reg[ITERS];

  __device__ __forceinline__ void init(const jf_elem_t* src, int rows, int cols, int row0, int col0, int k_extent) {
    r0 = threadIdx.x / WPR;
    const int c0 = (threadIdx.x % WPR) * PER;
    g = src + static_cast<long long>(row0 + r0) * cols + col0 + c0;
    row_step = static_cast<long long>(RSTEP) * cols;
    tile_step = K_ROWS ? static_cast<long long>(JF_BK) * cols : JF_BK;
    dst = r0 * LD + (threadIdx.x % WPR) * 4;
    k_left = k_extent - (K_ROWS ? r0 : c0);
    fixed_ok = 0;
    if (K_ROWS) {
      fixed_ok = static_cast<unsigned>(col0 + c0 < cols) | static_cast<unsigned>(col0 + c0 + 1 < cols) << 1;
    } else {
#pragma unroll
      for (int i = 0; i < ITERS; ++i) fixed_ok |= static_cast<unsigned>(row0 + r0 + i * RSTEP < rows) << i;
    }
  }

  // Loads the next tile; elements outside the matrix read as zero.
  __device__ __forceinline__ void load() {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      if (ROWS % RSTEP != 0 && r0 + i * RSTEP >= ROWS) break;
      bool ok0, ok1;  // the word's first and second element are inside the matrix
      if constexpr (K_ROWS) {
        const bool row_in = i * RSTEP < k_left;
        ok0 = row_in && (fixed_ok & 1u);
        ok1 = row_in && (fixed_ok & 2u);
      } else {
        const bool row_in = (fixed_ok >> i) & 1u;
        ok0 = row_in && 0 < k_left;
        ok1 = row_in && 1 < k_left;
      }
      const jf_elem_t* at = g + i * row_step;
      unsigned v = 0;
      if constexpr (sizeof(jf_elem_t) == 4) {
        if (ok0) v = *reinterpret_cast<const unsigned*>(at);
      } else {
        const unsigned short* h = reinterpret_cast<const unsigned short*>(at);
        if (ok0) v = h[0];
        if (ok1) v |= static_cast<unsigned>(h[1]) << 16;
      }
      reg[i] = v;
    }
    g += tile_step;
    k_left -= JF_BK;
  }

  // Writes the loaded words into the stage at stage (generic pointer to shared memory).
  __device__ __forceinline__ void store(unsigned char* stage) const {
#pragma unroll
    for (int i = 0; i < ITERS; ++i) {
      if (ROWS % RSTEP != 0 && r0 + i * RSTEP >= ROWS) break;
      *reinterpret_cast<unsigned*>(stage + dst + i * RSTEP * LD) = reg[i];
    }
  }
};

}  // namespace jf_mma
