// Shape inference for one node: what its result's shape is, given its operands' shapes, with
// the symbolic dims unified along the way.
#pragma once

#include "graph/dims.h"
#include "graph/typed_graph.h"

namespace jitfuse {

// The shape of `n`'s result. gemm: A[M,K] x B -> [M,N]; unary: its input's; binary: NumPy
// broadcasting of the two (a size-1 dim stretches; a symbolic dim never does). Errors are
// shape_mismatch with the pointer of the offending input.
Expected<Shape> infer_node_shape(const TypedGraph& g, const TypedNode& n, DimUnifier& dims);

// NumPy broadcasting of `a` and `b`, unifying dims that must agree; nullopt and `why` when
// they cannot.
std::optional<Shape> broadcast(const Shape& a, const Shape& b, DimUnifier& dims, std::string& why);

}  // namespace jitfuse
