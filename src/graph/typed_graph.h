// The validated graph: every value typed and shaped, nodes in topological order, attributes
// complete. Produced by validate(), consumed by the planner, code generator and reference.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "jitfuse/graph.hpp"
#include "ops/op_table.h"

namespace jitfuse {

// A tensor: a graph input or a node's result.
struct Value {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;                 // dims unified across the graph: fixed, or a canonical symbol
  int producer = -1;           // index into TypedGraph::nodes; -1 for a graph input
  std::vector<int> consumers;  // node indices, ascending
  bool is_output = false;
  std::string pointer;         // where it is declared
  std::optional<double> constant;  // a number literal from a node's inputs: shape [], no buffer

  // A graph input the caller provides (not a node's result, not a literal).
  bool is_input() const { return producer < 0 && !constant; }
};

// A node whose op, inputs and attributes have been checked.
struct TypedNode {
  const ops::OpDef* op = nullptr;
  std::string name;
  std::vector<int> inputs;  // value ids
  int output = -1;          // value id
  ops::Attrs attrs;
  std::string pointer;      // "/nodes/i" of the JSON node
};

// A graph that passed validation.
struct TypedGraph {
  std::string name;
  DType dtype = DType::f32;
  std::vector<Value> values;     // graph inputs (sorted by name), then node results
  std::vector<TypedNode> nodes;  // topological order (JSON order where it allows)
  std::vector<int> inputs;       // value ids of graph inputs
  std::vector<int> outputs;      // value ids, in /outputs order
  std::map<std::string, std::int64_t> specialized;  // symbols baked in by CompileOptions::dims

  // Symbols still bound at run time, sorted.
  std::vector<std::string> symbols() const;
  // The value named `name`, or -1.
  int find(std::string_view name) const;
};

// Checks names, references, ops, attributes, arity, cycles, dtypes and shapes.
Expected<TypedGraph> validate(const Graph& graph);

// Replaces the symbols named in `dims` by their values. Errors (bad_option) on unknown symbols,
// values < 1, or sizes beyond what the kernels address (graph/limits.h).
Expected<TypedGraph> specialize(TypedGraph graph, const std::map<std::string, std::int64_t>& dims);

// The number of elements of `shape` when every dim is fixed, else -1.
std::int64_t static_numel(const Shape& shape);

}  // namespace jitfuse
