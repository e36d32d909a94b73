// What the generated kernels can address, in one place. Every size a kernel sees passes
// check_sizes: the graph's fixed dims (validate), --dims / CompileOptions::dims (specialize) and
// the shapes bound at launch (bind_tensors). Change a template's index types, change this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "graph/typed_graph.h"

namespace jitfuse {

// Elements of any one tensor. Elementwise kernels index in 64 bits (templates/elementwise.cu,
// JF_NUMEL and broadcast indices are long long), and byte counts must stay far from overflow.
inline constexpr std::int64_t kMaxElements = std::int64_t(1) << 48;
// A GEMM's M, N and K. The templates hold them in 32-bit ints (`const int M = JF_M(p)`) and
// compute tile origins and ends in int too, up to a cluster of 256-wide tiles past the last row
// or column (`(M + JF_BM - 1) / JF_BM`, `m0 + ...`): 2^31 - 4096 leaves that room. TMA's limits
// (dims < 2^32, strides < 2^40 bytes) are looser.
inline constexpr std::int64_t kMaxGemmDim = (std::int64_t(1) << 31) - 4096;
// The smallest tile side of any GEMM config (codegen/config.cpp: SIMT's 32x32 for small
// problems). The templates count tiles in int (blockIdx.x, the wgmma schedule), so a GEMM's
// ceil(M / 32) * ceil(N / 32) must be at most 2^31 - 1.
inline constexpr std::int64_t kMinGemmTile = 32;

// A size beyond what the kernels address.
struct SizeProblem {
  int value = -1;       // the value (TypedGraph::values) whose shape holds it
  int dim = -1;         // the dimension at fault, or -1 for the value's element count
  std::string message;  // names the value or GEMM node, the sizes and the limit
};

// The first size in `g` beyond the limits above: a value's element count, then each GEMM's M,
// N and K (at every value that holds them) and its tile count. Symbols take their sizes from
// `dims`; unbound ones count as 1, so that fixed sizes are checked before any is bound.
std::optional<SizeProblem> check_sizes(const TypedGraph& g,
                                       const std::map<std::string, std::int64_t>& dims);

}  // namespace jitfuse
