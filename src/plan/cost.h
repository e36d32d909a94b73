// Costs (FLOPs, bytes) as polynomials in the unbound symbolic dims, so that explain can state
// them before M is known: "134217728·M + 67108864".
#pragma once

#include <map>
#include <optional>
#include <string>

#include "jitfuse/graph.hpp"

namespace jitfuse {

// A sum of terms coefficient·(product of symbols).
class Cost {
 public:
  Cost() = default;
  // The constant c.
  explicit Cost(double c);
  // The element count of `shape`.
  static Cost numel(const Shape& shape);

  Cost operator+(const Cost& o) const;
  Cost operator*(const Cost& o) const;
  Cost operator*(double c) const;
  // The value with each symbol replaced by dims[symbol]; nullopt if one is missing.
  std::optional<double> evaluate(const std::map<std::string, std::int64_t>& dims) const;
  // "134217728·M + 67108864", or "0".
  std::string to_string() const;

 private:
  std::map<std::string, double> terms_;  // key: symbols joined by '·' in sorted order; "" = 1
};

}  // namespace jitfuse
