// parse: JSON text -> Graph. Checks JSON syntax, duplicate keys and the JSON type of every
// key; what the values mean (ops, names, shapes) is validate's job.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/file.h"
#include "common/text.h"
#include "jitfuse/graph.hpp"

namespace jitfuse {
namespace {

using json = nlohmann::json;

// How deep objects and arrays may nest. A graph needs 4 levels (/inputs/x/shape is the deepest);
// the bound stops a file like [[[[...]]]] at once, in constant memory, before nlohmann builds a
// document a million levels deep.
constexpr std::size_t kMaxDepth = 64;
// The largest graph file read: graphs are kilobytes; this only keeps a wrong path such as
// /dev/zero or a huge file from exhausting memory.
constexpr std::uint64_t kMaxGraphBytes = std::uint64_t(64) << 20;

// A pass over the text as SAX events, before nlohmann builds the document: finds the first
// duplicate key (nlohmann would silently keep the last one), stops at kMaxDepth, and knows where
// the parser is, for the errors it reports. A pass of its own because nlohmann's parse with a
// callback (3.11) rescans the parent container after every object it keeps: a graph of n nodes
// took time in n^2 (200,000 nodes, 8 MB: 13 s).
class ParseWatcher {
 public:
  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const std::string&) { return value(); }
  bool string(std::string&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool start_object(std::size_t) { return start(true); }
  bool start_array(std::size_t) { return start(false); }
  bool end_object() { return end(); }
  bool end_array() { return end(); }
  bool key(std::string& key) {
    Frame& top = stack_.back();
    top.key = key;
    if (!top.keys.insert(top.key).second && duplicate_.empty()) duplicate_ = pointer(false);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& e) {
    error_ = e.what();
    syntax_ = dynamic_cast<const json::parse_error*>(&e) != nullptr;
    error_at_ = pointer(true);
    return false;
  }

  // The pointer of the container that nests past kMaxDepth; empty if none does.
  const std::string& too_deep() const { return too_deep_; }
  // nlohmann's message for the text's first error; empty if it has none.
  const std::string& error() const { return error_; }
  // Whether that error is one of syntax, rather than a number out of double's range.
  bool syntax_error() const { return syntax_; }
  // Where the parser was at the error: the pointer of the value it was reading.
  const std::string& error_at() const { return error_at_; }
  // The pointer of the first key that repeats in its object; empty if none does.
  const std::string& duplicate() const { return duplicate_; }

 private:
  // Pointers are built from the stack when needed, never kept per level: a path string a level
  // made memory quadratic in the depth.
  struct Frame {
    bool object;
    std::set<std::string> keys;
    std::string key;
    long index;  // of the array's current element
  };
  bool value() {
    enter_child();
    return true;
  }
  bool start(bool object) {
    enter_child();
    if (stack_.size() >= kMaxDepth) {
      too_deep_ = pointer(false);
      return false;  // stops the parse at once, in constant memory
    }
    stack_.push_back(Frame{object, {}, {}, -1});
    return true;
  }
  bool end() {
    stack_.pop_back();
    return true;
  }
  void enter_child() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
  }
  // The pointer of the innermost container's current key or element; with `next`, of the array
  // element after the current one (a value whose parse failed before its event).
  std::string pointer(bool next) const {
    std::string out;
    for (std::size_t i = 0; i < stack_.size(); ++i) {
      const Frame& f = stack_[i];
      const bool last = i + 1 == stack_.size();
      out += "/" + (f.object ? pointer_token(f.key) : std::to_string(f.index + (last && next ? 1 : 0)));
    }
    return out;
  }
  std::vector<Frame> stack_;
  std::string too_deep_, error_, error_at_, duplicate_;
  bool syntax_ = false;
};

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unknown JSON value";
  }
}

Error schema(std::string pointer, std::string message) {
  return make_error(ErrorCode::schema, std::move(message), std::move(pointer));
}

// Checks that `obj` holds only `allowed` keys and every `required` one.
Status check_keys(const json& obj, const std::string& ptr, std::vector<std::string_view> allowed,
                  std::vector<std::string_view> required, std::string_view what) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::vector<std::string> names(allowed.begin(), allowed.end());
      return schema(ptr + "/" + pointer_token(key),
                    fmt::format("{} has no key '{}'{}; expected {}", what, user_text(key),
                                did_you_mean(key, names), join(names, ", ")));
    }
  }
  for (std::string_view key : required) {
    if (!obj.contains(key)) {
      return schema(ptr, fmt::format("{} needs the key '{}'", what, key));
    }
  }
  return {};
}

Expected<std::string> get_string(const json& j, const std::string& ptr, std::string_view what) {
  if (!j.is_string()) {
    return schema(ptr, fmt::format("{} must be a string, got {}", what, type_name(j)));
  }
  return j.get<std::string>();
}

