// JSON-aware mutations of a graph: each knows the format's structure, so that a mutated graph
// gets past the JSON parser and reaches validation, planning and code generation.
#include <fmt/format.h>

#include <functional>

#include "generators.h"
#include "ops/op_table.h"

namespace jitfuse::fuzz {
namespace {

// The graph being mutated, the raw text it will carry, and the log of what was done.
struct Mutation {
  Rng& rng;
  json& doc;
  RawJson& raw;
  std::string& what;

  // The node list, or nullptr where an earlier mutation broke it.
  json* nodes() {
    if (!doc.is_object() || !doc.contains("nodes") || !doc["nodes"].is_array() || doc["nodes"].empty()) {
      return nullptr;
    }
    return &doc["nodes"];
  }
  // A random node object, or nullptr.
  json* node() {
    json* n = nodes();
    if (!n) return nullptr;
    json& pick = (*n)[rng.below(n->size())];
    return pick.is_object() ? &pick : nullptr;
  }
  // The inputs object, or nullptr.
  json* inputs() {
    if (!doc.is_object() || !doc.contains("inputs") || !doc["inputs"].is_object() || doc["inputs"].empty()) {
      return nullptr;
    }
    return &doc["inputs"];
  }
  // Every name the graph defines: its inputs' and its nodes'.
  std::vector<std::string> names() {
    std::vector<std::string> out;
    if (json* in = inputs()) {
      for (const auto& [k, v] : in->items()) out.push_back(k);
    }
    if (json* n = nodes()) {
      for (const json& node : *n) {
        if (node.is_object() && node.contains("name") && node["name"].is_string()) out.push_back(node["name"]);
      }
    }
    return out;
  }
  // A string value holding `bytes`, raw where nlohmann cannot dump them.
  json text(const std::string& bytes) { return raw.text(bytes); }
  // A number, often hostile, as raw JSON text.
  json number() { return raw.raw(weird_number_token(rng)); }
  void log(const std::string& s) { what += (what.empty() || what.ends_with(": ") ? "" : "; ") + s; }
};

// Every attribute name some op takes, for attributes moved to the wrong op.
std::vector<std::string> attribute_names() {
  std::vector<std::string> out = {"b_layout"};
  for (const ops::OpDef& op : ops::all_ops()) {
    for (const ops::AttrSpec& a : op.attrs) out.emplace_back(a.name);
  }
  return out;
}

void drop_node(Mutation& m) {
  if (json* n = m.nodes()) {
    const std::size_t i = m.rng.below(n->size());
    n->erase(i);
    m.log(fmt::format("drop node {}", i));
  }
}

void duplicate_node(Mutation& m) {
  json* n = m.nodes();
  if (!n) return;
  json copy = (*n)[m.rng.below(n->size())];
  if (m.rng.chance(0.5) && copy.is_object()) copy["name"] = "dup_" + std::to_string(m.rng.below(100));
  n->insert(n->begin() + std::ptrdiff_t(m.rng.below(n->size() + 1)), copy);
  m.log("duplicate a node");
}

void swap_nodes(Mutation& m) {
  json* n = m.nodes();
  if (!n) return;
  for (std::size_t i = n->size(); i > 1; --i) std::swap((*n)[i - 1], (*n)[m.rng.below(i)]);
  m.log("shuffle the nodes");
}

void set_op(Mutation& m) {
  json* node = m.node();
  if (!node) return;
  const auto names = ops::op_names();
  if (m.rng.chance(0.6)) {
    (*node)["op"] = std::string(names[m.rng.below(names.size())]);
  } else if (m.rng.chance(0.5)) {
    (*node)["op"] = m.rng.pick(std::vector<std::string>{"GEMM", "Relu", "gelu ", "relu\n", "matmul", "linear",
                                                          "", "softmax", "gelu_tanh", "add_"});
  } else {
    (*node)["op"] = m.rng.chance(0.7) ? m.text(weird_name(m.rng)) : m.raw.any_value(m.rng);
  }
  m.log("change an op to " + (*node)["op"].dump().substr(0, 40));
}

void set_attribute(Mutation& m) {
  json* node = m.node();
  if (!node) return;
  static const std::vector<std::string> known = attribute_names();
  std::string key = m.rng.chance(0.8) ? m.rng.pick(known) : weird_name(m.rng);
  json value;
  switch (m.rng.below(5)) {
    case 0: case 1: value = m.number(); break;
    case 2: value = m.rng.pick(std::vector<std::string>{"none", "tanh", "nk", "kn", "NONE", ""}); break;
    case 3: value = double(m.rng.between(-8, 8)) / 2; break;
    default: value = m.raw.any_value(m.rng);
  }
  if (m.text(key).is_string() && m.text(key).get<std::string>() == key) {
    (*node)[key] = value;
  } else {
    (*node)[m.raw.raw_string(key)] = value;  // a key nlohmann cannot dump goes in raw
  }
  m.log(fmt::format("set attribute {} = {}", json(m.text(key)).dump().substr(0, 30), value.dump().substr(0, 30)));
}

void drop_key(Mutation& m) {
  json* node = m.node();
  if (!node || node->empty()) return;
  auto it = node->begin();
  std::advance(it, std::ptrdiff_t(m.rng.below(node->size())));
  m.log("drop a node's key " + it.key());
  node->erase(it);
}

void set_dtype(Mutation& m) {
  json* in = m.inputs();
  if (!in) return;
  auto it = in->begin();
  std::advance(it, std::ptrdiff_t(m.rng.below(in->size())));
  if (!it->is_object()) return;
  (*it)["dtype"] = m.rng.chance(0.7) ? json(m.rng.pick(std::vector<std::string>{"f32", "f16", "bf16", "f64", "F32",
                                                                               "int8", "fp8", " f32"}))
                                     : m.raw.any_value(m.rng);
  m.log("change input " + it.key() + "'s dtype");
}

void set_shape(Mutation& m) {
  json* in = m.inputs();
  if (!in) return;
  auto it = in->begin();
  std::advance(it, std::ptrdiff_t(m.rng.below(in->size())));
  if (!it->is_object()) return;
  json& shape = (*it)["shape"];
  if (!shape.is_array() || m.rng.chance(0.1)) {
    shape = m.raw.any_value(m.rng);
  } else if (m.rng.chance(0.2)) {
    shape.push_back(m.rng.chance(0.5) ? json(m.rng.between(1, 4)) : json("S"));
  } else if (m.rng.chance(0.15) && !shape.empty()) {
    shape.erase(shape.size() - 1);
  } else if (!shape.empty()) {
    json& dim = shape[m.rng.below(shape.size())];
    switch (m.rng.below(4)) {
      case 0: dim = m.number(); break;
      case 1: dim = m.rng.pick(std::vector<std::string>{"M", "N", "K", "B", "C", "M2"}); break;
      case 2: dim = m.rng.pick(std::vector<std::int64_t>{1, 2, 3, 7, 64, 1000, 4096, 65536}); break;
      default: dim = m.text(weird_name(m.rng));
    }
  }
  m.log("change input " + it.key() + "'s shape to " + shape.dump().substr(0, 40));
}

// Renames one value: everywhere (the graph stays as valid as it was), only where it is
// defined, or only at one use.
void rename_value(Mutation& m) {
  const auto names = m.names();
  if (names.empty()) return;
  const std::string from = m.rng.pick(names);
  const std::string to = m.rng.chance(0.3) ? fmt::format("v{}", m.rng.below(1000)) : weird_name(m.rng);
  const json to_json = m.text(to);
  const int scope = int(m.rng.below(3));  // 0: everywhere, 1: definition, 2: uses
  // A string names a value under a "name" key (a definition) or in an "inputs" or "outputs"
  // list (a use); `in_names` says whether this part of the document is one the scope renames.
  std::function<void(json&, bool)> walk = [&](json& j, bool in_names) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) walk(v, k == "name" ? scope != 2 : (k == "inputs" || k == "outputs") && scope != 1);
    } else if (j.is_array()) {
      for (json& v : j) walk(v, in_names);
    } else if (in_names && j == from) {
      j = to_json;
    }
  };
  walk(m.doc, false);
  if (json* in = m.inputs(); in && in->contains(from) && scope != 2) {
    json decl = (*in)[from];
    in->erase(from);
    (*in)[to_json.get<std::string>()] = decl;  // the name, or its raw placeholder
  }
  m.log(fmt::format("rename {} ({})", from, scope == 0 ? "everywhere" : scope == 1 ? "definition" : "uses"));
}

