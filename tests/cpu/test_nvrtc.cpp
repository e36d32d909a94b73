// NVRTC compiles every template for every arch NVRTC lists and every dtype / math mode, plus
// the layout, alignment and tile variants on sm_80 and sm_90a. No GPU needed.
#include <doctest/doctest.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "nvrtc/nvrtc.h"
#include "support.h"

using namespace jitfuse;

namespace {

struct Variant {
  std::string label;
  jf_test::GemmGraph graph;
  bool elementwise = false;
  MathMode math = MathMode::ieee;
  std::map<std::string, std::int64_t> dims;
  std::string gemm;  // CompileOptions::gemm
  std::string golden;  // a tests/golden/ graph (written in f32; compiled in graph.dtype) instead of `graph`
};

// A tests/golden/ graph, written in f32, in `dtype`.
std::string golden_graph(const std::string& name, const std::string& dtype) {
  return jf_test::with_dtype(jf_test::read_file(jf_test::source_dir() / "tests/golden" / (name + ".json")),
                             "f32", dtype);
}

std::vector<Variant> variants(bool extended) {
  std::vector<Variant> v;
  struct Mode { const char* dtype; MathMode math; };
  const Mode modes[] = {{"f32", MathMode::ieee}, {"f32", MathMode::tf32}, {"f32", MathMode::tf32x3},
                        {"f32", MathMode::bf16x3}, {"f16", MathMode::ieee}, {"bf16", MathMode::ieee}};
  for (const Mode& m : modes) {
    jf_test::GemmGraph g;
    g.dtype = m.dtype;
    g.n = 256;
    g.k = 512;
    v.push_back({fmt::format("{} {}", m.dtype, to_string(m.math)), g, false, m.math, {}});
    if (!extended) continue;
    jf_test::GemmGraph kn = g;
    kn.kn = true;
    kn.k = 37;  // rows of A not 16-byte aligned: the element-wise load path
    kn.bias = false;
    v.push_back({fmt::format("{} {} kn K=37 no bias", m.dtype, to_string(m.math)), kn, false, m.math, {}});
    v.push_back({fmt::format("{} {} small tiles", m.dtype, to_string(m.math)), g, false, m.math, {{"M", 64}}});
    // A 30-op epilogue: the rolled form (kernels/epilogue.cuh), symbolic M and small tiles.
    for (const auto& dims : {std::map<std::string, std::int64_t>{}, std::map<std::string, std::int64_t>{{"M", 64}}}) {
      v.push_back({fmt::format("{} {} gemm + 30 ops{}", m.dtype, to_string(m.math), dims.empty() ? "" : " small tiles"),
                   g, false, m.math, dims, "", "chain30"});
    }
    jf_test::GemmGraph mid = g;
    mid.n = 1024;
    v.push_back({fmt::format("{} {} medium tiles", m.dtype, to_string(m.math)), mid, false, m.math, {{"M", 1536}}});
    // The Hopper kernel's large-problem variants (elsewhere they fall back, compiling the same).
    if (m.math == MathMode::ieee && std::string(m.dtype) == "f32") continue;
    for (const char* gemm : {"wgmma,pingpong=1", "wgmma,handoff=half", "wgmma,handoff=full", "wgmma,streamk=1"}) {
      v.push_back({fmt::format("{} {} {}", m.dtype, to_string(m.math), gemm), g, false, m.math, {}, gemm});
    }
    // Clusters along N need more than one column of tiles (else they fall back to pairs along M).
    jf_test::GemmGraph wide = g;
    wide.n = 1024;
    for (const char* gemm : {"wgmma,tile=256x128,cluster=2n", "wgmma,cluster=2x2"}) {
      v.push_back({fmt::format("{} {} {} N=1024", m.dtype, to_string(m.math), gemm), wide, false, m.math, {}, gemm});
    }
  }
  for (const char* dtype : {"f32", "f16", "bf16"}) {
    Variant e;
    e.label = fmt::format("elementwise {} (every op)", dtype);
    e.elementwise = true;
    e.graph.dtype = dtype;
    v.push_back(e);
  }
  return v;
}

}  // namespace