Expected<Shape> parse_shape(const json& j, const std::string& ptr) {
  if (!j.is_array()) {
    return schema(ptr, fmt::format("shape must be an array of sizes and symbols, got {}",
                                   type_name(j)));
  }
  Shape shape;
  for (std::size_t i = 0; i < j.size(); ++i) {
    const json& d = j[i];
    const std::string dp = fmt::format("{}/{}", ptr, i);
    if (d.is_number_integer() || d.is_number_unsigned()) {
      const auto size = d.get<std::int64_t>();
      if (size < 1 || (d.is_number_unsigned() && d.get<std::uint64_t>() > INT64_MAX)) {
        return schema(dp, fmt::format("a dimension must be >= 1, got {}", d.dump()));
      }
      shape.push_back(Dim{size, {}});
    } else if (d.is_string()) {
      const auto sym = d.get<std::string>();
      if (!is_identifier(sym)) {
        return schema(dp, fmt::format("a symbolic dimension must be an identifier such as "
                                      "\"M\", got \"{}\"", user_text(sym)));
      }
      shape.push_back(Dim{0, sym});
    } else {
      return schema(dp, fmt::format("a dimension must be a positive integer or a symbol "
                                    "such as \"M\", got {}", d.is_number() ? d.dump() : type_name(d)));
    }
  }
  return shape;
}

Expected<TensorDecl> parse_input(const std::string& name, const json& j, const std::string& ptr) {
  if (!j.is_object()) {
    return schema(ptr, fmt::format("input '{}' must be an object with dtype and shape, got {}",
                                   user_text(name), type_name(j)));
  }
  JF_RETURN_IF_ERROR(check_keys(j, ptr, {"dtype", "shape"}, {"dtype", "shape"},
                                fmt::format("input '{}'", user_text(name))));
  TensorDecl decl;
  decl.name = name;
  decl.pointer = ptr;
  JF_ASSIGN_OR_RETURN(std::string dtype, get_string(j["dtype"], ptr + "/dtype", "dtype"));
  const auto dt = parse_dtype(dtype);
  if (!dt) {
    return schema(ptr + "/dtype",
                  fmt::format("dtype must be one of f32, f16, bf16; got \"{}\"{}", user_text(dtype),
                              did_you_mean(dtype, std::vector<std::string>{"f32", "f16", "bf16"})));
  }
  decl.dtype = *dt;
  JF_ASSIGN_OR_RETURN(decl.shape, parse_shape(j["shape"], ptr + "/shape"));
  return decl;
}

Expected<Node> parse_node(const json& j, const std::string& ptr) {
  if (!j.is_object()) {
    return schema(ptr, fmt::format("a node must be an object, got {}", type_name(j)));
  }
  for (std::string_view key : {"name", "op", "inputs"}) {
    if (!j.contains(key)) return schema(ptr, fmt::format("a node needs the key '{}'", key));
  }
  Node node;
  node.pointer = ptr;
  JF_ASSIGN_OR_RETURN(node.name, get_string(j["name"], ptr + "/name", "a node's name"));
  JF_ASSIGN_OR_RETURN(node.op, get_string(j["op"], ptr + "/op", "op"));
  const json& inputs = j["inputs"];
  if (!inputs.is_array()) {
    return schema(ptr + "/inputs", fmt::format("inputs must be an array of names and numbers, got {}",
                                               type_name(inputs)));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].is_number()) {  // a scalar constant, e.g. {"op": "div", "inputs": ["y", 2.0]}
      node.inputs.emplace_back(inputs[i].get<double>());
      continue;
    }
    if (!inputs[i].is_string()) {
      return schema(fmt::format("{}/inputs/{}", ptr, i),
                    fmt::format("an input must be the name of an input or node, or a number; got {}",
                                type_name(inputs[i])));
    }
    node.inputs.emplace_back(inputs[i].get<std::string>());
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "name" || key == "op" || key == "inputs") continue;
    const std::string ap = ptr + "/" + pointer_token(key);
    if (value.is_number()) {
      node.attrs[key] = value.get<double>();
    } else if (value.is_string()) {
      node.attrs[key] = value.get<std::string>();
    } else {
      return make_error(ErrorCode::bad_attribute,
                        fmt::format("attribute '{}' of node '{}' must be a number or a string, "
                                    "got {}", user_text(key), user_text(node.name), type_name(value)), ap);
    }
  }
  return node;
}

