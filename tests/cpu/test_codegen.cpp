// Generated source: golden files (tests/golden/<case>.json -> <case>.cu), determinism, and the
// shape of what is emitted. JITFUSE_UPDATE_GOLDENS=1 rewrites the .cu files; review the diff.
#include <doctest/doctest.h>

#include "codegen/emit.h"
#include "support.h"

using namespace jitfuse;

namespace {

struct GoldenCase {
  const char* name;
  const char* arch;
  MathMode math;
  std::map<std::string, std::int64_t> dims;
  bool fusion = true;
};

const GoldenCase kCases[] = {
    {"example_f32_ieee", "sm_90a", MathMode::ieee, {{"M", 2048}}},
    {"example_f32_tf32x3", "sm_90a", MathMode::tf32x3, {{"M", 2048}}},
    {"example_bf16", "sm_90a", MathMode::ieee, {}},
    {"f16_kn_nobias_odd_k", "sm_80", MathMode::ieee, {{"M", 7}}},
    {"example_unfused", "sm_86", MathMode::ieee, {}, false},
    {"elementwise_chain", "sm_89", MathMode::ieee, {}},
    {"example_sm75_bf16", "sm_75", MathMode::ieee, {{"M", 128}}},
    {"all_ops", "sm_90a", MathMode::ieee, {{"M", 64}}},
    {"chain30", "sm_90a", MathMode::tf32x3, {}},
    {"all_ops_elementwise", "sm_80", MathMode::ieee, {}},
    {"dag_broadcast_epilogue", "sm_90a", MathMode::ieee, {}},
    {"elementwise_broadcast", "sm_86", MathMode::ieee, {}},
    {"example_f32_bf16x3", "sm_90a", MathMode::bf16x3, {{"M", 2048}}},  // last: tests index the ones above
};

// Every kernel's source for one case, separated by a marker line.
std::string generate(const GoldenCase& c) {
  auto graph = load_graph(jf_test::source_dir() / "tests/golden" / (std::string(c.name) + ".json"));
  REQUIRE(graph.ok());
  auto typed = validate(*graph);
  REQUIRE(typed.ok());
  auto spec = specialize(*typed, c.dims);
  REQUIRE(spec.ok());
  const Plan plan = plan_fusion(*spec, c.fusion);
  auto arch = parse_arch(c.arch);
  REQUIRE(arch.ok());
  std::string all;
  for (std::size_t i = 0; i < plan.kernels.size(); ++i) {
    auto src = emit_source(*spec, plan, int(i), {*arch, c.math});
    REQUIRE(src.ok());
    if (plan.kernels.size() > 1) all += fmt::format("// ==== kernel {} ====\n", i);
    all += src->code;
  }
  return all;
}

}  // namespace

TEST_CASE("generated source matches the golden files") {
  const bool update = std::getenv("JITFUSE_UPDATE_GOLDENS") != nullptr;
  for (const GoldenCase& c : kCases) {
    CAPTURE(c.name);
    const std::string got = generate(c);
    const auto path = jf_test::source_dir() / "tests/golden" / (std::string(c.name) + ".cu");
    if (update) {
      jf_test::write_file(path, got);
      MESSAGE("updated " << path.string());
      continue;
    }
    REQUIRE_MESSAGE(std::filesystem::exists(path), "missing golden file; run with JITFUSE_UPDATE_GOLDENS=1");
    CHECK(got == jf_test::read_file(path));
  }
}

TEST_CASE("generation is deterministic, byte for byte") {
  for (const GoldenCase& c : kCases) CHECK(generate(c) == generate(c));
}

TEST_CASE("a kernel includes only the headers it needs") {
  const std::string f32 = generate(kCases[0]);
  CHECK(f32.find("bf16.cuh") == std::string::npos);
  CHECK(f32.find("f16.cuh") == std::string::npos);
  CHECK(f32.find("jitfuse/kernels/gelu.cuh") != std::string::npos);
  const std::string bf16 = generate(kCases[2]);
  CHECK(bf16.find("jitfuse/kernels/bf16.cuh") != std::string::npos);
  CHECK(bf16.find("cuda_bf16.h") == std::string::npos);
  const std::string chain = generate(kCases[5]);
  CHECK(chain.find("gemm") == std::string::npos);
}

TEST_CASE("templates are chosen by dtype, math mode and arch") {
  CHECK(generate(kCases[0]).find("gemm_simt.cu") != std::string::npos);  // f32 ieee: FFMA
  CHECK(generate(kCases[1]).find("JF_MMA_TF32X3") != std::string::npos);
  CHECK(generate(kCases[2]).find("JF_MMA_BF16") != std::string::npos);
  CHECK(generate(kCases[6]).find("gemm_simt.cu") != std::string::npos);  // sm_75: no bf16 mma
  const std::string odd = generate(kCases[3]);
  CHECK(odd.find("#define JF_VEC_A 0") != std::string::npos);  // K=1001: rows not 16-byte aligned
  CHECK(odd.find("#define JF_B_KN 1") != std::string::npos);
}

