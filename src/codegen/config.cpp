#include "codegen/config.h"

#include <fmt/format.h>

#include <array>
#include <string_view>
#include <vector>

namespace jitfuse {
namespace {

// Records a request (a GemmChoice template or setting, math bf16x3) that this config does not
// honour: in the note, which explain prints, and in not_applied, which compile warns about.
void not_applied(GemmConfig& c, std::string why) {
  c.note += (c.note.empty() ? "" : "; ") + why;
  c.not_applied.push_back(std::move(why));
}

// Must equal the static_assert in templates/gemm_simt.cu: two f32 buffers of As[BK][BM + 4]
// and Bs[BK][BN + 4], whatever the element type.
int simt_smem(const GemmConfig& c) { return 2 * c.bk * (c.bm + c.bn + 8) * 4; }

// Must equal the static_assert in templates/gemm_mma.cu: STAGES buffers of A [BM][BK] and B, rows
// padded by 16 bytes (B as [BK][BN], when kn, padded by 8 elements).
int mma_smem(const GemmConfig& c, int elem, bool kn) {
  const int a = c.bm * (c.bk * elem + 16);
  const int b = kn ? c.bk * (c.bn + 8) * elem : c.bn * (c.bk * elem + 16);
  return c.stages * (a + b);
}

// Dynamic shared memory a block may opt into, per arch family (CUDA programming guide).
int smem_limit(const Arch& arch) {
  switch (arch.sm) {
    case 75: return 64 * 1024;
    case 80: case 87: return 163 * 1024;
    case 86: case 88: case 89: case 120: case 121: return 99 * 1024;
    default: return 227 * 1024;  // sm_90, sm_100, sm_103, sm_110
  }
}

// Blocks the grid would have, or a large number when M or N is only known at run time (then
// the large-problem config is the better bet).
std::int64_t tiles(const GemmShape& s, int bm, int bn) {
  if (!s.m || !s.n) return 1 << 30;
  return ((*s.m + bm - 1) / bm) * ((*s.n + bn - 1) / bn);
}

// Enough blocks to keep most of an H100's 132 SMs busy (128 blocks run at 97% of a full wave).
constexpr std::int64_t kFillGrid = 96;

struct MmaTile {
  int bm, bn, bk, wm, wn, stages;
  const char* note;
};

// Candidates, best first, measured on an H100 (bench/NOTES.md): the first that fits the arch's
// shared memory and (but for the last) fills the GPU wins.
constexpr std::array<MmaTile, 4> k16bit = {{
    {256, 128, 64, 64, 64, 3, "256x128 tiles, 64x64 per warp: the most FLOPs per byte loaded"},
    {128, 128, 64, 64, 64, 3, "128x128 tiles: more blocks for a mid-sized problem"},
    {128, 128, 32, 64, 32, 4, "128x128x32 tiles: fits 99 KB of shared memory"},
    {32, 32, 64, 16, 32, 4, "32x32 tiles: a small problem needs many blocks to fill the GPU"},
}};
constexpr std::array<MmaTile, 2> kTf32 = {{
    {256, 128, 16, 64, 64, 4, "256x128 tiles, 64x64 per warp"},
    {64, 64, 32, 32, 32, 3, "64x64 tiles: a small problem needs many blocks to fill the GPU"},
}};
constexpr MmaTile kTf32x3 = {64, 64, 32, 32, 32, 3, "64x64 tiles: three products per step need the registers"};
constexpr MmaTile kUnaligned = {128, 128, 32, 64, 32, 4, "rows are not 16-byte aligned: element-wise loads"};

// Must equal the static_assert in templates/gemm_wgmma.cu: STAGES of A [BM][BK] and B [BN][BK]
// (tf32x3: and B's small half; A is split in registers), the hand-off's f32 buffer of BM x
// handoff, 2 KB a consumer warp for the epilogue's staging (unless the hand-off takes every
// column), plus barriers and the 1024-byte alignment the swizzle needs.
int wgmma_smem(const GemmConfig& c, int elem, bool split) {
  return c.stages * (c.bm + c.bn + (split ? c.bn : 0)) * c.bk * elem + c.bm * c.handoff * 4 +
         (c.handoff < c.bn ? c.consumers * 8192 : 0) + 2048;
}

// The Hopper kernel: 128x256 tiles, two consumer warpgroups of 64x256 each (128 f32
// accumulators a thread), 4 stages of 48 KB; CTA pairs along M share B by TMA multicast (bf16
// +2%, tf32 +7% on the H100; tf32x3 -1%, so not there). A GemmChoice's cluster
// (CompileOptions::gemm "wgmma,cluster=N", or a `jitfuse tune` record) overrides that.
// tf32x3 takes 128x128 tiles in 4 stages of 48 KB: the tile sums need a second set of
// accumulators and A's halves take registers; each stage holds B's small half too.
// tf32x3: k-tiles of 32 the tensor cores sum (truncating) before each rounded f32 add. Reading
// the partial sum needs its wgmma finished, a pipeline drain each time; see bench/NOTES.md v3.
constexpr int kTf32x3SumKtiles = 4;

// A problem of at most this many 64x64 tiles (one wave on an H100) is latency-bound: the wgmma
// template then runs 64x64 tiles, or 64x32 where those still fit a wave (twice the CTAs, each
// loading a quarter less: bf16 128x1024x512 3.7 -> 3.1 us, tf32x3 8.2 -> 6.0; bench/NOTES.md
// v4), with one consumer warpgroup and up to 8 k-tiles in flight.
constexpr std::int64_t kSmallTiles = 128;

bool wgmma_small(const GemmShape& s) { return s.m && s.n && tiles(s, 64, 64) <= kSmallTiles; }

// The small config's tile width: 32 where 64x32 tiles still fit a wave, else 64.
int small_tile_n(const GemmShape& s) { return tiles(s, 64, 32) <= kSmallTiles ? 32 : 64; }

// Split K for the small config, measured on an H100 at 128x1024x512 (bench/NOTES.md v3, v4): a
// cluster of 2 CTAs a tile helps tf32x3 (64x64 tiles 16.8 -> 12.3 us in v3; 64x32 tiles 7.6 ->
// 6.0 in v4: its k-tiles are heavy, three products and a split each) while 4 and 8 lose; for
// bf16 every split loses (v4: 3.7 us unsplit, 5.0 split in 2; 64x32 tiles 3.1 and 4.1): the
// cluster launch and the reduction cost more than the k-tiles they share. So 2 for tf32x3 when
// that still fits a wave and leaves each CTA at least 2 k-tiles, else 1; 1 when K is unknown.
int small_split_k(const GemmShape& s, int bn, int bk, bool tf32x3) {
  if (!tf32x3 || !s.k) return 1;
  const std::int64_t kt = (*s.k + bk - 1) / bk;
  return tiles(s, 64, bn) * 2 <= kSmallTiles + 4 && kt >= 4 ? 2 : 1;
}

GemmConfig wgmma_small_config(int elem, bool split, int bn) {
  GemmConfig c;
  c.tmpl = GemmTemplate::wgmma;
  c.bm = 64; c.bn = bn; c.bk = 128 / elem; c.stages = split ? 6 : 8; c.consumers = 1;
  c.threads = 128 * (c.consumers + 1);
  c.smem_bytes = wgmma_smem(c, elem, split);
  // One k-tile a partial sum, the most accurate: a small K has few k-tiles, and this is the
  // configuration measured (longer sums are untried here).
  if (split) c.sum_ktiles = 1;
  c.note = fmt::format("a small problem (at most {} tiles of 64x64) is latency-bound: 64x{} "
                       "tiles, one consumer warpgroup, {} k-tiles in flight{}", kSmallTiles, bn,
                       c.stages, split ? " (f32 split into big + small tf32: A in registers, B by 3 producer warps)" : "");
  return c;
}

GemmConfig wgmma_config(int elem, MathMode math, const GemmShape& shape, const GemmChoice& choice) {
  const int cluster = choice.cluster_m;
  GemmConfig c;
  const bool split = elem == 4 && math == MathMode::tf32x3;
  // The small config unless the caller asked for something only the large one has.
  if (wgmma_small(shape) && cluster != 2 && choice.cluster_n != 2 && choice.tile_m == 0 &&
      choice.persistent != 1 && choice.pingpong != 1 && choice.handoff <= 0) {
    c = wgmma_small_config(elem, split, choice.small_bn ? choice.small_bn : small_tile_n(shape));
    if (split && choice.sum_ktiles) c.sum_ktiles = choice.sum_ktiles;
    c.split_k = choice.split_k ? choice.split_k : small_split_k(shape, c.bn, c.bk, split);
    if (c.split_k > 1) {
      c.note += fmt::format(", K split across a cluster of {} CTAs (partial sums added in shared "
                            "memory, in a fixed order)", c.split_k);
    }
    if (choice.stream_k == 1) not_applied(c, "streamk=1 not applied: small problems are not persistent");
    return c;
  }
  c.tmpl = GemmTemplate::wgmma;
  c.bm = 128; c.bn = split ? 128 : 256; c.bk = 128 / elem; c.stages = 4; c.consumers = 2;
  // Ping-pong: 128x128 a consumer warpgroup (the same 128 accumulators a thread), 6 stages of
  // 32 KB; needs the persistent grid, and tf32x3's tile sums would not fit the registers.
  c.pingpong = choice.pingpong == 1 && !split;
  if (c.pingpong) { c.bn = 128; c.stages = 6; }
  // 256x128 tiles (cuBLAS's shape for bf16 at 2048x8192x8192): each consumer warpgroup 128x128,
  // two m64n128 products a k-step, the same stages' bytes and accumulators.
  const bool tall = choice.tile_m == 256 && !split && !c.pingpong;
  if (tall) { c.bm = 256; c.bn = 128; }
  // Hand-off: the f32 buffer takes the shared memory of stages. Half the tile's columns (64 KB):
  // 3 stages of 48 KB; all of them (128 KB): 4 stages of 24 KB, 64-byte rows.
  const int handoff = split || c.pingpong ? 0 : choice.handoff > 0 ? choice.handoff : 0;
  if (handoff == 1) { c.handoff = c.bn / 2; c.stages = 3; }
  if (handoff == 2) { c.handoff = c.bn; c.bk = 64 / elem; }
  c.threads = 128 * (c.consumers + 1);
  c.smem_bytes = wgmma_smem(c, elem, split);
  // Clusters: pairs along M sharing B unless asked otherwise (or a single row or column of tiles).
  const bool one_row = shape.m && *shape.m <= c.bm, one_col = shape.n && *shape.n <= c.bn;
  const bool want = cluster ? cluster == 2 : !split;
  c.cluster_m = want && !one_row ? 2 : 1;
  c.cluster_n = choice.cluster_n == 2 && !one_col ? 2 : 1;
  c.persistent = choice.persistent != 0 || c.pingpong;
  if (split) c.sum_ktiles = choice.sum_ktiles ? choice.sum_ktiles : kTf32x3SumKtiles;
  const char* sharing = c.cluster_m > 1 && c.cluster_n > 1 ? ", clusters of 2x2 sharing A and B by multicast"
                        : c.cluster_n > 1                   ? ", CTA pairs along N sharing A by multicast"
                        : c.cluster_m > 1                   ? ", CTA pairs sharing B by multicast"
                                                            : "";
  c.note = fmt::format("wgmma + TMA, 2 consumer warpgroups of {} and a producer{}{}{}",
                       c.pingpong ? "128x128 tiles each, taking turns (one's epilogue during the "
                                    "other's products)"
                                  : fmt::format("{}x{}", c.bm / 2, c.bn),
                       split ? " (f32 split into big + small tf32: A in the consumers' registers, B by 3 producer warps)" : "",
                       sharing,
                       c.persistent ? ", one CTA an SM looping over tiles (the producer loads the "
                                      "next tile during the epilogue)" : "");
  if (c.handoff) {
    c.note += fmt::format(", the epilogue of {} a tile's columns in the producer's idle warps "
                          "during the next tile's products", c.handoff == c.bn ? "all" : "half");
  }
  if (choice.handoff > 0 && !c.handoff) {
    not_applied(c, fmt::format("handoff={} not applied: not for {}", choice.handoff == 1 ? "half" : "full",
                               split ? "tf32x3" : "ping-pong"));
  }
  // Stream-K: when asked, on the persistent grid without ping-pong or a hand-off (whose
  // consumers' turns assume whole tiles). Off by default: measured slower on the H100 at every
  // large shape (bench/NOTES.md v6): the units' staggered k positions defeat the L2 reuse of A
  // and B that whole waves in step get.
  c.stream_k = c.persistent && !c.pingpong && !c.handoff && choice.stream_k == 1;
  if (c.stream_k) {
    c.note += ", stream-K over the last waves (their k-tiles shared out evenly, split tiles "
              "summed through a workspace)";
  }
  if (choice.stream_k == 1 && !c.stream_k) {
    not_applied(c, "streamk=1 not applied: it needs the persistent grid, without ping-pong or a hand-off");
  }
  if (choice.pingpong == 1 && !c.pingpong) not_applied(c, "pingpong=1 not applied: not for tf32x3");
  if (choice.tile_m != 0 && (split || c.pingpong)) {  // both take 128x128 tiles
    not_applied(c, fmt::format("tile={} not applied: not with {}", choice.tile_m == 256 ? "256x128" : "128x256",
                               split ? "tf32x3" : "ping-pong"));
  }
  if (choice.pingpong == 1 && choice.persistent == 0) not_applied(c, "persistent=0 not applied: ping-pong needs it");
  if (choice.small_bn) not_applied(c, fmt::format("bn={} not applied: for small problems", choice.small_bn));
  if (choice.split_k > 1) {
    not_applied(c, fmt::format("split={} not applied: split K is for small problems (at most {} "
                               "tiles of 64x64, without cluster=2 or persistent=1)", choice.split_k, kSmallTiles));
  }
  return c;
}

GemmConfig from_tile(const MmaTile& t, int elem, bool kn) {
  GemmConfig c;
  c.tmpl = GemmTemplate::mma;
  c.bm = t.bm; c.bn = t.bn; c.bk = t.bk; c.wm = t.wm; c.wn = t.wn; c.stages = t.stages;
  c.threads = (c.bm / c.wm) * (c.bn / c.wn) * 32;
  c.smem_bytes = mma_smem(c, elem, kn);
  c.note = t.note;
  return c;
}

template <std::size_t N>
GemmConfig pick(const std::array<MmaTile, N>& candidates, int elem, bool kn, const Arch& arch,
                const GemmShape& shape) {
  GemmConfig fallback;
  for (std::size_t i = 0; i < N; ++i) {
    GemmConfig c = from_tile(candidates[i], elem, kn);
    if (c.smem_bytes > smem_limit(arch)) continue;
    if (fallback.threads == 0) fallback = c;
    if (tiles(shape, c.bm, c.bn) >= kFillGrid || i + 1 == N) return c;
  }
  return fallback;
}

GemmConfig simt_config(const GemmShape& shape) {
  GemmConfig c;
  c.tmpl = GemmTemplate::simt;
  if (tiles(shape, 128, 128) >= kFillGrid) {
    c.bm = 128; c.bn = 128; c.bk = 8; c.tm = 8; c.tn = 8;
  } else {
    c.bm = 32; c.bn = 32; c.bk = 16; c.tm = 4; c.tn = 4;
    c.note = "32x32 tiles: a small problem needs many blocks to fill the GPU";
  }
  c.threads = (c.bm / c.tm) * (c.bn / c.tn);
  c.smem_bytes = simt_smem(c);
  return c;
}

// f32 math bf16x3 on sm_90a: the large config with bf16 stages (128x256x64, 4 stages of 48 KB,
// CTA pairs unless asked otherwise), always persistent: the kernel's grid barrier (after it splits
// A and B into bf16 halves) needs every CTA resident. Settings that do not go with it are left
// out, with a note.
GemmConfig x3_config(const GemmShape& shape, const GemmChoice& choice) {
  GemmChoice ch;
  ch.tmpl = GemmTemplate::wgmma;
  ch.cluster_m = choice.cluster_m;
  ch.cluster_n = choice.cluster_n;
  ch.tile_m = choice.tile_m;
  ch.persistent = 1;
  std::vector<std::string> dropped;
  if (choice.persistent == 0) dropped.push_back("persistent=0");
  if (choice.pingpong == 1) dropped.push_back("pingpong=1");
  if (choice.handoff > 0) dropped.push_back(choice.handoff == 1 ? "handoff=half" : "handoff=full");
  if (choice.stream_k == 1) dropped.push_back("streamk=1");
  if (choice.split_k > 1) dropped.push_back(fmt::format("split={}", choice.split_k));
  if (choice.small_bn) dropped.push_back(fmt::format("bn={}", choice.small_bn));
  if (choice.sum_ktiles) dropped.push_back(fmt::format("sum={}", choice.sum_ktiles));
  GemmConfig c = wgmma_config(2, MathMode::ieee, shape, ch);
  c.mma_macro = "JF_MMA_BF16X3";
  c.x3 = true;
  c.note = "f32 split into hi + lo bf16 by the kernel first (in device scratch; a grid barrier), then "
           "three bf16 products as one GEMM over 3K; " + c.note;
  for (const std::string& d : dropped) not_applied(c, fmt::format("{} not applied: not with math bf16x3", d));
  return c;
}

}  // namespace

std::string GemmConfig::describe() const {
  if (tmpl == GemmTemplate::simt) {
    return fmt::format("gemm_simt.cu {}x{}x{} tiles, {}x{} per thread, {} threads, {} B smem", bm,
                       bn, bk, tm, tn, threads, smem_bytes);
  }
  if (tmpl == GemmTemplate::wgmma) {
    return fmt::format("gemm_wgmma.cu ({}) {}x{}x{} tiles, {} consumer warpgroups, {} stages, {} "
                       "threads, {} B smem, clusters of {}{}{}{}{}{}{}{}", mma_macro, bm, bn, bk, consumers,
                       stages, threads, smem_bytes,
                       cluster_n > 1 ? fmt::format("{}x{}", cluster_m, cluster_n) : fmt::to_string(cluster_m),
                       persistent ? ", persistent" : "",
                       sum_ktiles ? fmt::format(", tile sums of {} k-tiles", sum_ktiles) : "",
                       split_k > 1 ? fmt::format(", split K {}", split_k) : "",
                       pingpong ? ", ping-pong" : "",
                       handoff ? fmt::format(", epilogue hand-off of {} columns", handoff) : "",
                       stream_k ? ", stream-K" : "", x3 ? ", bf16 halves split first" : "");
  }
  return fmt::format("gemm_mma.cu ({}) {}x{}x{} tiles, {}x{} per warp, {} stages, {} threads, "
                     "{} B smem", mma_macro, bm, bn, bk, wm, wn, stages, threads, smem_bytes);
}

std::string GemmConfig::template_file() const {
  switch (tmpl) {
    case GemmTemplate::simt: return "gemm_simt.cu";
    case GemmTemplate::mma: return "gemm_mma.cu";
    case GemmTemplate::wgmma: return "gemm_wgmma.cu";
  }
  return "gemm_mma.cu";
}

GemmConfig choose_gemm_config(DType dtype, MathMode math, bool kn, bool aligned, const Arch& arch,
                              const GemmShape& shape, const GemmChoice& choice) {
  const std::optional<GemmTemplate> prefer = choice.tmpl;
  // Why the Hopper template cannot take this problem, or empty when it can.
  std::string no_wgmma;
  if (arch.sm != 90 || !arch.specific) no_wgmma = fmt::format("wgmma needs sm_90a, not {}", arch.name());
  else if (kn) no_wgmma = "wgmma (TMA) here needs B as [N,K]";
  else if (!aligned) no_wgmma = "TMA needs 16-byte-aligned rows of A and B";
  else if (dtype == DType::f32 && math == MathMode::ieee) no_wgmma = "f32 math ieee runs on FFMA";
  // bf16x3 runs on the wgmma kernel only; elsewhere tf32x3, which is as accurate or more.
  std::string x3_note;
  if (dtype == DType::f32 && math == MathMode::bf16x3) {
    if (no_wgmma.empty() && prefer.value_or(GemmTemplate::wgmma) == GemmTemplate::wgmma) {
      GemmConfig c = x3_config(shape, choice);
      c.math = MathMode::bf16x3;
      return c;
    }
    x3_note = fmt::format("math bf16x3 needs the sm_90a wgmma kernel ({}): tf32x3 instead",
                          no_wgmma.empty() ? "mma was asked for" : no_wgmma);
    math = MathMode::tf32x3;
  }
  const bool tensor_cores = arch.sm >= 80 && !(dtype == DType::f32 && math == MathMode::ieee);

  GemmConfig c;
  std::string why_not;  // a preference that could not be honoured
  if (prefer == GemmTemplate::simt) return simt_config(shape);
  if (prefer == GemmTemplate::wgmma && !no_wgmma.empty()) why_not = no_wgmma;
  if (prefer == GemmTemplate::mma && !tensor_cores) {
    why_not = arch.sm < 80 ? fmt::format("{} has no mma.sync for these types", arch.name())
                           : "f32 math ieee runs on FFMA (choose --math tf32 or tf32x3)";
  }

  if (!tensor_cores) {
    c = simt_config(shape);
    if (arch.sm < 80) c.note = fmt::format("{} has no bf16/tf32 mma.sync: f32 FFMA on the SIMT path", arch.name());
  } else {
    const int elem = int(dtype_size(dtype));
    const bool wgmma = no_wgmma.empty() && prefer != GemmTemplate::mma &&
                       (prefer == GemmTemplate::wgmma || tiles(shape, 128, 256) >= kFillGrid ||
                        wgmma_small(shape) ||
                        (math == MathMode::tf32x3 && wgmma_tf32x3_applies(kn, aligned, arch, shape)));
    if (wgmma) c = wgmma_config(elem, math, shape, choice);
    else if (!aligned) c = from_tile(kUnaligned, elem, kn);
    else if (dtype != DType::f32) c = pick(k16bit, elem, kn, arch, shape);
    else if (math == MathMode::tf32) c = pick(kTf32, elem, kn, arch, shape);
    else c = from_tile(kTf32x3, elem, kn);
    if (dtype == DType::f16) c.mma_macro = "JF_MMA_F16";
    else if (dtype == DType::bf16) c.mma_macro = "JF_MMA_BF16";
    else c.mma_macro = math == MathMode::tf32 ? "JF_MMA_TF32" : "JF_MMA_TF32X3";
  }
  if (!why_not.empty()) {
    const std::string why = fmt::format("{} was asked for but not possible: {}",
                                        prefer == GemmTemplate::wgmma ? "wgmma" : "mma", why_not);
    c.note = why + (c.note.empty() ? "" : "; " + c.note);
    c.not_applied.insert(c.not_applied.begin(), why);
  }
  if (!x3_note.empty()) not_applied(c, x3_note);
  c.math = tensor_cores ? math : MathMode::ieee;
  return c;
}

bool wgmma_small_problem(const GemmShape& shape) { return wgmma_small(shape); }

bool wgmma_tf32x3_applies(bool kn, bool aligned, const Arch& arch, const GemmShape& shape) {
  return arch.sm == 90 && arch.specific && !kn && aligned &&
         (tiles(shape, 128, 128) >= kFillGrid || wgmma_small(shape));
}

std::string GemmChoice::text() const {
  if (!tmpl) return "auto";
  std::string out = *tmpl == GemmTemplate::simt ? "simt" : *tmpl == GemmTemplate::mma ? "mma" : "wgmma";
  if (cluster_m) {
    out += cluster_n == 2 ? (cluster_m == 2 ? ",cluster=2x2" : ",cluster=2n") : fmt::format(",cluster={}", cluster_m);
  }
  if (tile_m) out += tile_m == 256 ? ",tile=256x128" : ",tile=128x256";
  if (persistent >= 0) out += fmt::format(",persistent={}", persistent);
  if (sum_ktiles) out += fmt::format(",sum={}", sum_ktiles);
  if (split_k) out += fmt::format(",split={}", split_k);
  if (pingpong >= 0) out += fmt::format(",pingpong={}", pingpong);
  if (small_bn) out += fmt::format(",bn={}", small_bn);
  if (handoff >= 0) out += handoff == 0 ? ",handoff=0" : handoff == 1 ? ",handoff=half" : ",handoff=full";
  if (stream_k >= 0) out += fmt::format(",streamk={}", stream_k);
  return out;
}

Expected<GemmChoice> parse_gemm_choice(std::string_view text) {
  auto bad = [&](std::string why) {
    return make_error(ErrorCode::bad_option,
                      fmt::format("gemm choice \"{}\": {}; expected auto, wgmma, mma or simt, "
                                  "wgmma optionally with settings cluster=1|2|2n|2x2, "
                                  "tile=128x256|256x128, persistent=0|1, "
                                  "sum=1|2|4|8, split=1|2|4|8, bn=32|64, pingpong=0|1 and "
                                  "handoff=0|half|full and streamk=0|1 "
                                  "(\"wgmma,cluster=2,persistent=1\")",
                                  text, why));
  };
  GemmChoice c;
  std::size_t comma = text.find(',');
  const std::string_view name = text.substr(0, comma);
  if (name.empty() || name == "auto") {
    if (comma != std::string_view::npos) return bad("auto takes no settings");
    return c;
  }
  if (name == "simt") c.tmpl = GemmTemplate::simt;
  else if (name == "mma") c.tmpl = GemmTemplate::mma;
  else if (name == "wgmma") c.tmpl = GemmTemplate::wgmma;
  else return bad(fmt::format("unknown template \"{}\"", name));
  while (comma != std::string_view::npos) {
    const std::size_t start = comma + 1;
    comma = text.find(',', start);
    const std::string_view setting = text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (c.tmpl != GemmTemplate::wgmma) return bad("only wgmma takes settings");
    int* slot = nullptr;
    int value = -1;
    if (setting == "cluster=1" || setting == "cluster=2" || setting == "cluster=2n" ||
        setting == "cluster=2x2") {
      slot = &c.cluster_m;
      value = setting == "cluster=2" || setting == "cluster=2x2" ? 2 : 1;
      c.cluster_n = setting == "cluster=2n" || setting == "cluster=2x2" ? 2 : 1;
    } else if (setting == "tile=128x256" || setting == "tile=256x128") {
      slot = &c.tile_m;
      value = setting == "tile=256x128" ? 256 : 128;
    } else if (setting == "persistent=0" || setting == "persistent=1") {
      slot = &c.persistent;
      value = setting.back() - '0';
    } else if (setting == "sum=1" || setting == "sum=2" || setting == "sum=4" || setting == "sum=8") {
      slot = &c.sum_ktiles;
      value = setting.back() - '0';
    } else if (setting == "split=1" || setting == "split=2" || setting == "split=4" ||
               setting == "split=8") {
      slot = &c.split_k;
      value = setting.back() - '0';
    } else if (setting == "bn=32" || setting == "bn=64") {
      slot = &c.small_bn;
      value = setting == "bn=32" ? 32 : 64;
    } else if (setting == "pingpong=0" || setting == "pingpong=1") {
      slot = &c.pingpong;
      value = setting.back() - '0';
    } else if (setting == "handoff=0" || setting == "handoff=half" || setting == "handoff=full") {
      slot = &c.handoff;
      value = setting == "handoff=0" ? 0 : setting == "handoff=half" ? 1 : 2;
    } else if (setting == "streamk=0" || setting == "streamk=1") {
      slot = &c.stream_k;
      value = setting.back() - '0';
    } else {
      return bad(fmt::format("unknown setting \"{}\"", setting));
    }
    const bool signed_slot = slot == &c.persistent || slot == &c.pingpong || slot == &c.handoff ||
                             slot == &c.stream_k;  // 0 is a value
    const bool taken = signed_slot ? *slot >= 0 : *slot != 0;
    if (taken) return bad(fmt::format("\"{}\" is set twice", setting.substr(0, setting.find('='))));
    *slot = value;
  }
  return c;
}

}  // namespace jitfuse
