// A graph's interface for callers that allocate its buffers themselves (the PyTorch bridge,
// python/jitfuse_torch): its inputs and outputs as validation typed and shaped them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jitfuse/error.hpp"
#include "jitfuse/graph.hpp"

namespace jitfuse {

// What a launch of a graph binds: every input and output with its unified shape.
struct Signature {
  std::string graph_name;
  DType dtype = DType::f32;          // every input's and output's
  std::vector<TensorDecl> inputs;    // sorted by name, as Graph::inputs
  std::vector<TensorDecl> outputs;   // in Graph::outputs order
  std::vector<std::string> symbols;  // the symbols still bound at run time, sorted
};

// Validates `graph` and bakes in `dims` as CompileOptions::dims does. Shapes are unified across
// the graph (x [M, K] and w [8192, K] give K = 8192 everywhere), so an output's symbols are
// always symbols of the inputs. Errors are those of Engine::build's validation.
Expected<Signature> signature(const Graph& graph,
                              const std::map<std::string, std::int64_t>& dims = {});

// `shape` with each symbol replaced by its value in `dims`; unbound_dim if one has none.
Expected<std::vector<std::int64_t>> concrete_shape(const Shape& shape,
                                                   const std::map<std::string, std::int64_t>& dims);

}  // namespace jitfuse