TEST_CASE("every template compiles for every arch and dtype") {
  auto archs = nvrtc_archs();
  REQUIRE(archs.ok());
  REQUIRE(archs->size() >= 10);
  Engine engine(EngineOptions{std::nullopt, false, 0});
  struct Job { std::string label; Graph graph; CompileOptions options; };
  std::vector<Job> jobs;
  for (const Arch& arch : *archs) {
    const bool extended = arch.name() == "sm_80" || arch.name() == "sm_90a";
    for (const Variant& v : variants(extended)) {
      if (!v.gemm.empty() && arch.name() != "sm_90a") continue;
      const std::string json = v.elementwise      ? golden_graph("all_ops_elementwise", v.graph.dtype)
                               : !v.golden.empty() ? golden_graph(v.golden, v.graph.dtype)
                                                   : v.graph.json();
      CompileOptions o;
      o.arch = arch.name();
      o.math = v.math;
      o.dims = v.dims;
      o.gemm = v.gemm;
      jobs.push_back({arch.name() + " " + v.label, *parse_graph(json), o});
    }
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::string> failures(jobs.size());
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      auto b = engine.build(jobs[i].graph, jobs[i].options);
      if (!b.ok()) failures[i] = jobs[i].label + ": " + b.error().to_string(true);
      else if (b->kernels.empty() || b->kernels[0].cubin.empty() || b->kernels[0].ptx.empty()) {
        failures[i] = jobs[i].label + ": empty cubin or PTX";
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < std::max(2u, std::thread::hardware_concurrency()); ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  int failed = 0;
  for (const auto& f : failures) {
    if (f.empty()) continue;
    ++failed;
    FAIL_CHECK(f);
  }
  MESSAGE(jobs.size() << " compiles, " << failed << " failed");
  CHECK(engine.stats().misses == jobs.size() - std::size_t(failed));
}

TEST_CASE("NVRTC reports its version and rejects unknown archs clearly") {
  auto v = nvrtc_version();
  REQUIRE(v.ok());
  CHECK(v->major >= 12);
  auto bad = check_arch(Arch{13, false});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::bad_option);
  CHECK(bad.error().message.find("sm_90a") != std::string::npos);
  CHECK(parse_arch("sm90").error().code == ErrorCode::bad_option);
  CHECK(parse_arch("sm_90a")->specific);
}

TEST_CASE("a compile failure carries the log, the options and the dumped source") {
  KernelSource src;
  src.name = "jf_broken_test";
  src.code = "extern \"C\" __global__ void jf_broken_test() { this is not C++; }\n";
  auto r = nvrtc_compile(src, nvrtc_options(Arch{80, false}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::compile);
  CHECK(r.error().info.at("log").find("error") != std::string::npos);
  CHECK(r.error().info.at("options").find("sm_80") != std::string::npos);
  CHECK(jf_test::read_file(r.error().info.at("source")) == src.code);
}

TEST_CASE("long epilogues compile in bounded time: a gemm + 13 or 30 ops and every op, sm_90a and sm_80") {
  // Inlined into every accumulator's store, such epilogues took NVRTC minutes (113 s for 13 ops,
  // 424 s for all_ops on sm_90a with a symbolic M); rolled, about a second on a 2-core machine
  // (bench/bench_nvrtc.cpp). The bound is generous, for slow CI machines: it catches minutes.
  // The 14-node graph: a gemm and chain30's first 13 ops (sigmoid, mul, add, gelu, exp,
  // relu, tanh, silu, sub, mish, hardtanh, softplus, div).
  auto chain13 = nlohmann::json::parse(jf_test::read_file(jf_test::source_dir() / "tests/golden/chain30.json"));
  chain13["nodes"].erase(chain13["nodes"].begin() + 14, chain13["nodes"].end());
  chain13["outputs"] = {chain13["nodes"].back()["name"]};
  for (const char* name : {"chain13", "chain30", "all_ops"}) {
    const auto graph = std::string(name) == "chain13"
                           ? parse_graph(chain13.dump())
                           : load_graph(jf_test::source_dir() / "tests/golden" / (std::string(name) + ".json"));
    REQUIRE(graph.ok());
    for (const char* arch : {"sm_90a", "sm_80"}) {
      for (const bool baked : {false, true}) {
        CAPTURE(name);
        CAPTURE(arch);
        CAPTURE(baked);
        Engine engine(EngineOptions{std::nullopt, false, 0});
        CompileOptions o;
        o.arch = arch;
        if (baked) o.dims = {{"M", 4096}};
        auto b = engine.build(*graph, o);
        REQUIRE(b.ok());
        double ms = 0;
        for (const auto& k : b->kernels) ms += k.compile_ms;
        CHECK(ms > 0);
        CHECK(ms < 20000);
      }
    }
  }
}
