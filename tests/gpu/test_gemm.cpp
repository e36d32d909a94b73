// GEMM + epilogue on the GPU against the float64 reference: the example graph at the issue's
// shapes, odd shapes in every dtype and math mode, both B layouts, with and without bias.
#include "gpu_support.h"

using namespace jitfuse;

namespace {

struct Mode {
  const char* dtype;
  MathMode math;
};
const Mode kModes[] = {{"f32", MathMode::ieee}, {"f32", MathMode::tf32x3}, {"f32", MathMode::tf32},
                       {"f16", MathMode::ieee}, {"bf16", MathMode::ieee}};

CompileOptions opts(MathMode math, std::map<std::string, std::int64_t> dims = {}) {
  CompileOptions o;
  o.math = math;
  o.dims = std::move(dims);
  return o;
}

std::string example(const char* dtype) {
  return jf_test::with_dtype(jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json"),
                             "f32", dtype);
}

// A gemm graph whose N and K are symbolic too: one kernel serves every shape.
std::string symbolic(const char* dtype, bool kn, bool bias) {
  return fmt::format(R"({{"name": "sym", "inputs": {{
      "x": {{"dtype": "{0}", "shape": ["M", "K"]}},
      "w": {{"dtype": "{0}", "shape": {1}}}{2}}},
    "nodes": [{{"name": "y", "op": "gemm", "inputs": ["x", "w"{3}], "b_layout": "{4}"}},
              {{"name": "s", "op": "scale", "inputs": ["y"], "factor": 0.5}},
              {{"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2, "max": 2}},
              {{"name": "out", "op": "gelu", "inputs": ["h"]}}],
    "outputs": ["out"]}})",
                     dtype, kn ? R"(["K", "N"])" : R"(["N", "K"])",
                     bias ? fmt::format(R"(, "bias": {{"dtype": "{}", "shape": ["N"]}})", dtype) : "",
                     bias ? R"(, "bias")" : "", kn ? "kn" : "nk");
}

struct Shape3 {
  std::int64_t m, n, k;
};

}  // namespace

TEST_CASE("gpu: the example graph at M = 1, 7, 128, 2048 (N = K = 8192)") {
  JF_REQUIRE_GPU();
  const std::vector<std::int64_t> ms = jf_gpu::small_only() ? std::vector<std::int64_t>{1, 7}
                                                            : std::vector<std::int64_t>{1, 7, 128, 2048};
  std::vector<std::pair<std::string, CompileOptions>> jobs;
  for (const Mode& m : kModes) jobs.push_back({example(m.dtype), opts(m.math)});
  jf_gpu::precompile(jobs);
  std::uint64_t seed = 1;
  for (const Mode& m : kModes) {
    for (std::int64_t M : ms) {
      CAPTURE(m.dtype);
      CAPTURE(to_string(m.math));
      CAPTURE(M);
      if (M == 2048 && m.math == MathMode::tf32) continue;  // covered at 128; saves a slow reference
      const auto o = jf_gpu::run(example(m.dtype), opts(m.math), {{"M", M}}, seed++);
      jf_gpu::check(o, jf_gpu::tolerance(m.dtype, m.math));
    }
  }
}

TEST_CASE("gpu: odd shapes, every dtype and math mode, both layouts, bias or not") {
  JF_REQUIRE_GPU();
  std::vector<Shape3> shapes = {{1, 257, 129}, {7, 1000, 1001}, {33, 8, 7},  {5, 3, 1},
                                {130, 131, 37}, {64, 64, 64},   {1, 1, 1}, {129, 67, 300}};
  if (!jf_gpu::small_only()) shapes.push_back({2048, 1024, 768});
  std::vector<std::pair<std::string, CompileOptions>> jobs;
  for (const Mode& m : kModes)
    for (bool kn : {false, true})
      for (bool bias : {false, true}) jobs.push_back({symbolic(m.dtype, kn, bias), opts(m.math)});
  jf_gpu::precompile(jobs);
  std::uint64_t seed = 100;
  for (const Mode& m : kModes) {
    for (bool kn : {false, true}) {
      for (bool bias : {false, true}) {
        for (const Shape3& s : shapes) {
          CAPTURE(m.dtype);
          CAPTURE(to_string(m.math));
          CAPTURE(kn);
          CAPTURE(bias);
          CAPTURE(s.m);
          CAPTURE(s.n);
          CAPTURE(s.k);
          const auto o = jf_gpu::run(symbolic(m.dtype, kn, bias), opts(m.math),
                                     {{"M", s.m}, {"N", s.n}, {"K", s.k}}, seed++);
          jf_gpu::check(o, jf_gpu::tolerance(m.dtype, m.math));
        }
      }
    }
  }
}

TEST_CASE("gpu: fixed N and K (16-byte vector loads), runtime and baked-in M") {
  JF_REQUIRE_GPU();
  std::uint64_t seed = 500;
  for (const Mode& m : kModes) {
    for (bool kn : {false, true}) {
      for (std::int64_t M : {1, 77, 256}) {
        jf_test::GemmGraph g;
        g.dtype = m.dtype;
        g.kn = kn;
        g.n = 264;
        g.k = 520;
        CAPTURE(m.dtype);
        CAPTURE(to_string(m.math));
        CAPTURE(kn);
        CAPTURE(M);
        jf_gpu::check(jf_gpu::run(g.json(), opts(m.math), {{"M", M}}, seed++),
                      jf_gpu::tolerance(m.dtype, m.math));
        jf_gpu::check(jf_gpu::run(g.json(), opts(m.math, {{"M", M}}), {}, seed++),
                      jf_gpu::tolerance(m.dtype, m.math));
      }
      // Mid-sized, baked in: the 128x128 tile configs.
      jf_test::GemmGraph mid;
      mid.dtype = m.dtype;
      mid.kn = kn;
      mid.n = 1032;
      mid.k = 264;
      CAPTURE(m.dtype);
      CAPTURE(kn);
      jf_gpu::check(jf_gpu::run(mid.json(), opts(m.math, {{"M", 1544}}), {}, seed++),
                    jf_gpu::tolerance(m.dtype, m.math));
    }
  }
}