TEST_CASE("elementwise kernels move full-shape tensors as 16-byte vectors, with a fallback") {
  const std::string json = R"({"name": "vec", "inputs": {
      "x": {"dtype": "bf16", "shape": ["M", "N"]}, "b": {"dtype": "bf16", "shape": ["N"]},
      "r": {"dtype": "bf16", "shape": ["M", 1]}},
    "nodes": [{"name": "t", "op": "add", "inputs": ["x", "b"]},
              {"name": "out", "op": "mul", "inputs": ["t", "r"]}],
    "outputs": ["t", "out"]})";
  auto typed = validate(*parse_graph(json));
  REQUIRE(typed.ok());
  const Plan plan = plan_fusion(*typed, true);
  REQUIRE(plan.kernels.size() == 1);
  auto src = emit_source(*typed, plan, 0, {*parse_arch("sm_90a"), MathMode::ieee});
  REQUIRE(src.ok());
  // The vector path: 8 bf16 lanes a vector for x and both outputs; broadcasts read per lane.
  CHECK(src->code.find("#define JF_VEC 8\n") != std::string::npos);
  CHECK(src->code.find("#define JF_LOAD_PTRS(p) (p).in_x\n") != std::string::npos);
  CHECK(src->code.find("#define JF_STORE_PTRS(p) (p).out_t, (p).out_out\n") != std::string::npos);
  CHECK(src->code.find("const float v_x = in[0];") != std::string::npos);
  CHECK(src->code.find("jf_ld(p.in_r, (i / (p.dim_N)))") != std::string::npos);
  CHECK(src->config.find("vectors of 8 bf16 (16 bytes)") != std::string::npos);
  CHECK(src->launch.items_per_thread == 32);
  CHECK(src->launch.blocks_per_sm == 4);
  // The fallback: no pointer demands 16-byte alignment of the caller (the kernel checks and
  // goes element by element), and the template has both paths.
  for (const Param& p : src->params) CHECK(p.align == 0);
  const std::string tmpl = jf_test::read_file(jf_test::source_dir() / "templates/elementwise.cu");
  CHECK(tmpl.find("jf_aligned16(ld, JF_LOADS) && jf_aligned16(st, JF_STORES)") != std::string::npos);
  CHECK(tmpl.find("jf_ld16(") != std::string::npos);
  CHECK(tmpl.find("jf_ld(ld[k], i + u * threads)") != std::string::npos);
  // f32: 4 lanes, 4 vectors a thread per pass.
  auto f32 = validate(*parse_graph(jf_test::with_dtype(json, "bf16", "f32")));
  auto f32_src = emit_source(*f32, plan_fusion(*f32, true), 0, {*parse_arch("sm_80"), MathMode::ieee});
  REQUIRE(f32_src.ok());
  CHECK(f32_src->code.find("#define JF_VEC 4\n#define JF_UNROLL 4\n") != std::string::npos);
}

TEST_CASE("an elementwise kernel whose operands all broadcast compiles, with no vector loads") {
  // out [M, N] = b [N] + r [M, 1]: nothing full-shape to load, the output still a vector store.
  const std::string json = R"({"name": "outer", "inputs": {
      "b": {"dtype": "f16", "shape": ["N"]}, "r": {"dtype": "f16", "shape": ["M", 1]}},
    "nodes": [{"name": "out", "op": "add", "inputs": ["b", "r"]}], "outputs": ["out"]})";
  Engine engine(EngineOptions{std::nullopt, false, 0});
  CompileOptions o;
  o.arch = "sm_80";
  auto b = engine.build(*parse_graph(json), o);
  REQUIRE_MESSAGE(b.ok(), b.error().to_string(true));
  CHECK(b->kernels[0].source.find("#define JF_LOADS 0\n#define JF_LOAD_PTRS(p)\n") != std::string::npos);
  CHECK_FALSE(b->kernels[0].cubin.empty());
}

