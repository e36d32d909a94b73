// Parsing and validation: every file in tests/errors/ fails with its exact code and pointer;
// valid graphs come out typed and shaped.
#include <doctest/doctest.h>

#include "graph/typed_graph.h"
#include "support.h"

using namespace jitfuse;

namespace {

std::map<std::string, std::string> read_expect(const std::filesystem::path& p) {
  std::map<std::string, std::string> kv;
  std::istringstream in(jf_test::read_file(p));
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return kv;
}

Expected<TypedGraph> load_and_validate(const std::filesystem::path& p) {
  JF_ASSIGN_OR_RETURN(Graph g, load_graph(p));
  return validate(g);
}

}  // namespace

TEST_CASE("every error case fails with its code and JSON pointer") {
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(jf_test::source_dir() / "tests/errors")) {
    if (entry.path().extension() != ".json") continue;
    ++cases;
    const auto expect = read_expect(std::filesystem::path(entry.path()).replace_extension(".expect"));
    CAPTURE(entry.path().filename().string());
    REQUIRE(expect.count("code"));
    auto r = load_and_validate(entry.path());
    REQUIRE_FALSE(r.ok());
    CHECK(to_string(r.error().code) == expect.at("code"));
    CHECK(r.error().pointer == expect.at("pointer"));
    CHECK(r.error().file == entry.path().string());
    CHECK(is_user_error(r.error().code));
    CHECK_FALSE(r.error().message.empty());
  }
  CHECK(cases >= 50);
}

TEST_CASE("messages name the object and suggest the fix") {
  auto g = parse_graph(jf_test::read_file(jf_test::source_dir() / "tests/errors/hardtanh_min_gt_max.json"));
  REQUIRE(g.ok());
  auto r = validate(*g);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "node 'h' (/nodes/2): hardtanh needs min <= max, got min=3, max=-2");

  auto op = load_and_validate(jf_test::source_dir() / "tests/errors/unknown_op.json");
  CHECK(op.error().message.find("did you mean 'gelu'") != std::string::npos);
  auto attr = load_and_validate(jf_test::source_dir() / "tests/errors/unknown_attribute.json");
  CHECK(attr.error().message.find("did you mean 'min'") != std::string::npos);
  auto syntax = load_and_validate(jf_test::source_dir() / "tests/errors/json_syntax.json");
  CHECK(syntax.error().message.find("line") != std::string::npos);
}

TEST_CASE("a missing graph file is an io error naming the file") {
  auto r = load_graph("/nonexistent/graph.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::io);
  CHECK(r.error().file == "/nonexistent/graph.json");
}

TEST_CASE("the example graph validates with PyTorch's defaults filled in") {
  auto g = load_graph(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json");
  REQUIRE(g.ok());
  auto t = validate(*g);
  REQUIRE(t.ok());
  CHECK(t->dtype == DType::f32);
  CHECK(t->symbols() == std::vector<std::string>{"M"});
  const Value& out = t->values[t->find("out")];
  CHECK(to_string(out.shape) == "[M, 8192]");
  CHECK(out.is_output);
  CHECK(t->nodes[3].attrs.choice("approximate") == "none");

  auto defaults = parse_graph(R"({"name": "d", "inputs": {"x": {"dtype": "bf16", "shape": [4]}},
      "nodes": [{"name": "h", "op": "hardtanh", "inputs": ["x"]}, {"name": "g", "op": "gelu", "inputs": ["h"]}],
      "outputs": ["g"]})");
  auto td = validate(*defaults);
  REQUIRE(td.ok());
  CHECK(td->nodes[0].attrs.number("min") == -1.0);
  CHECK(td->nodes[0].attrs.number("max") == 1.0);
  CHECK(td->nodes[1].attrs.choice("approximate") == "none");
}

TEST_CASE("symbolic dims unify across the graph") {
  auto g = parse_graph(R"({"name": "u", "inputs": {
      "x": {"dtype": "f16", "shape": ["B", "K"]}, "w": {"dtype": "f16", "shape": ["K", 96]}},
      "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"], "b_layout": "kn"}],
      "outputs": ["y"]})");
  auto t = validate(*g);
  REQUIRE(t.ok());
  CHECK(to_string(t->values[t->find("y")].shape) == "[B, 96]");
  CHECK(to_string(t->values[t->find("x")].shape) == "[B, K]");

  auto fixed = parse_graph(R"({"name": "u", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", "K"]}, "w": {"dtype": "f32", "shape": [16, 8]}},
      "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]}], "outputs": ["y"]})");
  auto tf = validate(*fixed);
  REQUIRE(tf.ok());
  CHECK(to_string(tf->values[tf->find("x")].shape) == "[M, 8]");  // K was fixed by w
}

TEST_CASE("specialize bakes in dims and rejects bad ones") {
  auto t = validate(*load_graph(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json"));
  auto s = specialize(*t, {{"M", 2048}});
  REQUIRE(s.ok());
  CHECK(to_string(s->values[s->find("out")].shape) == "[2048, 8192]");
  CHECK(s->symbols().empty());
  auto bad = specialize(*t, {{"N", 5}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::bad_option);
  CHECK(bad.error().message.find("its symbols: M") != std::string::npos);
  CHECK(specialize(*t, {{"M", 0}}).error().code == ErrorCode::bad_option);
}

TEST_CASE("key order and whitespace do not change the parsed graph") {
  auto a = parse_graph(R"({"name":"k","inputs":{"x":{"dtype":"f32","shape":[4]}},
    "nodes":[{"name":"h","op":"hardtanh","inputs":["x"],"min":-1,"max":2}],"outputs":["h"]})");
  auto b = parse_graph(R"({
      "outputs": ["h"],
      "nodes": [ { "max": 2, "inputs": ["x"], "op": "hardtanh", "min": -1, "name": "h" } ],
      "inputs": { "x": { "shape": [4], "dtype": "f32" } },
      "name": "k" })");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->nodes[0].attrs == b->nodes[0].attrs);
  CHECK(a->inputs[0].shape == b->inputs[0].shape);
}
