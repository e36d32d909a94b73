// Fusion planning: what lands in which kernel, and why.
#include <doctest/doctest.h>

#include "plan/plan.h"
#include "support.h"

using namespace jitfuse;

namespace {

TypedGraph typed(const std::string& json) {
  auto g = parse_graph(json);
  REQUIRE(g.ok());
  auto t = validate(*g);
  REQUIRE(t.ok());
  return *t;
}

std::vector<std::string> names(const TypedGraph& g, const std::vector<int>& values) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(g.values[v].name);
  return out;
}

}  // namespace

TEST_CASE("a gemm and the chain after it become one kernel") {
  const TypedGraph g = typed(jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json"));
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 1);
  CHECK(p.kernels[0].kind == KernelKind::gemm);
  CHECK(p.kernels[0].ops.size() == 3);
  CHECK(names(g, p.kernels[0].stores) == std::vector<std::string>{"out"});
  CHECK(p.intermediates.empty());
  REQUIRE(p.decisions.size() == 4);
  CHECK_FALSE(p.decisions[0].fused);
  for (int i = 1; i < 4; ++i) {
    CHECK(p.decisions[i].fused);
    CHECK(p.decisions[i].kernel == 0);
    CHECK(p.decisions[i].reason.find("stays in registers") != std::string::npos);
  }
}

TEST_CASE("fusion off gives one kernel per node, with intermediates in scratch") {
  const TypedGraph g = typed(jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json"));
  const Plan p = plan_fusion(g, false);
  REQUIRE(p.kernels.size() == 4);
  CHECK(names(g, p.intermediates) == std::vector<std::string>{"y", "s", "h"});
  CHECK(names(g, p.kernels[1].loads) == std::vector<std::string>{"y"});
  CHECK(names(g, p.kernels[3].stores) == std::vector<std::string>{"out"});
  CHECK(p.decisions[2].reason.find("fusion is off") != std::string::npos);
}

TEST_CASE("an elementwise-only chain becomes one kernel") {
  const TypedGraph g = typed(R"({"name": "e", "inputs": {"x": {"dtype": "bf16", "shape": ["N", 3]}},
    "nodes": [{"name": "a", "op": "scale", "inputs": ["x"], "factor": 2},
              {"name": "b", "op": "gelu", "inputs": ["a"], "approximate": "tanh"},
              {"name": "c", "op": "hardtanh", "inputs": ["b"]}],
    "outputs": ["c"]})");
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 1);
  CHECK(p.kernels[0].kind == KernelKind::elementwise);
  CHECK(names(g, p.kernels[0].loads) == std::vector<std::string>{"x"});
  CHECK(p.decisions[0].reason.find("graph input") != std::string::npos);
  CHECK(p.decisions[1].fused);
}

TEST_CASE("a value with several consumers stays in registers; every output is stored") {
  const TypedGraph g = typed(R"({"name": "d", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", 8]}, "w": {"dtype": "f32", "shape": [4, 8]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]},
              {"name": "a", "op": "gelu", "inputs": ["y"]},
              {"name": "b", "op": "hardtanh", "inputs": ["y"]}],
    "outputs": ["y", "a", "b"]})");
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 1);
  CHECK(names(g, p.kernels[0].stores) == std::vector<std::string>{"y", "a", "b"});
}

TEST_CASE("a gemm reading another kernel's result gets it through scratch memory") {
  const TypedGraph g = typed(R"({"name": "two", "inputs": {
      "x": {"dtype": "f16", "shape": ["M", 8]}, "w1": {"dtype": "f16", "shape": [16, 8]},
      "w2": {"dtype": "f16", "shape": [4, 16]}},
    "nodes": [{"name": "h", "op": "gemm", "inputs": ["x", "w1"]},
              {"name": "a", "op": "gelu", "inputs": ["h"]},
              {"name": "o", "op": "gemm", "inputs": ["a", "w2"]}],
    "outputs": ["o"]})");
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 2);
  CHECK(p.kernels[0].ops.size() == 1);
  CHECK(names(g, p.intermediates) == std::vector<std::string>{"a"});
  CHECK(names(g, p.kernels[0].stores) == std::vector<std::string>{"a"});
}

