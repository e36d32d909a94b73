// Sizes the generated kernels cannot address are errors wherever a size enters: written in the
// graph (validate, with the pointer of the number), baked in with --dims (specialize), and bound
// from the tensors at launch (bind). The limits live in graph/limits.h; these tests hold the
// three paths to them, at the limit and one past it. Nothing here compiles a kernel.
#include <doctest/doctest.h>

#include "engine/bind.h"
#include "graph/limits.h"
#include "support.h"

using namespace jitfuse;

namespace {

// x[M, K] x w[N, K], every size given as JSON text (a number or "\"M\"").
std::string gemm_json(const std::string& m, const std::string& n, const std::string& k) {
  return fmt::format(R"({{"name": "g", "inputs": {{"x": {{"dtype": "f32", "shape": [{0}, {2}]}},
      "w": {{"dtype": "f32", "shape": [{1}, {2}]}}}},
      "nodes": [{{"name": "y", "op": "gemm", "inputs": ["x", "w"]}}], "outputs": ["y"]}})", m, n, k);
}

const char* kElementwise = R"({"name": "ew", "inputs": {"x": {"dtype": "f16", "shape": ["N"]}},
    "nodes": [{"name": "a", "op": "relu", "inputs": ["x"]}], "outputs": ["a"]})";

Expected<TypedGraph> typed(const std::string& json) { return validate(*parse_graph(json)); }

void* addr(std::uintptr_t a) { return reinterpret_cast<void*>(a); }

// Tensors for gemm_json's graph at M x N x K, far apart in the address space.
TensorMap gemm_tensors(std::int64_t m, std::int64_t n, std::int64_t k) {
  return {{"x", {addr(std::uintptr_t(1) << 52), {m, k}, DType::f32}},
          {"w", {addr(std::uintptr_t(2) << 52), {n, k}, DType::f32}},
          {"y", {addr(std::uintptr_t(3) << 52), {m, n}, DType::f32}}};
}

Expected<Binding> bind_at(const TypedGraph& g, const TensorMap& t) {
  const Plan plan = plan_fusion(g, true);
  std::vector<KernelSource> sources;
  for (std::size_t i = 0; i < plan.kernels.size(); ++i) {
    sources.push_back(*emit_source(g, plan, int(i), {Arch{80, false}, MathMode::ieee}));
  }
  return bind_tensors(g, sources, t);
}

}  // namespace

TEST_CASE("a GEMM dim in the graph: 2^31 - 4096 is the most, one more is an error at its number") {
  const std::string max = std::to_string(kMaxGemmDim), over = std::to_string(kMaxGemmDim + 1);
  CHECK(typed(gemm_json("\"M\"", "32", max)).ok());
  CHECK(typed(gemm_json(max, "32", "16")).ok());
  struct Case { std::string m, n, k, pointer; };
  for (const Case& c : {Case{"\"M\"", "32", over, "/inputs/x/shape/1"},
                        Case{over, "32", "16", "/inputs/x/shape/0"},
                        Case{"\"M\"", over, "16", "/inputs/w/shape/0"},
                        Case{"\"M\"", "32", "2147483649", "/inputs/x/shape/1"},   // the issue's K
                        Case{"\"M\"", "32", "1099511627776", "/inputs/x/shape/1"}}) {  // 2^40
    CAPTURE(c.pointer);
    auto t = typed(gemm_json(c.m, c.n, c.k));
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == ErrorCode::unsupported);
    CHECK(t.error().pointer == c.pointer);
  }
}

TEST_CASE("the baked-in define of a GEMM dim at the limit is a literal an int holds") {
  auto t = specialize(*typed(gemm_json("\"M\"", "32", "16")), {{"M", kMaxGemmDim}});
  REQUIRE(t.ok());
  const Plan plan = plan_fusion(*t, true);
  auto src = emit_source(*t, plan, 0, {Arch{80, false}, MathMode::ieee});
  REQUIRE(src.ok());
  CHECK(src->code.find(fmt::format("#define JF_M(p) {}\n", kMaxGemmDim)) != std::string::npos);
  CHECK(kMaxGemmDim + 4096 - 1 == std::numeric_limits<std::int32_t>::max());
}

