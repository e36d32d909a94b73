#include "graph/shapes.h"

#include <fmt/format.h>

namespace jitfuse {
namespace {

Error mismatch(const TypedNode& n, std::size_t input, std::string message) {
  return make_error(ErrorCode::shape_mismatch, std::move(message),
                    fmt::format("{}/inputs/{}", n.pointer, input));
}

Expected<Shape> gemm_shape(const TypedGraph& g, const TypedNode& n, DimUnifier& dims) {
  // A[M,K] x B, B is [N,K] ("nk") or [K,N] ("kn"), bias[N].
  const bool kn = n.attrs.choice("b_layout") == "kn";
  const char* roles[] = {"A", "B", "bias"};
  const char* forms[] = {"[M,K]", kn ? "[K,N]" : "[N,K]", "[N]"};
  for (std::size_t j = 0; j < n.inputs.size(); ++j) {
    const Value& v = g.values[n.inputs[j]];
    if (v.shape.size() != (j == 2 ? 1u : 2u)) {
      return mismatch(n, j, fmt::format("node '{}': gemm operand {} ('{}') must be {}, got {}", n.name,
                                        roles[j], v.name, forms[j], to_string(v.shape)));
    }
  }
  const Shape& a = g.values[n.inputs[0]].shape;
  const Shape& b = g.values[n.inputs[1]].shape;
  const Dim& bk = kn ? b[0] : b[1];
  const Dim& bn = kn ? b[1] : b[0];
  if (auto problem = dims.unify(a[1], bk)) {
    return mismatch(n, 1, fmt::format("node '{}': K differs between A {} and B {} (b_layout \"{}\"): {}",
                                      n.name, to_string(a), to_string(b), kn ? "kn" : "nk", *problem));
  }
  if (n.inputs.size() == 3) {
    const Shape& bias = g.values[n.inputs[2]].shape;
    if (auto problem = dims.unify(bias[0], bn)) {
      return mismatch(n, 2, fmt::format("node '{}': bias {} must have N = {} elements: {}", n.name,
                                        to_string(bias), bn.to_string(), *problem));
    }
  }
  return Shape{a[0], bn};
}

bool is_one(const Dim& d) { return !d.is_symbolic() && d.size == 1; }

}  // namespace

std::optional<Shape> broadcast(const Shape& a, const Shape& b, DimUnifier& dims, std::string& why) {
  const std::size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    // Align from the right, as NumPy does.
    const Dim* da = i < rank - a.size() ? nullptr : &a[i - (rank - a.size())];
    const Dim* db = i < rank - b.size() ? nullptr : &b[i - (rank - b.size())];
    if (!da || is_one(*da)) {
      out[i] = db ? *db : *da;
    } else if (!db || is_one(*db)) {
      out[i] = *da;
    } else if (auto problem = dims.unify(*da, *db)) {
      why = fmt::format("dimension {} from the right: {}", rank - i, *problem);
      return std::nullopt;
    } else {
      out[i] = *da;
    }
  }
  return out;
}

Expected<Shape> infer_node_shape(const TypedGraph& g, const TypedNode& n, DimUnifier& dims) {
  switch (n.op->kind) {
    case ops::OpKind::gemm:
      return gemm_shape(g, n, dims);
    case ops::OpKind::unary:
      return g.values[n.inputs[0]].shape;
    case ops::OpKind::binary: {
      const Value& a = g.values[n.inputs[0]];
      const Value& b = g.values[n.inputs[1]];
      std::string why;
      auto s = broadcast(a.shape, b.shape, dims, why);
      if (!s) {
        return mismatch(n, 1, fmt::format("node '{}': {} of '{}' {} and '{}' {} do not broadcast "
                                          "({}); shapes broadcast as in NumPy: equal, or 1, or missing "
                                          "on the left", n.name, n.op->name, a.name, to_string(a.shape),
                                          b.name, to_string(b.shape), why));
      }
      return *s;
    }
  }
  return make_error(ErrorCode::internal, "infer_node_shape: unknown op kind");
}

}  // namespace jitfuse