// Points a node's input at itself or at a node listed after it.
void make_cycle(Mutation& m) {
  json* n = m.nodes();
  if (!n || n->size() < 2) return;
  const std::size_t i = m.rng.below(n->size() - 1);
  const std::size_t j = i + m.rng.below(n->size() - i);
  json& node = (*n)[i];
  if (!node.is_object() || !node.contains("inputs") || !node["inputs"].is_array() || node["inputs"].empty()) return;
  if (!(*n)[j].is_object() || !(*n)[j].contains("name")) return;
  node["inputs"][0] = (*n)[j]["name"];
  m.log(fmt::format("node {} reads node {}", i, j));
}

void change_outputs(Mutation& m) {
  if (!m.doc.is_object()) return;
  json& out = m.doc["outputs"];
  if (!out.is_array()) out = json::array();  // an earlier mutation may have replaced it
  const auto names = m.names();
  switch (m.rng.below(6)) {
    case 0: out = json::array(); break;
    case 1: if (out.is_array() && !out.empty()) out.erase(out.size() - 1); break;
    case 2: if (!names.empty()) out.push_back(m.rng.pick(names)); break;
    case 3: out.push_back(m.rng.chance(0.5) ? json("nope") : m.raw.any_value(m.rng)); break;
    case 4: out = names; break;
    default: out = m.raw.any_value(m.rng);
  }
  m.log("change the outputs to " + out.dump().substr(0, 40));
}

