// Unification of dimensions: "M" and "M", or "K" and 8192, must agree wherever they meet.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "jitfuse/graph.hpp"

namespace jitfuse {

// A union-find over dimension symbols, each class optionally fixed to a size.
class DimUnifier {
 public:
  // Records that `a` and `b` are the same size; returns why they cannot be, if they cannot.
  std::optional<std::string> unify(const Dim& a, const Dim& b);
  // `shape` with each symbol replaced by its class's size, or by the class's smallest name.
  Shape canonical(const Shape& shape);

 private:
  std::string root(const std::string& symbol);
  std::map<std::string, std::string> parent_;
  std::map<std::string, std::int64_t> size_;  // by root
};

}  // namespace jitfuse
