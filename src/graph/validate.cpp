// validate: Graph -> TypedGraph. Names, references, ops and attributes, arity, cycles, then
// dtypes and shapes in topological order, unifying symbolic dims across the graph.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "common/text.h"
#include "graph/dims.h"
#include "graph/limits.h"
#include "graph/shapes.h"
#include "graph/typed_graph.h"

namespace jitfuse {
namespace {

Error err(ErrorCode code, std::string pointer, std::string message) {
  return make_error(code, std::move(message), std::move(pointer));
}

Expected<ops::Attrs> check_attrs(const Node& node, const ops::OpDef& op) {
  ops::Attrs attrs;
  for (const auto& [key, value] : node.attrs) {
    const std::string ptr = node.pointer + "/" + pointer_token(key);
    auto spec = std::find_if(op.attrs.begin(), op.attrs.end(),
                             [&](const ops::AttrSpec& s) { return s.name == key; });
    if (spec == op.attrs.end()) {
      std::vector<std::string> names;
      for (const auto& s : op.attrs) names.emplace_back(s.name);
      return err(ErrorCode::unknown_attribute, ptr,
                 fmt::format("{} takes no attribute '{}'{}; it takes: {}", op.name, user_text(key),
                             did_you_mean(key, names), names.empty() ? "none" : join(names, ", ")));
    }
    if (spec->is_choice()) {
      const auto* s = std::get_if<std::string>(&value);
      if (!s || std::find(spec->choices.begin(), spec->choices.end(), *s) == spec->choices.end()) {
        std::vector<std::string> choices(spec->choices.begin(), spec->choices.end());
        const std::string got = s ? fmt::format("\"{}\"", user_text(*s)) : number_text(std::get<double>(value));
        return err(ErrorCode::bad_attribute, ptr,
                   fmt::format("node '{}': {} must be one of \"{}\", got {}{}", node.name, key,
                               join(choices, "\", \""), got, s ? did_you_mean(*s, choices) : ""));
      }
      attrs.choices[key] = *s;
    } else {
      const auto* d = std::get_if<double>(&value);
      if (!d) {
        return err(ErrorCode::bad_attribute, ptr,
                   fmt::format("node '{}': {} must be a number, got \"{}\"", node.name, key,
                               user_text(std::get<std::string>(value))));
      }
      // Attributes become f32 literals in the kernel: they must be finite there too.
      if (!std::isfinite(*d) || std::fabs(*d) > std::numeric_limits<float>::max()) {
        return err(ErrorCode::bad_attribute, ptr,
                   fmt::format("node '{}': {} must be a finite number within f32 range "
                               "(|x| <= 3.4e38), got {}", node.name, key, number_text(*d)));
      }
      attrs.numbers[key] = *d;
    }
  }
  for (const ops::AttrSpec& spec : op.attrs) {
    if (spec.is_choice() && !attrs.choices.count(spec.name)) {
      attrs.choices[std::string(spec.name)] = std::string(spec.default_choice);
    } else if (!spec.is_choice() && !attrs.numbers.count(spec.name) && !spec.optional) {
      if (!spec.default_number) {
        return err(ErrorCode::bad_attribute, node.pointer,
                   fmt::format("node '{}': {} needs the attribute '{}' ({})", node.name, op.name,
                               spec.name, spec.doc));
      }
      attrs.numbers[std::string(spec.name)] = *spec.default_number;
    }
  }
  if (op.check) {
    if (auto problem = op.check(attrs)) {
      return err(ErrorCode::bad_attribute, node.pointer + "/" + pointer_token(problem->attr),
                 fmt::format("node '{}' ({}): {}", node.name, node.pointer, problem->message));
    }
  }
  return attrs;
}

class Validator {
 public:
  explicit Validator(const Graph& g) : g_(g) {}

  Expected<TypedGraph> run() {
    JF_RETURN_IF_ERROR(check_names());
    JF_RETURN_IF_ERROR(check_nodes());
    JF_ASSIGN_OR_RETURN(std::vector<int> order, topological_order());
    JF_RETURN_IF_ERROR(check_dtypes());
    JF_RETURN_IF_ERROR(build(order));
    JF_RETURN_IF_ERROR(check_outputs());
    JF_RETURN_IF_ERROR(check_unused());
    for (Value& v : t_.values) v.shape = dims_.canonical(v.shape);
    // Again with the symbols unified: one that takes a size fixed elsewhere now counts it.
    JF_RETURN_IF_ERROR(check_limits());
    return std::move(t_);
  }

