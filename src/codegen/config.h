// Which template and tile configuration a GEMM kernel uses, per dtype, math mode, arch and
// (where known) shape. The shared-memory formulas mirror the static_asserts in templates/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/arch.h"
#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

enum class GemmTemplate { simt, mma, wgmma };

// One instance of a GEMM template.
struct GemmConfig {
  GemmTemplate tmpl = GemmTemplate::simt;
  int bm = 0, bn = 0, bk = 0;        // block tile
  int wm = 0, wn = 0, stages = 0;    // mma: warp tile; mma and wgmma: pipeline depth
  int consumers = 0;                 // wgmma: consumer warpgroups (one producer besides)
  int cluster_m = 1;                 // wgmma: CTAs per cluster along M, sharing B by multicast
  int cluster_n = 1;                 // wgmma: CTAs per cluster along N, sharing A by multicast
  bool persistent = false;           // wgmma: one CTA an SM, each walking its share of the tiles
  int sum_ktiles = 0;                // wgmma tf32x3: k-tiles summed in the tensor cores per f32 add
  int split_k = 1;                   // wgmma small: CTAs (one cluster) sharing a tile's K
  bool pingpong = false;             // wgmma: each consumer warpgroup a tile, taking turns
  int handoff = 0;                   // wgmma: a tile's columns whose epilogue the producer's idle warps run
  bool stream_k = false;             // wgmma persistent: the last waves' k-tiles shared out evenly
  bool x3 = false;                   // wgmma, f32 bf16x3: the kernel splits A and B into bf16 halves first
  int tm = 0, tn = 0;                // simt: thread tile
  int threads = 0;
  int smem_bytes = 0;                // dynamic shared memory per block
  std::string mma_macro;             // mma, wgmma: "JF_MMA_BF16", ...; empty for simt
  MathMode math = MathMode::ieee;    // f32: the arithmetic this config does (a mode it cannot
                                     // do falls back: bf16x3 to tf32x3, tensor cores to FFMA)
  std::string note;                  // why this one, for explain
  std::vector<std::string> not_applied;  // what the choice or math asked for and this config does
                                         // not do, each with why (also in the note)

  // "gemm_mma.cu 128x128x32, 4 stages, 256 threads, 80 KB smem".
  std::string describe() const;
  // The template's file name, e.g. "gemm_mma.cu".
  std::string template_file() const;
};

// What the caller (or a `jitfuse tune` record) asks of the GEMM config: a template, and for wgmma
// whether CTA pairs share B and whether the grid is persistent. Unset fields leave the choice to
// the heuristic.
struct GemmChoice {
  std::optional<GemmTemplate> tmpl;
  int cluster_m = 0;   // wgmma: 1 or 2; 0 = the heuristic's
  int cluster_n = 0;   // wgmma: 1 or 2 (set with cluster_m, by "cluster=..."); 0 = the heuristic's
  int tile_m = 0;      // wgmma, large problems but tf32x3 and ping-pong: 128 (128x256 tiles) or
                       // 256 (256x128); 0 = the heuristic's
  int persistent = -1;  // wgmma: 0 or 1; -1 = the heuristic's
  int sum_ktiles = 0;   // wgmma tf32x3: 1, 2, 4 or 8; 0 = the heuristic's
  int split_k = 0;      // wgmma, small problems: 1, 2, 4 or 8; 0 = the heuristic's
  int pingpong = -1;    // wgmma, large problems but tf32x3: 0 or 1; -1 = the heuristic's
  int small_bn = 0;     // wgmma, small problems: tile columns, 32 or 64; 0 = the heuristic's
  int handoff = -1;     // wgmma, large problems but tf32x3: 0 none, 1 half a tile, 2 all; -1 = the heuristic's
  int stream_k = -1;    // wgmma, large persistent problems: 0 or 1; -1 = the heuristic's (0)

  // Nothing asked: the heuristic (or a tune record) decides.
  bool is_auto() const {
    return !tmpl && cluster_m == 0 && cluster_n == 0 && tile_m == 0 && persistent < 0 &&
           sum_ktiles == 0 && split_k == 0 && pingpong < 0 && small_bn == 0 && handoff < 0 &&
           stream_k < 0;
  }
  // "auto", "wgmma", "wgmma,cluster=2,persistent=0,sum=4", "mma", "simt": what
  // parse_gemm_choice reads.
  std::string text() const;
};

// Parses CompileOptions::gemm: "" or "auto", or TEMPLATE[,SETTING...] with TEMPLATE one of
// wgmma, mma, simt and SETTING (wgmma only) cluster=1|2|2n|2x2 (CTA pairs along M sharing B, along
// N sharing A, or clusters of 2x2 sharing both), tile=128x256|256x128 (large problems but tf32x3
// and ping-pong), persistent=0|1, sum=1|2|4|8 (tf32x3:
// k-tiles the tensor cores sum before each rounded f32 add), split=1|2|4|8 (small problems:
// CTAs of a cluster sharing a tile's K), bn=32|64 (small problems: 64x32 or 64x64 tiles) or
// pingpong=0|1 (large problems: 128x128 tiles, one a consumer warpgroup, taking turns) or
// handoff=0|half|full (large problems but tf32x3: the epilogue of half the tile's columns, or
// all of them, runs in the producer warpgroup's idle warps during the next tile's products) or
// streamk=0|1 (large persistent problems, not with ping-pong or a hand-off; off by default: when
// the SMs do not divide the tiles, the k-tiles of the last waves are shared out evenly, partial
// tiles summed through a global workspace). A bad_option error names what is wrong.
Expected<GemmChoice> parse_gemm_choice(std::string_view text);

// The problem a config is chosen for; unknown dims are nullopt.
struct GemmShape {
  std::optional<std::int64_t> m, n, k;
};

// Picks the template and tiles. f32 ieee -> SIMT FFMA; f16/bf16 and f32 tf32/tf32x3 -> wgmma with
// TMA on sm_90a when B is [N,K], rows are 16-byte aligned and the problem either fills the GPU
// with 128x256 tiles (128x128 for tf32x3) or is small (at most 128 tiles of 64x64: then 64x32
// or 64x64 tiles, latency-bound); otherwise mma.sync on sm_80+, SIMT below (tf32 modes then fall back to
// ieee, which is more accurate).
// `kn`: B is [K,N] (it changes the shared-memory layout); `aligned`: A's and B's rows allow
// 16-byte loads. Tiles must fit the arch's shared memory; the largest that fills the GPU wins.
// Whether the heuristic gives an f32 tf32x3 GEMM of this shape the wgmma template: what math
// "auto" means tf32x3 for (elsewhere it means ieee).
bool wgmma_tf32x3_applies(bool kn, bool aligned, const Arch& arch, const GemmShape& shape);
// Whether the problem takes the wgmma kernel's small config (at most 128 tiles of 64x64; dims
// known): there "auto" means tf32x3, on larger ones bf16x3.
bool wgmma_small_problem(const GemmShape& shape);

// `choice` overrides the heuristic where the problem allows that template.
GemmConfig choose_gemm_config(DType dtype, MathMode math, bool kn, bool aligned, const Arch& arch,
                              const GemmShape& shape, const GemmChoice& choice = {});

}  // namespace jitfuse
