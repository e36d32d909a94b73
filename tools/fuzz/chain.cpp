// Generated graphs that validate: a gemm (or a graph input) and a chain of elementwise ops
// drawn from the op table, so that every op, attribute and broadcast form gets fuzzed, new ops
// included, without this file knowing their names.
#include <fmt/format.h>

#include <cmath>
#include <set>

#include "generators.h"
#include "ops/op_table.h"

namespace jitfuse::fuzz {
namespace {

// A number that validates (finite, within f32) but is often awkward: zero, negative zero, a
// denormal, f32's largest, tiny and huge magnitudes.
double valid_number(Rng& rng) {
  if (rng.chance(0.7)) return double(rng.between(-64, 64)) / 4;
  if (rng.chance(0.5)) {
    return rng.pick(std::vector<double>{0.0, -0.0, 1e-45, -1e-45, 1e-38, 3.4028234663852886e38,
                                        -3.4028234663852886e38, 65504, 1e-7, 0.1, 1.0 / 3});
  }
  return (rng.chance(0.5) ? -1 : 1) * rng.unit() * std::pow(10.0, double(rng.between(-30, 37)));
}

// Attributes for `op` that pass its constraints: each optional one given or left to its
// default; constraints between them (hardtanh min <= max) are retried until they hold.
json attributes(Rng& rng, const ops::OpDef& op) {
  for (int attempt = 0;; ++attempt) {
    json out = json::object();
    ops::Attrs filled;
    for (const ops::AttrSpec& spec : op.attrs) {
      const std::string name(spec.name);
      if (spec.is_choice()) {
        const bool give = rng.chance(0.6);
        const std::string value(give ? spec.choices[rng.below(spec.choices.size())] : spec.default_choice);
        if (give) out[name] = value;
        filled.choices[name] = value;
        continue;
      }
      const bool required = !spec.default_number && !spec.optional;
      if (required || rng.chance(0.5)) {
        const double v = valid_number(rng);
        out[name] = v;
        filled.numbers[name] = v;
      } else if (spec.default_number) {
        filled.numbers[name] = *spec.default_number;
      }
    }
    if (!op.check || !op.check(filled) || attempt == 50) return out;
  }
}

// Shapes that broadcast against `shape` without changing it: itself, a suffix, dims set to 1,
// a scalar.
json broadcast_shape(Rng& rng, const json& shape) {
  json out = json::array();
  const std::size_t skip = rng.below(shape.size() + 1);
  for (std::size_t i = skip; i < shape.size(); ++i) out.push_back(rng.chance(0.3) ? json(1) : shape[i]);
  return out;
}

}  // namespace

GenGraph elementwise_chain(Rng& rng, bool long_chain) {
  std::vector<const ops::OpDef*> table;
  for (const ops::OpDef& op : ops::all_ops()) {
    if (op.kind != ops::OpKind::gemm) table.push_back(&op);
  }
  const std::string dtype = rng.pick(std::vector<std::string>{"f32", "f16", "bf16"});
  GenGraph g;
  json inputs = json::object(), nodes = json::array();
  json shape;
  std::vector<std::string> values;  // every value of the chain's full shape, graph input first
  if (rng.chance(0.85)) {
    const json m = rng.chance(0.7) ? json("M") : json(rng.between(1, 300));
    const json k = rng.pick(std::vector<std::int64_t>{1, 3, 16, 64, 100, 256, 1001, 4096});
    const json n = rng.pick(std::vector<std::int64_t>{1, 8, 32, 64, 100, 128, 512, 4096});
    const bool nk = rng.chance(0.7);
    inputs["x"] = {{"dtype", dtype}, {"shape", {m, k}}};
    inputs["w"] = {{"dtype", dtype}, {"shape", nk ? json{n, k} : json{k, n}}};
    json gemm = {{"name", "y"}, {"op", "gemm"}, {"inputs", {"x", "w"}}};
    if (!nk || rng.chance(0.3)) gemm["b_layout"] = nk ? "nk" : "kn";
    if (rng.chance(0.6)) {
      inputs["bias"] = {{"dtype", dtype}, {"shape", {n}}};
      gemm["inputs"].push_back("bias");
    }
    nodes.push_back(gemm);
    if (m.is_string()) g.symbols.push_back("M");
    shape = {m, n};
    values.push_back("y");
  } else {
    shape = json::array();
    for (std::int64_t r = rng.between(1, 3), i = 0; i < r; ++i) {
      if (rng.chance(0.5)) {
        shape.push_back(i == 0 ? "B" : "C");
        g.symbols.push_back(i == 0 ? "B" : "C");
      } else {
        shape.push_back(rng.pick(std::vector<std::int64_t>{1, 2, 8, 33, 256}));
      }
    }
    inputs["x"] = {{"dtype", dtype}, {"shape", shape}};
    values.push_back("x");
  }
  std::set<std::string> unread;  // nodes nothing reads yet: each must become an output
  if (values[0] == "y") unread.insert("y");
  const std::int64_t length = long_chain ? rng.between(100, 2000) : rng.between(1, 40);
  for (std::int64_t i = 0; i < length; ++i) {
    const ops::OpDef& op = *table[rng.below(table.size())];
    const std::string name = fmt::format("n{}", i);
    // Mostly the previous value; sometimes an earlier one, which makes a DAG.
    const std::string& a = rng.chance(0.85) ? values.back() : rng.pick(values);
    json node = {{"name", name}, {"op", op.name}, {"inputs", {a}}};
    unread.erase(a);
    if (op.kind == ops::OpKind::binary) {
      json b;
      if (rng.chance(0.3)) {
        b = valid_number(rng);
      } else if (rng.chance(0.6)) {
        const std::string in = fmt::format("b{}", i);
        inputs[in] = {{"dtype", dtype}, {"shape", broadcast_shape(rng, shape)}};
        b = in;
      } else {
        b = rng.pick(values);
        unread.erase(b.get<std::string>());
      }
      node["inputs"].insert(rng.chance(0.3) ? node["inputs"].begin() : node["inputs"].end(), b);
    }
    const json attrs = attributes(rng, op);
    for (auto& [k, v] : attrs.items()) node[k] = v;
    nodes.push_back(node);
    values.push_back(name);
    unread.insert(name);
  }
  json outputs(unread);  // the last node among them: nothing reads it
  for (std::int64_t extra = rng.between(0, 2); extra > 0 && values.size() > 1; --extra) {
    const std::string& v = values[1 + rng.below(values.size() - 1)];
    if (unread.insert(v).second) outputs.push_back(v);
  }
  g.doc = {{"name", "fz_chain"}, {"inputs", inputs}, {"nodes", nodes}, {"outputs", outputs}};
  return g;
}

}  // namespace jitfuse::fuzz