 private:
  Status check_names() {
    if (!is_identifier(g_.name)) {
      return err(ErrorCode::bad_name, "/name",
                 fmt::format("the graph's name must be an identifier ([A-Za-z_][A-Za-z0-9_]*, "
                             "at most 64 characters), got \"{}\"", user_text(g_.name)));
    }
    for (const TensorDecl& in : g_.inputs) {
      if (!is_identifier(in.name)) {
        return err(ErrorCode::bad_name, in.pointer,
                   fmt::format("input name \"{}\" must be an identifier ([A-Za-z_][A-Za-z0-9_]*)",
                               user_text(in.name)));
      }
      owner_[in.name] = in.pointer;
    }
    for (const Node& n : g_.nodes) {
      if (!is_identifier(n.name)) {
        return err(ErrorCode::bad_name, n.pointer + "/name",
                   fmt::format("node name \"{}\" must be an identifier ([A-Za-z_][A-Za-z0-9_]*)",
                               user_text(n.name)));
      }
      if (auto it = owner_.find(n.name); it != owner_.end()) {
        return err(ErrorCode::duplicate_name, n.pointer + "/name",
                   fmt::format("the name '{}' is already taken by {}; names of inputs and nodes "
                               "must be unique", n.name, it->second));
      }
      owner_[n.name] = n.pointer;
    }
    return {};
  }

  Status check_literal(const Node& n, const ops::OpDef& op, double v, const std::string& ptr) {
    if (op.kind != ops::OpKind::binary) {
      return err(ErrorCode::unsupported, ptr,
                 fmt::format("node '{}': {} takes tensors only; number inputs are for the binary ops "
                             "(add, sub, mul, div, maximum, minimum)", n.name, op.name));
    }
    if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
      return err(ErrorCode::bad_attribute, ptr,
                 fmt::format("node '{}': a number input must be finite and within f32 range, got {}",
                             n.name, number_text(v)));
    }
    return {};
  }

  Status check_nodes() {
    std::vector<std::string> known;
    for (const auto& [name, ptr] : owner_) known.push_back(name);
    for (const Node& n : g_.nodes) {
      const ops::OpDef* op = ops::find_op(n.op);
      if (!op) {
        std::vector<std::string_view> names = ops::op_names();
        std::vector<std::string> all(names.begin(), names.end());
        return err(ErrorCode::unknown_op, n.pointer + "/op",
                   fmt::format("node '{}': unknown op \"{}\"{}; known ops: {}", n.name, user_text(n.op),
                               did_you_mean(n.op, all), join(all, ", ")));
      }
      ops_.push_back(op);
      JF_ASSIGN_OR_RETURN(ops::Attrs attrs, check_attrs(n, *op));
      attrs_.push_back(std::move(attrs));
      const int count = static_cast<int>(n.inputs.size());
      if (count < op->min_inputs || count > op->max_inputs) {
        const std::string want = op->min_inputs == op->max_inputs
                                     ? std::to_string(op->min_inputs)
                                     : fmt::format("{} or {}", op->min_inputs, op->max_inputs);
        return err(ErrorCode::arity, n.pointer + "/inputs",
                   fmt::format("node '{}': {} takes {} input{}, got {}", n.name, op->name, want,
                               op->max_inputs == 1 ? "" : "s", count));
      }
      int literals = 0;
      for (std::size_t j = 0; j < n.inputs.size(); ++j) {
        const NodeInput& in = n.inputs[j];
        const std::string ptr = fmt::format("{}/inputs/{}", n.pointer, j);
        if (in.is_literal()) {
          ++literals;
          JF_RETURN_IF_ERROR(check_literal(n, *op, *in.literal, ptr));
        } else if (!owner_.count(in.name)) {
          return err(ErrorCode::unknown_name, ptr,
                     fmt::format("node '{}' reads '{}', which is neither an input nor a node{}",
                                 n.name, user_text(in.name), did_you_mean(in.name, known)));
        }
      }
      if (literals == count && count > 0) {
        return err(ErrorCode::unsupported, n.pointer + "/inputs",
                   fmt::format("node '{}': {} of two numbers is a constant; at least one input "
                               "must be a tensor", n.name, op->name));
      }
    }
    return {};
  }

