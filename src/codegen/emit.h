// emit_source: one kernel of a Plan -> CUDA C++ source. The source is a short generated
// prologue (types, dims, the parameter struct, the fused epilogue) followed by an #include of
// a template from templates/. Deterministic, byte for byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "codegen/config.h"
#include "common/arch.h"
#include "plan/plan.h"

namespace jitfuse {

// One field of the kernel's parameter struct, and what the host binds to it.
struct Param {
  // scratch: a pointer into the kernel's own device scratch, which the host owns; `dim` names
  // the part: "sk_flags" or "sk_part" (stream-K), "x3_sync", "x3_a" or "x3_b" (bf16x3).
  enum class Kind { pointer, i32, i64, tensor_map, scratch };
  std::string field;  // member name in jf_params
  Kind kind = Kind::pointer;
  int value = -1;     // pointer: the value id whose buffer it is
  bool writes = false;
  int align = 0;      // pointer: alignment in bytes the kernel relies on (16 for vector loads)
  std::string dim;    // i32/i64: "M", "N", "K" (gemm), "numel" (elementwise) or "sym:<symbol>"
  // tensor_map: a TMA descriptor (CUtensorMap) of the 2-D row-major tensor `value`, with a box of
  // box_rows x box_cols elements, swizzled by its row bytes (128 or 64), zero-filled outside. With
  // `dim` "x3:a_hi", "x3:a_lo", "x3:b_hi" or "x3:b_lo": of that bf16 half of `value` in the
  // kernel's bf16x3 scratch instead (x3_layout), rows of K rounded up to 8.
  int box_rows = 0, box_cols = 0;
};

// How the host launches a kernel.
struct LaunchConfig {
  KernelKind kind = KernelKind::elementwise;
  int threads = 0;
  int smem_bytes = 0;       // dynamic shared memory
  int tile_m = 0, tile_n = 0;   // gemm: grid = ceil(M/tile_m) * ceil(N/tile_n)
  int items_per_thread = 0;     // elementwise: elements each thread handles per grid pass
  int cluster_m = 1;            // gemm: CTAs per cluster along M (tiles_m is rounded up to it)
  int cluster_n = 1;            // gemm: CTAs per cluster along N (tiles_n is rounded up to it)
  int cluster_ctas() const { return std::max(1, cluster_m) * std::max(1, cluster_n); }
  int blocks_per_sm = 0;        // elementwise: grid = min(blocks needed, SMs * this), one resident wave
  bool persistent = false;      // gemm: at most one CTA an SM (whole clusters); CTAs loop over tiles
  int split_k = 1;              // gemm: CTAs a tile (a cluster), each summing a share of K
  bool stream_k = false;        // gemm: needs stream-K scratch (stream_k_layout) for its grid
  bool x3 = false;              // gemm: needs bf16x3 scratch (x3_layout) for its M, N, K
  bool pdl = false;             // launch with programmatic stream serialization: the kernel
                                // waits (griddepcontrol.wait) before touching global memory
};

// Stream-K's scratch for a grid of at most `ctas` CTAs: the flags (a u32 a consumer warp of each
// CTA, zero between launches) at offset 0, the partial tiles (tile_m x tile_n f32 a CTA) at
// `part_offset`; `bytes` in all.
struct StreamKLayout {
  std::size_t part_offset = 0, bytes = 0;
};
StreamKLayout stream_k_layout(const LaunchConfig& launch, std::int64_t ctas);

// bf16x3's scratch for an M x K by N x K problem: the grid barrier's two counters (zero between
// launches) at 0, A's halves (hi then lo, [M, Kp] bf16 each, Kp = K rounded up to 8) at a_offset,
// B's at b_offset; `bytes` in all.
struct X3Layout {
  std::int64_t kp = 0;
  std::size_t a_offset = 0, b_offset = 0, bytes = 0;
};
X3Layout x3_layout(std::int64_t m, std::int64_t n, std::int64_t k);

// A generated kernel.
struct KernelSource {
  std::string name;                   // the CUDA function name
  std::string code;                   // the translation unit NVRTC compiles
  std::vector<std::string> includes;  // embedded headers the prologue includes, template last
  std::string config;                 // the template instance, for explain
  std::vector<std::string> not_applied;  // requests (a GEMM choice, math bf16x3) this kernel does
                                         // not honour, each with why (GemmConfig::not_applied)
  std::string math;  // an f32 GEMM kernel's arithmetic as generated ("ieee", "tf32", "tf32x3",
                     // "bf16x3"); empty for kernels math does not change (f16, bf16, elementwise)
  std::map<std::string, std::int64_t> dims;  // the graph's symbols baked in (CompileOptions::dims)
  std::vector<Param> params;          // in struct order
  LaunchConfig launch;
};

// What the generated code depends on beyond the plan.
struct EmitOptions {
  Arch arch;
  MathMode math = MathMode::ieee;
  GemmChoice gemm;  // overrides the GEMM config heuristic where possible
};

// What math mode "auto" means for this plan on `arch`: when the graph is f32 and every GEMM
// kernel would run tf32x3 on the wgmma template, bf16x3 (faster, within the same 1e-4) if every
// GEMM's dims are known and too large for the small config, else tf32x3; ieee otherwise. Other
// modes come back unchanged.
MathMode resolve_math(const TypedGraph& g, const Plan& plan, const Arch& arch, MathMode requested);

// Generates kernel `kernel` of `plan`.
Expected<KernelSource> emit_source(const TypedGraph& g, const Plan& plan, int kernel,
                                   const EmitOptions& options);

}  // namespace jitfuse