TEST_CASE("a GELU whose input the graph bounds takes the polynomial form, fused or not") {
  auto source_of = [](const std::string& chain, bool fusion) {
    const std::string json = fmt::format(R"({{"name": "b", "inputs": {{"x": {{"dtype": "f32", "shape": [64]}}}},
      "nodes": [{}], "outputs": ["out"]}})", chain);
    Engine engine(EngineOptions{std::nullopt, false, 0});
    CompileOptions o;
    o.arch = "sm_80";
    o.fusion = fusion;
    auto b = engine.build(*parse_graph(json), o);
    REQUIRE_MESSAGE(b.ok(), b.error().to_string(true));
    std::string all;
    for (const auto& k : b->kernels) all += k.source;
    return all;
  };
  const std::string bounded =
      R"({"name": "s", "op": "scale", "inputs": ["x"], "factor": -0.5},
         {"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2, "max": 2},
         {"name": "out", "op": "gelu", "inputs": ["h"]})";
  for (bool fusion : {true, false}) {
    CAPTURE(fusion);
    const std::string src = source_of(bounded, fusion);
    CHECK(src.find("jf_gelu_erf_bounded(v_h)") != std::string::npos);
    CHECK(src.find("jf_gelu_erf(") == std::string::npos);
  }
  // hardtanh then a scale past the polynomial's domain, relu (unbounded above), the tanh form,
  // an unbounded input: erff.
  for (const char* chain :
       {R"({"name": "h", "op": "hardtanh", "inputs": ["x"], "min": -2, "max": 2},
           {"name": "s", "op": "scale", "inputs": ["h"], "factor": 1.1},
           {"name": "out", "op": "gelu", "inputs": ["s"]})",
        R"({"name": "h", "op": "relu", "inputs": ["x"]}, {"name": "out", "op": "gelu", "inputs": ["h"]})",
        R"({"name": "h", "op": "tanh", "inputs": ["x"]},
           {"name": "out", "op": "gelu", "inputs": ["h"], "approximate": "tanh"})",
        R"({"name": "out", "op": "gelu", "inputs": ["x"]})"}) {
    CAPTURE(chain);
    CHECK(source_of(chain, true).find("jf_gelu_erf_bounded") == std::string::npos);
  }
  // Bounds from clamp, tanh, sigmoid and relu of a bounded value; a scale that keeps them in.
  for (const char* chain :
       {R"({"name": "h", "op": "clamp", "inputs": ["x"], "min": -1, "max": 2.1},
           {"name": "out", "op": "gelu", "inputs": ["h"]})",
        R"({"name": "h", "op": "tanh", "inputs": ["x"]}, {"name": "s", "op": "scale", "inputs": ["h"], "factor": -2},
           {"name": "out", "op": "gelu", "inputs": ["s"]})",
        R"({"name": "h", "op": "sigmoid", "inputs": ["x"]}, {"name": "out", "op": "gelu", "inputs": ["h"]})",
        R"({"name": "h", "op": "clamp", "inputs": ["x"], "max": 1}, {"name": "r", "op": "relu", "inputs": ["h"]},
           {"name": "out", "op": "gelu", "inputs": ["r"]})"}) {
    CAPTURE(chain);
    CHECK(source_of(chain, true).find("jf_gelu_erf_bounded") != std::string::npos);
  }
}

TEST_CASE("a GEMM epilogue runs inline only when short and straight-line, and never on mma") {
  // The inline path copies the epilogue into every accumulator's store; a division, square root
  // or libm slow path there cost NVRTC seconds (bench/NOTES.md v10), so those roll.
  auto source_of = [](std::vector<std::string> chain, const char* arch, const char* dtype) {
    jf_test::GemmGraph g;
    g.dtype = dtype;
    g.n = 256;
    g.k = 512;
    g.chain = std::move(chain);
    Engine engine(EngineOptions{std::nullopt, false, 0});
    CompileOptions o;
    o.arch = arch;
    auto b = engine.build(g.graph(), o);
    REQUIRE_MESSAGE(b.ok(), b.error().to_string(true));
    return b->kernels.at(0).source;
  };
  const char* kInline = "#define JF_EPILOGUE_INLINE 1";
  const std::vector<std::string> example = jf_test::GemmGraph{}.chain;  // scale, hardtanh, bounded GELU
  CHECK(source_of(example, "sm_90a", "bf16").find(kInline) != std::string::npos);
  CHECK(source_of(example, "sm_90a", "f32").find(kInline) != std::string::npos);
  CHECK(source_of({R"("op": "relu")", R"("op": "exp")", R"("op": "tanh")"}, "sm_90a", "bf16").find(kInline) !=
        std::string::npos);
  // Not straight-line: an IEEE division (sigmoid's 1 / (1 + e^-x)), a square root, erff.
  for (const char* op : {R"("op": "sigmoid")", R"("op": "rsqrt")", R"("op": "gelu")"}) {
    CAPTURE(op);
    const std::string src = source_of({op}, "sm_90a", "bf16");
    CHECK(src.find("#define JF_EPILOGUE_INLINE 0") != std::string::npos);
    CHECK(src.find("rolled") != std::string::npos);  // explain's note, in the header comment
  }
  // Straight-line but long: 5 exps are 20 FLOPs an element.
  CHECK(source_of(std::vector<std::string>(5, R"("op": "exp")"), "sm_90a", "bf16").find(kInline) == std::string::npos);
  // The mma template rolls whatever the epilogue (measured faster).
  const std::string mma = source_of(example, "sm_80", "bf16");
  CHECK(mma.find("gemm_mma.cu") != std::string::npos);
  CHECK(mma.find("#define JF_EPILOGUE_INLINE 0") != std::string::npos);
}