  // Kahn's algorithm, taking the earliest ready node in JSON order so that the order is stable.
  Expected<std::vector<int>> topological_order() {
    std::map<std::string, int> node_index;
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) node_index[g_.nodes[i].name] = int(i);
    std::vector<int> pending(g_.nodes.size(), 0);
    std::vector<std::vector<int>> users(g_.nodes.size());
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      for (const NodeInput& in : g_.nodes[i].inputs) {
        if (auto it = node_index.find(in.name); !in.is_literal() && it != node_index.end()) {
          ++pending[i];
          users[it->second].push_back(int(i));
        }
      }
    }
    std::set<int> ready;
    for (std::size_t i = 0; i < pending.size(); ++i) if (!pending[i]) ready.insert(int(i));
    std::vector<int> order;
    while (!ready.empty()) {
      const int n = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(n);
      for (int u : users[n]) if (--pending[u] == 0) ready.insert(u);
    }
    if (order.size() == g_.nodes.size()) return order;
    // Walk back from a stuck node along stuck inputs until a node repeats: that is a cycle.
    int at = 0;
    while (!pending[at]) ++at;
    std::vector<int> path;
    std::set<int> on_path;  // the path's nodes: a scan of `path` made a long cycle quadratic
    while (on_path.insert(at).second) {
      path.push_back(at);
      for (const NodeInput& in : g_.nodes[at].inputs) {
        auto it = node_index.find(in.name);
        if (it != node_index.end() && pending[it->second]) { at = it->second; break; }
      }
    }
    std::vector<std::string> names;
    for (auto it = std::find(path.begin(), path.end(), at); it != path.end(); ++it) {
      names.push_back(g_.nodes[*it].name);
    }
    std::reverse(names.begin(), names.end());
    names.push_back(names.front());
    return err(ErrorCode::cycle, g_.nodes[at].pointer,
               fmt::format("the nodes form a cycle: {}; a node may only read inputs and nodes "
                           "that do not depend on it", join(names, " -> ")));
  }

  Status check_dtypes() {
    if (g_.inputs.empty()) {
      return err(ErrorCode::schema, "/inputs", "a graph needs at least one input");
    }
    const TensorDecl& first = g_.inputs.front();
    for (const TensorDecl& in : g_.inputs) {
      if (in.dtype != first.dtype) {
        return err(ErrorCode::dtype_mismatch, in.pointer + "/dtype",
                   fmt::format("all inputs of a graph share one dtype: '{}' is {} but '{}' is {}",
                               in.name, to_string(in.dtype), first.name, to_string(first.dtype)));
      }
    }
    t_.dtype = first.dtype;
    return {};
  }

  Status build(const std::vector<int>& order) {
    t_.name = g_.name;
    for (const TensorDecl& in : g_.inputs) {
      t_.inputs.push_back(int(t_.values.size()));
      ids_[in.name] = int(t_.values.size());
      t_.values.push_back(Value{in.name, in.dtype, in.shape, -1, {}, false, in.pointer});
    }
    // The inputs' sizes first, as declared, so that the error points at the number written.
    JF_RETURN_IF_ERROR(check_limits());
    for (int i : order) {
      const Node& n = g_.nodes[i];
      TypedNode tn{ops_[i], n.name, {}, -1, attrs_[i], n.pointer};
      for (std::size_t j = 0; j < n.inputs.size(); ++j) {
        tn.inputs.push_back(n.inputs[j].is_literal()
                                ? add_constant(*n.inputs[j].literal, fmt::format("{}/inputs/{}", n.pointer, j))
                                : ids_.at(n.inputs[j].name));
      }
      JF_ASSIGN_OR_RETURN(Shape shape, infer_node_shape(t_, tn, dims_));
      tn.output = int(t_.values.size());
      ids_[n.name] = tn.output;
      t_.values.push_back(Value{n.name, t_.dtype, std::move(shape), int(t_.nodes.size()), {},
                                false, n.pointer});
      for (int v : tn.inputs) t_.values[v].consumers.push_back(int(t_.nodes.size()));
      t_.nodes.push_back(std::move(tn));
    }
    return check_limits();
  }

  // The first size beyond what the kernels address (graph/limits.h), at the declaration that
  // holds it: an input's shape or dimension, else the node.
  Status check_limits() {
    const auto problem = check_sizes(t_, {});
    if (!problem) return {};
    const Value& v = t_.values[problem->value];
    std::string ptr = v.pointer;
    if (v.is_input()) ptr += problem->dim < 0 ? "/shape" : fmt::format("/shape/{}", problem->dim);
    return err(ErrorCode::unsupported, ptr, problem->message);
  }

  // A number literal becomes a value of shape [] named c0, c1, ... (skipping taken names).
  int add_constant(double v, const std::string& pointer) {
    std::string name;
    do {
      name = fmt::format("c{}", constants_++);
    } while (owner_.count(name));
    owner_[name] = pointer;
    Value c{name, t_.dtype, {}, -1, {}, false, pointer};
    c.constant = v;
    t_.values.push_back(std::move(c));
    return int(t_.values.size()) - 1;
  }

  Status check_outputs() {
    std::set<std::string> seen;
    std::vector<std::string> node_names;
    for (const Node& n : g_.nodes) node_names.push_back(n.name);
    for (std::size_t i = 0; i < g_.outputs.size(); ++i) {
      const std::string& o = g_.outputs[i];
      const std::string ptr = fmt::format("/outputs/{}", i);
      const auto id = ids_.find(o);
      const int v = id == ids_.end() ? -1 : id->second;
      if (v < 0 || t_.values[v].constant) {
        return err(ErrorCode::unknown_name, ptr,
                   fmt::format("output '{}' names no node{}", user_text(o), did_you_mean(o, node_names)));
      }
      if (t_.values[v].producer < 0) {
        return err(ErrorCode::unsupported, ptr,
                   fmt::format("output '{}' is a graph input; outputs must be computed by nodes", user_text(o)));
      }
      if (!seen.insert(o).second) {
        return err(ErrorCode::duplicate_name, ptr, fmt::format("output '{}' is listed twice", user_text(o)));
      }
      t_.values[v].is_output = true;
      t_.outputs.push_back(v);
    }
    return {};
  }

  Status check_unused() {
    // Walk back from the outputs; whatever is not reached computes nothing the caller sees.
    std::vector<bool> live(t_.values.size(), false);
    std::vector<int> stack = t_.outputs;
    while (!stack.empty()) {
      const int v = stack.back();
      stack.pop_back();
      if (live[v]) continue;
      live[v] = true;
      if (t_.values[v].producer >= 0) {
        for (int in : t_.nodes[t_.values[v].producer].inputs) stack.push_back(in);
      }
    }
    for (int v : t_.inputs) {
      if (!live[v]) {
        return err(ErrorCode::unused, t_.values[v].pointer,
                   fmt::format("input '{}' is never used by a node that reaches an output; "
                               "remove it", t_.values[v].name));
      }
    }
    for (const TypedNode& n : t_.nodes) {
      if (!live[n.output]) {
        return err(ErrorCode::unused, n.pointer,
                   fmt::format("node '{}' does not reach any output; list it in /outputs or "
                               "remove it", n.name));
      }
    }
    return {};
  }

  const Graph& g_;
  TypedGraph t_;
  DimUnifier dims_;
  std::map<std::string, std::string> owner_;  // name -> JSON pointer of its declaration
  // name -> value id of each input and node, once built: TypedGraph::find scans every value,
  // which made a graph of n nodes cost n^2 (50,000 nodes: 12 s).
  std::map<std::string, int> ids_;
  std::vector<const ops::OpDef*> ops_;        // per JSON node
  std::vector<ops::Attrs> attrs_;             // per JSON node
  int constants_ = 0;
};

}  // namespace

