#include "jitfuse/signature.hpp"

#include <fmt/format.h>

#include "graph/typed_graph.h"

namespace jitfuse {
namespace {

TensorDecl declaration(const Value& v) { return TensorDecl{v.name, v.dtype, v.shape, v.pointer}; }

}  // namespace

Expected<Signature> signature(const Graph& graph, const std::map<std::string, std::int64_t>& dims) {
  JF_ASSIGN_OR_RETURN(TypedGraph typed, validate(graph));
  JF_ASSIGN_OR_RETURN(TypedGraph g, specialize(std::move(typed), dims));
  Signature sig;
  sig.graph_name = g.name;
  sig.dtype = g.dtype;
  for (int v : g.inputs) sig.inputs.push_back(declaration(g.values[v]));
  for (int v : g.outputs) sig.outputs.push_back(declaration(g.values[v]));
  sig.symbols = g.symbols();
  return sig;
}

Expected<std::vector<std::int64_t>> concrete_shape(
    const Shape& shape, const std::map<std::string, std::int64_t>& dims) {
  std::vector<std::int64_t> out;
  for (const Dim& d : shape) {
    if (!d.is_symbolic()) {
      out.push_back(d.size);
      continue;
    }
    auto it = dims.find(d.symbol);
    if (it == dims.end()) {
      return make_error(ErrorCode::unbound_dim,
                        fmt::format("shape {} needs a value for {}", to_string(shape), d.symbol));
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace jitfuse
