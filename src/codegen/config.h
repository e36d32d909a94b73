// Which template and tile configuration a GEMM kernel uses, per dtype, math mode, arch and
// (where known) shape. The shared-memory formulas mirror the static_asserts in templates/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/arch.h"
#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

enum class GemmTemplate { simt, mma };

// One instance of a GEMM template.
struct GemmConfig {
  GemmTemplate tmpl = GemmTemplate::simt;
  int bm = 0, bn = 0, bk = 0;        // block tile
  int wm = 0, wn = 0, stages = 0;    // mma: warp tile and pipeline depth
  int tm = 0, tn = 0;                // simt: thread tile
  int threads = 0;
  int smem_bytes = 0;                // dynamic shared memory per block
  std::string mma_macro;             // mma: "JF_MMA_BF16", ...; empty for simt
  std::string note;                  // why this one, for explain

  // "gemm_mma.cu 128x128x32, 4 stages, 256 threads, 80 KB smem".
  std::string describe() const;
  // The template's file name, e.g. "gemm_mma.cu".
  std::string template_file() const;
};

// The problem a config is chosen for; unknown dims are nullopt.
struct GemmShape {
  std::optional<std::int64_t> m, n, k;
};

// Picks the template and tiles. f32 ieee -> SIMT FFMA; f16/bf16 and f32 tf32/tf32x3 -> mma.sync
// on sm_80+, SIMT below (tf32 modes then fall back to ieee, which is more accurate).
// `kn`: B is [K,N] (it changes the shared-memory layout); `aligned`: A's and B's rows allow
// 16-byte loads. Tiles must fit the arch's shared memory; the largest that fills the GPU wins.
GemmConfig choose_gemm_config(DType dtype, MathMode math, bool kn, bool aligned, const Arch& arch,
                              const GemmShape& shape);

}  // namespace jitfuse