Expected<TypedGraph> validate(const Graph& graph) {
  auto t = Validator(graph).run();
  if (!t.ok() && t.error().file.empty() && graph.source != "<string>") t.error().file = graph.source;
  return t;
}

std::vector<std::string> TypedGraph::symbols() const {
  std::set<std::string> s;
  for (const Value& v : values) {
    for (const Dim& d : v.shape) if (d.is_symbolic()) s.insert(d.symbol);
  }
  return {s.begin(), s.end()};
}

int TypedGraph::find(std::string_view name) const {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].name == name) return int(i);
  }
  return -1;
}

std::int64_t static_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (const Dim& d : shape) {
    if (d.is_symbolic()) return -1;
    n *= d.size;
  }
  return n;
}

Expected<TypedGraph> specialize(TypedGraph graph, const std::map<std::string, std::int64_t>& dims) {
  const std::vector<std::string> symbols = graph.symbols();
  for (const auto& [name, value] : dims) {
    if (std::find(symbols.begin(), symbols.end(), name) == symbols.end()) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("--dims names '{}', which is not a symbolic dimension of "
                                    "graph '{}'{}; its symbols: {}", user_text(name), graph.name,
                                    did_you_mean(name, symbols),
                                    symbols.empty() ? "none" : join(symbols, ", ")));
    }
    if (value < 1) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("--dims {}={}: a dimension must be at least 1", name, value));
    }
  }
  if (auto problem = check_sizes(graph, dims)) {
    std::vector<std::string> given;
    for (const auto& [name, value] : dims) given.push_back(fmt::format("{}={}", name, value));
    return make_error(ErrorCode::bad_option, fmt::format("--dims {}: {}", join(given, ","), problem->message));
  }
  for (Value& v : graph.values) {
    for (Dim& d : v.shape) {
      if (auto it = dims.find(d.symbol); d.is_symbolic() && it != dims.end()) d = Dim{it->second, {}};
    }
  }
  graph.specialized.insert(dims.begin(), dims.end());
  return graph;
}

}  // namespace jitfuse