void change_inputs_list(Mutation& m) {
  json* node = m.node();
  if (!node) return;
  json& in = (*node)["inputs"];
  if (!in.is_array() || m.rng.chance(0.1)) {
    in = m.raw.any_value(m.rng);
  } else if (m.rng.chance(0.3)) {
    const auto names = m.names();
    in.push_back(m.rng.chance(0.5) && !names.empty() ? json(m.rng.pick(names)) : json(2.0));
  } else if (m.rng.chance(0.2) && !in.empty()) {
    in.erase(m.rng.below(in.size()));
  } else if (m.rng.chance(0.1)) {
    for (std::int64_t i = m.rng.between(100, 100000); i > 0; --i) in.push_back(1.5);
  } else if (!in.empty()) {
    in[m.rng.below(in.size())] = m.rng.chance(0.6) ? m.number() : m.raw.any_value(m.rng);
  }
  m.log("change a node's inputs");
}

void change_top_level(Mutation& m) {
  if (!m.doc.is_object()) return;
  const std::string key = m.rng.pick(std::vector<std::string>{"name", "inputs", "nodes", "outputs", "version"});
  if (m.rng.chance(0.3)) m.doc.erase(key);
  else if (key == "name") m.doc[key] = m.text(weird_name(m.rng));
  else m.doc[key] = m.raw.any_value(m.rng);
  m.log("change top-level " + key);
}

// Replaces any value in the document, found by walking it, with a hostile one.
void replace_anywhere(Mutation& m) {
  std::vector<json*> spots;
  std::function<void(json&)> walk = [&](json& j) {
    spots.push_back(&j);
    if (j.is_structured()) {
      for (auto& v : j) walk(v);
    }
  };
  walk(m.doc);
  json* spot = spots[m.rng.below(spots.size())];
  *spot = spot->is_number() || m.rng.chance(0.3) ? m.number() : m.raw.any_value(m.rng);
  m.log("replace a value with " + spot->dump().substr(0, 40));
}

}  // namespace

std::string mutate_graph(Rng& rng, json doc, std::string& what) {
  using Step = void (*)(Mutation&);
  static const std::vector<Step> steps = {
      drop_node, duplicate_node, swap_nodes, set_op, set_op, set_attribute, set_attribute,
      set_attribute, drop_key, set_dtype, set_shape, set_shape, rename_value, rename_value,
      make_cycle, change_outputs, change_inputs_list, change_inputs_list, change_top_level,
      replace_anywhere, replace_anywhere};
  RawJson raw;
  Mutation m{rng, doc, raw, what};
  const std::size_t from = what.size();
  for (std::int64_t n = rng.chance(0.6) ? 1 : rng.between(2, 4); n > 0; --n) rng.pick(steps)(m);
  what = what.substr(0, from) + raw.resolve(what.substr(from));
  return raw.render(doc, rng);
}

}  // namespace jitfuse::fuzz