TEST_CASE("a DAG epilogue with a literal is one kernel, the literal inlined") {
  const TypedGraph g = typed(R"({"name": "dag", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", 8]}, "w": {"dtype": "f32", "shape": [4, 8]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]},
              {"name": "s", "op": "sigmoid", "inputs": ["y"]},
              {"name": "t", "op": "mul", "inputs": ["s", 2.0]},
              {"name": "out", "op": "add", "inputs": ["y", "t"]}],
    "outputs": ["out"]})");
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 1);
  CHECK(p.kernels[0].loads.empty());
  CHECK(p.decisions[3].reason.find("'y' and 't' are computed in this kernel") != std::string::npos);
}

TEST_CASE("broadcast operands are read by the fused kernel: per column, per row, whole") {
  const TypedGraph g = typed(jf_test::read_file(jf_test::source_dir() / "tests/golden/dag_broadcast_epilogue.json"));
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 1);
  CHECK(names(g, p.kernels[0].loads) == std::vector<std::string>{"r", "colscale", "rowscale"});
  CHECK(names(g, p.kernels[0].stores) == std::vector<std::string>{"y", "out"});
  const TypedGraph e = typed(jf_test::read_file(jf_test::source_dir() / "tests/golden/elementwise_broadcast.json"));
  const Plan pe = plan_fusion(e, true);
  REQUIRE(pe.kernels.size() == 1);
  CHECK(to_string(e.values[pe.kernels[0].space].shape) == "[B, C, 8]");
}

TEST_CASE("a kernel never reads what a later kernel computes") {
  const TypedGraph g = typed(R"({"name": "order", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", 8]}, "w": {"dtype": "f32", "shape": [4, 8]},
      "r1": {"dtype": "f32", "shape": ["M", 4]}, "r2": {"dtype": "f32", "shape": ["M", 4]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]},
              {"name": "z", "op": "add", "inputs": ["r1", "r2"]},
              {"name": "out", "op": "add", "inputs": ["y", "z"]}],
    "outputs": ["out"]})");
  const Plan p = plan_fusion(g, true);
  REQUIRE(p.kernels.size() == 2);
  CHECK(p.decisions[2].kernel == 1);  // joins z's kernel, reading y from memory
  CHECK(names(g, p.intermediates) == std::vector<std::string>{"y"});
  CHECK(names(g, p.kernels[1].loads) == std::vector<std::string>{"r1", "r2", "y"});
}

TEST_CASE("literals and broadcasting are validated") {
  auto err = [](const std::string& json) {
    auto t = validate(*parse_graph(json));
    return t.ok() ? std::string("ok") : std::string(to_string(t.error().code));
  };
  const char* base = R"({{"name": "b", "inputs": {{"x": {{"dtype": "f32", "shape": ["M", 4]}},
      "v": {{"dtype": "f32", "shape": {}}}}}, "nodes": [{{"name": "o", "op": "add", "inputs": ["x", "v"]}}],
      "outputs": ["o"]}})";
  CHECK(err(fmt::format(fmt::runtime(base), "[4]")) == "ok");
  CHECK(err(fmt::format(fmt::runtime(base), "[\"M\", 1]")) == "ok");
  CHECK(err(fmt::format(fmt::runtime(base), "[]")) == "ok");
  CHECK(err(fmt::format(fmt::runtime(base), "[1, 4]")) == "ok");
  CHECK(err(fmt::format(fmt::runtime(base), "[3]")) == "shape_mismatch");
  CHECK(err(fmt::format(fmt::runtime(base), "[2, \"M\", 4]")) == "ok");  // a bigger result
}
