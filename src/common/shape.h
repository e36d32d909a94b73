// Element counts of concrete shapes, shared by binding, the reference and host tensors.
#pragma once

#include <cstdint>
#include <vector>

namespace jitfuse {

// The number of elements of a concrete row-major shape (1 for a scalar).
inline std::int64_t numel(const std::vector<std::int64_t>& shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

}  // namespace jitfuse
