// The op graph a user submits: named inputs, nodes and outputs, as in docs/graph-format.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "jitfuse/error.hpp"

namespace jitfuse {

// Element types. Accumulation is always f32; a graph's outputs have its inputs' dtype.
enum class DType { f32, f16, bf16 };

// "f32", "f16" or "bf16".
std::string_view to_string(DType dtype);
// The dtype named by `name`, or nullopt.
std::optional<DType> parse_dtype(std::string_view name);
// Bytes per element.
std::size_t dtype_size(DType dtype);

// One dimension of a shape: a fixed size, or a symbol ("M") bound at run time.
struct Dim {
  std::int64_t size = 0;  // meaningful when symbol is empty
  std::string symbol;     // non-empty for a symbolic dimension

  bool is_symbolic() const { return !symbol.empty(); }
  std::string to_string() const;
  friend bool operator==(const Dim&, const Dim&) = default;
};

using Shape = std::vector<Dim>;
// "[M, 8192]".
std::string to_string(const Shape& shape);

// A graph input: a tensor the caller provides.
struct TensorDecl {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  std::string pointer;  // JSON pointer of its declaration, e.g. "/inputs/x"
};

// An attribute value: a number or a string choice.
using AttrValue = std::variant<double, std::string>;

// An input of a node: the name of a graph input or another node, or a number literal (a
// scalar constant, for binary ops: {"op": "div", "inputs": ["y", 2.0]}).
struct NodeInput {
  std::string name;               // empty for a literal
  std::optional<double> literal;

  NodeInput(std::string n) : name(std::move(n)) {}       // NOLINT: implicit by design
  NodeInput(const char* n) : name(n) {}                  // NOLINT: implicit by design
  NodeInput(double value) : literal(value) {}            // NOLINT: implicit by design
  bool is_literal() const { return literal.has_value(); }
  friend bool operator==(const NodeInput&, const NodeInput&) = default;
};

// One operation. Attributes are exactly the keys the JSON node held besides name/op/inputs.
struct Node {
  std::string name;
  std::string op;
  std::vector<NodeInput> inputs;
  std::map<std::string, AttrValue> attrs;
  std::string pointer;  // e.g. "/nodes/2"
};

// A parsed graph. Parsing checks JSON structure only; Engine::build validates the rest.
struct Graph {
  std::string name;
  std::vector<TensorDecl> inputs;  // sorted by name: key order in JSON carries no meaning
  std::vector<Node> nodes;
  std::vector<std::string> outputs;
  std::string source;  // where it came from: a file path or "<string>"
};

// Parses graph JSON text; errors carry a JSON pointer (or line:column for syntax errors).
Expected<Graph> parse_graph(std::string_view json_text, std::string source = "<string>");
// Reads and parses a graph file; errors name the file.
Expected<Graph> load_graph(const std::filesystem::path& path);

}  // namespace jitfuse
