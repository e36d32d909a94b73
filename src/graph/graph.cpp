#include <fmt/format.h>

#include "jitfuse/graph.hpp"

namespace jitfuse {

std::string_view to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "f32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  if (name == "f32") return DType::f32;
  if (name == "f16") return DType::f16;
  if (name == "bf16") return DType::bf16;
  return std::nullopt;
}

std::size_t dtype_size(DType dtype) { return dtype == DType::f32 ? 4 : 2; }

std::string Dim::to_string() const { return is_symbolic() ? symbol : std::to_string(size); }

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += shape[i].to_string();
  }
  return out + "]";
}

}  // namespace jitfuse
