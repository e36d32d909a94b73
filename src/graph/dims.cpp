#include "graph/dims.h"

#include <fmt/format.h>

namespace jitfuse {

std::string DimUnifier::root(const std::string& symbol) {
  auto it = parent_.find(symbol);
  if (it == parent_.end()) {
    parent_[symbol] = symbol;
    return symbol;
  }
  if (it->second == symbol) return symbol;
  const std::string r = root(it->second);
  parent_[symbol] = r;
  return r;
}

std::optional<std::string> DimUnifier::unify(const Dim& a, const Dim& b) {
  if (!a.is_symbolic() && !b.is_symbolic()) {
    if (a.size == b.size) return std::nullopt;
    return fmt::format("{} != {}", a.size, b.size);
  }
  if (a.is_symbolic() && b.is_symbolic()) {
    std::string ra = root(a.symbol), rb = root(b.symbol);
    if (ra == rb) return std::nullopt;
    if (rb < ra) std::swap(ra, rb);  // the smaller name becomes the root: deterministic
    auto sa = size_.find(ra), sb = size_.find(rb);
    if (sa != size_.end() && sb != size_.end() && sa->second != sb->second) {
      return fmt::format("{} is {} but {} is {}", ra, sa->second, rb, sb->second);
    }
    if (sb != size_.end()) size_[ra] = sb->second;
    parent_[rb] = ra;
    return std::nullopt;
  }
  const Dim& sym = a.is_symbolic() ? a : b;
  const Dim& fixed = a.is_symbolic() ? b : a;
  const std::string r = root(sym.symbol);
  if (auto it = size_.find(r); it != size_.end() && it->second != fixed.size) {
    return fmt::format("{} is {} elsewhere, not {}", sym.symbol, it->second, fixed.size);
  }
  size_[r] = fixed.size;
  return std::nullopt;
}

Shape DimUnifier::canonical(const Shape& shape) {
  Shape out;
  for (const Dim& d : shape) {
    if (!d.is_symbolic()) {
      out.push_back(d);
      continue;
    }
    const std::string r = root(d.symbol);
    if (auto it = size_.find(r); it != size_.end()) out.push_back(Dim{it->second, {}});
    else out.push_back(Dim{0, r});
  }
  return out;
}

}  // namespace jitfuse