TEST_CASE("--dims: a GEMM's dim past the limit is rejected, an elementwise one takes 64 bits") {
  auto t = typed(gemm_json("\"M\"", "32", "16"));
  REQUIRE(t.ok());
  CHECK(specialize(*t, {{"M", kMaxGemmDim}}).ok());
  auto over = specialize(*t, {{"M", kMaxGemmDim + 1}});
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == ErrorCode::bad_option);
  CHECK(over.error().message.find("gemm 'y'") != std::string::npos);
  CHECK(specialize(*t, {{"M", std::int64_t(1) << 31}}).error().code == ErrorCode::bad_option);

  // Elementwise kernels index in 64 bits: 3e9 elements bake in as a long long.
  auto ew = typed(kElementwise);
  REQUIRE(ew.ok());
  auto big = specialize(*ew, {{"N", 3000000000}});
  REQUIRE(big.ok());
  const Plan plan = plan_fusion(*big, true);
  auto src = emit_source(*big, plan, 0, {Arch{80, false}, MathMode::ieee});
  REQUIRE(src.ok());
  CHECK(src->code.find("#define JF_NUMEL(p) 3000000000LL") != std::string::npos);
  CHECK(specialize(*ew, {{"N", kMaxElements}}).ok());
  CHECK(specialize(*ew, {{"N", kMaxElements + 1}}).error().code == ErrorCode::bad_option);
  CHECK(specialize(*ew, {{"N", std::numeric_limits<std::int64_t>::max()}}).error().code == ErrorCode::bad_option);
}

TEST_CASE("launch: shapes bound from the tensors are held to the same limits") {
  auto g = typed(gemm_json("\"M\"", "\"N\"", "\"K\""));
  REQUIRE(g.ok());
  CHECK(bind_at(*g, gemm_tensors(kMaxGemmDim, 32, 16)).ok());
  CHECK_FALSE(bind_at(*g, gemm_tensors(0, 32, 16)).ok());  // an empty batch: every dim at least 1
  for (const TensorMap& t : {gemm_tensors(kMaxGemmDim + 1, 32, 16), gemm_tensors(64, kMaxGemmDim + 1, 16),
                             gemm_tensors(64, 32, kMaxGemmDim + 1),
                             gemm_tensors(std::int64_t(1) << 24, std::int64_t(1) << 24, 16)}) {  // tiles
    auto b = bind_at(*g, t);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::bad_launch);
    CHECK(b.error().message.find("gemm 'y'") != std::string::npos);
  }
  // 2^80 elements: counted without overflow.
  auto huge = bind_at(*g, gemm_tensors(std::int64_t(1) << 40, std::int64_t(1) << 40, 1));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message.find("'y' [1099511627776, 1099511627776] has 1.21e+24 elements") != std::string::npos);
  auto ew = typed(kElementwise);
  REQUIRE(ew.ok());
  auto tensors = [](std::int64_t n) {
    return TensorMap{{"x", {addr(std::uintptr_t(1) << 52), {n}, DType::f16}},
                     {"a", {addr(std::uintptr_t(3) << 52), {n}, DType::f16}}};
  };
  CHECK(bind_at(*ew, tensors(kMaxElements)).ok());
  auto over = bind_at(*ew, tensors(kMaxElements + 1));
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == ErrorCode::bad_launch);
}

TEST_CASE("explain and compile refuse a K of 2^40 instead of printing petaflops") {
  auto g = parse_graph(gemm_json("\"M\"", "32", "1099511627776"));
  REQUIRE(g.ok());
  CompileOptions o;
  o.arch = "sm_90a";
  auto text = explain(*g, o);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error().code == ErrorCode::unsupported);

  jf_test::TempDir tmp;
  const auto file = tmp.path / "k.json";
  jf_test::write_file(file, gemm_json("\"M\"", "32", "2147483649"));
  for (const char* cmd : {"compile", "explain"}) {
    const jf_test::CliRun r = jf_test::run_cli(fmt::format("{} '{}' --arch sm_90a", cmd, file.string()), tmp.path);
    CHECK(r.code == 2);
    CHECK(r.out.find(file.string() + ": /inputs/x/shape/1: ") != std::string::npos);
  }
  const jf_test::CliRun dims = jf_test::run_cli(
      fmt::format("compile '{}' --arch sm_90a --dims M=2147483648", (jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json").string()),
      tmp.path);
  CHECK(dims.code == 2);
}