Expected<Graph> parse_document(const json& doc, std::string source) {
  if (!doc.is_object()) {
    return schema("", fmt::format("a graph must be a JSON object, got {}", type_name(doc)));
  }
  JF_RETURN_IF_ERROR(check_keys(doc, "", {"name", "inputs", "nodes", "outputs"},
                                {"name", "inputs", "nodes", "outputs"}, "a graph"));
  Graph g;
  g.source = std::move(source);
  JF_ASSIGN_OR_RETURN(g.name, get_string(doc["name"], "/name", "the graph's name"));

  const json& inputs = doc["inputs"];
  if (!inputs.is_object()) {
    return schema("/inputs", fmt::format("inputs must be an object mapping names to "
                                         "{{dtype, shape}}, got {}", type_name(inputs)));
  }
  for (const auto& [name, decl] : inputs.items()) {
    JF_ASSIGN_OR_RETURN(TensorDecl d, parse_input(name, decl, "/inputs/" + pointer_token(name)));
    g.inputs.push_back(std::move(d));
  }

  const json& nodes = doc["nodes"];
  if (!nodes.is_array() || nodes.empty()) {
    return schema("/nodes", fmt::format("nodes must be a non-empty array, got {}",
                                        nodes.is_array() ? "an empty one" : type_name(nodes)));
  }
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    JF_ASSIGN_OR_RETURN(Node n, parse_node(nodes[i], fmt::format("/nodes/{}", i)));
    g.nodes.push_back(std::move(n));
  }

  const json& outputs = doc["outputs"];
  if (!outputs.is_array() || outputs.empty()) {
    return schema("/outputs", fmt::format("outputs must be a non-empty array of node names, "
                                          "got {}", outputs.is_array() ? "an empty one"
                                                                       : type_name(outputs)));
  }
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    JF_ASSIGN_OR_RETURN(std::string o, get_string(outputs[i], fmt::format("/outputs/{}", i),
                                                  "an output"));
    g.outputs.push_back(std::move(o));
  }
  return g;
}

}  // namespace

Expected<Graph> parse_graph(std::string_view json_text, std::string source) {
  // nlohmann stops reading at a NUL and would parse the text before it as the whole graph.
  if (const auto nul = json_text.find('\0'); nul != std::string_view::npos) {
    const auto before = json_text.substr(0, nul);
    const std::size_t line = std::size_t(std::count(before.begin(), before.end(), '\n')) + 1;
    const std::size_t column = nul - (before.rfind('\n') == std::string_view::npos ? 0 : before.rfind('\n') + 1) + 1;
    Error err = make_error(ErrorCode::json_syntax,
                           fmt::format("byte {} (line {}, column {}) is a NUL; a graph is JSON text, "
                                       "which never holds one (is this a binary file?)", nul, line, column));
    err.file = source;
    return err;
  }
  ParseWatcher watch;
  json doc;
  // The document is built only from text the watcher accepted; it needs no callback then.
  // ordered_json would keep input order, but the order of keys must not matter: inputs are
  // sorted by name here, and kernels take their parameters in order of first use.
  if (json::sax_parse(json_text.begin(), json_text.end(), &watch)) doc = json::parse(json_text.begin(), json_text.end());
  if (!watch.too_deep().empty()) {
    Error err = make_error(ErrorCode::json_syntax,
                           fmt::format("objects and arrays nest more than {} levels deep here; a graph "
                                       "needs 4 (/inputs/x/shape is the deepest)", kMaxDepth),
                           watch.too_deep());
    err.file = source;
    return err;
  }
  if (!watch.error().empty()) {
    std::string what = watch.error();
    if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    // Not a syntax error: e.g. "number overflow parsing '1e999'", valid text but not a finite number.
    const std::string& at = watch.error_at();
    Error err = watch.syntax_error()
                    ? make_error(ErrorCode::json_syntax, "invalid JSON: " + what)
                    : make_error(at.starts_with("/nodes/") ? ErrorCode::bad_attribute : ErrorCode::schema,
                                 what + ": numbers must be finite and within double range", at);
    err.file = source;
    return err;
  }
  if (!watch.duplicate().empty()) {
    Error err = make_error(ErrorCode::json_duplicate_key,
                           "this key appears twice in its object; JSON readers would silently "
                           "keep one of them, so remove the other",
                           watch.duplicate());
    err.file = source;
    return err;
  }
  auto g = parse_document(doc, source);
  if (!g.ok()) g.error().file = source;
  return g;
}

Expected<Graph> load_graph(const std::filesystem::path& path) {
  // Any readable file, a pipe included (`jitfuse compile <(gen_graph)`), up to a size no graph
  // comes near; a directory or a missing file is said to be one.
  auto text = read_file(path, ReadLimits{.max_bytes = kMaxGraphBytes, .regular_only = false});
  if (!text.ok() || !*text) {
    Error err = make_error(ErrorCode::io, "cannot read the graph: " +
                                              (text.ok() ? std::string("no such file") : text.error().message));
    err.file = path.string();
    return err;
  }
  return parse_graph(**text, path.string());
}

}  // namespace jitfuse