TEST_CASE("gpu: the wgmma template (sm_90a) at odd shapes: edges in M, N and K, every dtype and mode") {
  JF_REQUIRE_GPU();
  const Mode modes[] = {{"f16", MathMode::ieee}, {"bf16", MathMode::ieee}, {"f32", MathMode::tf32},
                        {"f32", MathMode::tf32x3}, {"f32", MathMode::bf16x3}};
  struct Case {
    std::int64_t m, n, k;
    const char* gemm = "wgmma";
  };
  // K must keep rows 16-byte aligned (TMA); everything else is free. Up to 128 tiles of 64x64
  // take the small config (64x32 or 64x64 tiles, one consumer warpgroup, K split across a
  // cluster). 1100x4100 has more 128x256 tiles than an H100 has SMs: persistent CTAs take two or
  // three tiles each (the last cluster row half outside M), and the same shape runs once with
  // one tile a CTA.
  std::vector<Case> cases = {{1, 264, 520},    {77, 8, 64},     {130, 300, 1000},
                             {257, 520, 72},   {129, 257, 8},   {300, 1, 136},
                             {64, 512, 4096},  {1100, 4100, 136},
                             {1100, 4100, 136, "wgmma,persistent=0"},
                             // The small ones above take 64x64 tiles; these force 128-row tiles.
                             {130, 300, 1000, "wgmma,cluster=2"},
                             {257, 520, 72, "wgmma,cluster=1,persistent=1"},
                             // Split K (the heuristic splits small tf32x3 problems 2 ways):
                             // ragged shares, and more CTAs than k-tiles (empty shares).
                             {130, 300, 1000, "wgmma,split=4"},
                             {77, 8, 64, "wgmma,split=8"},
                             // Ping-pong (tf32x3 takes the cooperative kernel): CTAs with
                             // one tile (one consumer idle), and with two or three (turns).
                             {257, 520, 72, "wgmma,pingpong=1"},
                             {1100, 4100, 136, "wgmma,pingpong=1"},
                             {1100, 4100, 136, "wgmma,pingpong=1,cluster=1"},
                             // The small ones above take 64x32 tiles (64-byte rows staged
                             // for f16/bf16) where those fit a wave; 64x64, split or not:
                             {1, 264, 520, "wgmma,bn=64"},
                             {130, 300, 1000, "wgmma,bn=64,split=2"},
                             {77, 8, 64, "wgmma,bn=64,split=8"},
                             // Epilogue hand-off (tf32x3 takes the plain kernel): one tile a
                             // CTA (the consumers join in), two or three (the epilogue warps
                             // alone but on the last), N not a multiple of 4 (element stores),
                             // CTA pairs with a row below M.
                             {257, 520, 72, "wgmma,handoff=full"},
                             {1100, 4100, 136, "wgmma,handoff=full"},
                             {1100, 4100, 136, "wgmma,handoff=half,cluster=1"},
                             {129, 257, 8, "wgmma,handoff=full,persistent=1"},
                             {130, 300, 1000, "wgmma,handoff=half,cluster=2"},
                             // Stream-K: fewer than two waves (every tile's k-tiles shared:
                             // heads, tails and whole tiles), 3.88 waves of CTA pairs (two
                             // whole waves first), one k-tile a tile (no split tile), a row of
                             // tiles half below M, single CTAs.
                             {2000, 2500, 1000, "wgmma,streamk=1"},
                             {2000, 8000, 264, "wgmma,streamk=1"},
                             {1100, 4100, 8, "wgmma,streamk=1"},
                             {1100, 4100, 136, "wgmma,streamk=1"},
                             {1100, 4100, 136, "wgmma,streamk=1,cluster=1"},
                             // 256x128 tiles (two m64n128 a consumer per k-step) and clusters
                             // along N (A multicast) or 2x2 (both): a cluster's last tile
                             // column past N, its last row past M, tiles of one row.
                             {1100, 4100, 136, "wgmma,tile=256x128,cluster=2n"},
                             {257, 520, 72, "wgmma,tile=256x128,cluster=2x2"},
                             {130, 300, 1000, "wgmma,cluster=2n"},
                             {300, 1030, 64, "wgmma,cluster=2x2,persistent=0"},
                             {2000, 2500, 1000, "wgmma,tile=256x128,cluster=2n,streamk=1"}};
  if (!jf_gpu::small_only()) cases.push_back({2048, 1024, 768});
  std::uint64_t seed = 900;
  for (const Mode& m : modes) {
    for (const Case& c : cases) {
      jf_test::GemmGraph g;
      g.dtype = m.dtype;
      g.n = c.n;
      g.k = c.k;
      CompileOptions o = opts(m.math);
      o.gemm = c.gemm;
      CAPTURE(m.dtype);
      CAPTURE(c.gemm);
      CAPTURE(c.m);
      CAPTURE(c.n);
      CAPTURE(c.k);
      const auto out = jf_gpu::run(g.json(), o, {{"M", c.m}}, seed++);
      if (out.arch != "sm_90a") {
        MESSAGE("skipped: the wgmma template needs sm_90a, this GPU is " << out.arch);
        return;
      }
      REQUIRE(out.source.find("gemm_wgmma.cu") != std::string::npos);
      jf_gpu::check(out, jf_gpu::tolerance(m.dtype, m.math));
    }
  }
}
