#include "graph/limits.h"

#include <fmt/format.h>

#include <limits>

#include "common/text.h"

namespace jitfuse {
namespace {

using Dims = std::map<std::string, std::int64_t>;

std::optional<std::int64_t> size_of(const Dim& d, const Dims& dims) {
  if (!d.is_symbolic()) return d.size;
  if (auto it = dims.find(d.symbol); it != dims.end()) return it->second;
  return std::nullopt;
}

// The shape with its bound symbols replaced by their sizes: "[M, 4294967296]".
std::string shape_text(const Shape& shape, const Dims& dims) {
  std::vector<std::string> parts;
  for (const Dim& d : shape) {
    const auto size = size_of(d, dims);
    parts.push_back(size ? std::to_string(*size) : d.symbol);
  }
  return "[" + join(parts, ", ") + "]";
}

std::optional<SizeProblem> check_elements(const TypedGraph& g, int v, const Dims& dims) {
  const Value& val = g.values[v];
  // Saturating, so that no product overflows on the way; unbound symbols count as 1.
  std::int64_t n = 1;
  double exact = 1;
  bool unbound = false, empty = false;
  for (const Dim& d : val.shape) {
    const auto size = size_of(d, dims);
    unbound = unbound || !size;
    const std::int64_t s = size.value_or(1);
    if (s <= 0) empty = true;
    if (s > 0) n = n > kMaxElements / s ? kMaxElements + 1 : n * s;
    exact *= double(s);
  }
  if (empty || n <= kMaxElements) return std::nullopt;
  return SizeProblem{v, -1, fmt::format("'{}' {} has {}{:.3g} elements; a tensor may have at most 2^48 "
                                        "({:.3g})", val.name, shape_text(val.shape, dims),
                                        unbound ? "at least " : "", exact, double(kMaxElements))};
}

std::optional<SizeProblem> check_gemm(const TypedGraph& g, const TypedNode& n, const Dims& dims) {
  const int a = n.inputs[0], b = n.inputs[1], y = n.output;
  if (g.values[a].shape.size() != 2 || g.values[b].shape.size() != 2 || g.values[y].shape.size() != 2) {
    return std::nullopt;  // validate reports the rank
  }
  const bool kn = n.attrs.choice("b_layout") == "kn";
  // Every value that holds each of M, N and K, in the order a reader looks for them.
  struct Holder {
    const char* dim;
    int value, index;
  };
  const Holder holders[] = {{"M", a, 0}, {"K", a, 1}, {"K", b, kn ? 0 : 1},
                            {"N", b, kn ? 1 : 0}, {"M", y, 0}, {"N", y, 1}};
  for (const Holder& h : holders) {
    const auto size = size_of(g.values[h.value].shape[h.index], dims);
    if (size && *size > kMaxGemmDim) {
      return SizeProblem{h.value, h.index,
                         fmt::format("gemm '{}' has {} = {}, more than its kernel can index: M, N and K "
                                     "are 32-bit ints there, at most {} (2^31 - 4096)",
                                     n.name, h.dim, *size, kMaxGemmDim)};
    }
  }
  const std::int64_t m = size_of(g.values[y].shape[0], dims).value_or(1);
  const std::int64_t cols = size_of(g.values[y].shape[1], dims).value_or(1);
  // Each factor is at most 2^26 here, so the product fits.
  const std::int64_t tiles = ((m + kMinGemmTile - 1) / kMinGemmTile) * ((cols + kMinGemmTile - 1) / kMinGemmTile);
  if (tiles > std::numeric_limits<std::int32_t>::max()) {
    return SizeProblem{y, -1,
                       fmt::format("gemm '{}' has an output of {} x {}: {} tiles of {}x{}, more than its "
                                   "kernel can count (2^31 - 1)", n.name, m, cols, tiles, kMinGemmTile,
                                   kMinGemmTile)};
  }
  return std::nullopt;
}

}  // namespace

std::optional<SizeProblem> check_sizes(const TypedGraph& g, const Dims& dims) {
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].constant) continue;
    if (auto p = check_elements(g, int(v), dims)) return p;
  }
  for (const TypedNode& n : g.nodes) {
    if (n.op->kind != ops::OpKind::gemm) continue;
    if (auto p = check_gemm(g, n, dims)) return p;
  }
  return std::nullopt;
}

}  // namespace jitfuse
