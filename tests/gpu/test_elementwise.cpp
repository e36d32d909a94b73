// Elementwise kernels on the GPU against the float64 reference: the 16-byte vector path with odd
// element counts, every kind of broadcast operand and dtype, and the element-by-element path
// that a tensor not 16-byte aligned takes.
#include "gpu_support.h"

using namespace jitfuse;

namespace {

// Full-shape inputs x and y, a bias [N], a per-row [M, 1], a scalar [] and a literal; two
// outputs (one read again by the other). A long body adds mish and a third output: over 16 FLOPs
// an element, so the kernel takes one vector a pass instead of four (JF_UNROLL 1).
std::string broadcast_graph(const char* dtype, bool long_body = false) {
  return fmt::format(R"({{"name": "vec", "inputs": {{
      "x": {{"dtype": "{0}", "shape": ["M", "N"]}}, "y": {{"dtype": "{0}", "shape": ["M", "N"]}},
      "b": {{"dtype": "{0}", "shape": ["N"]}}, "r": {{"dtype": "{0}", "shape": ["M", 1]}},
      "s": {{"dtype": "{0}", "shape": []}}}},
    "nodes": [{{"name": "t0", "op": "add", "inputs": ["x", "b"]}},
              {{"name": "t1", "op": "mul", "inputs": ["t0", "r"]}},
              {{"name": "t2", "op": "sub", "inputs": ["t1", "s"]}},
              {{"name": "t3", "op": "add", "inputs": ["t2", "y"]}},
              {{"name": "out", "op": "maximum", "inputs": ["t3", -0.5]}},
              {{"name": "g", "op": "gelu", "inputs": ["out"]}}{1}],
    "outputs": ["out", "g"{2}]}})",
                     dtype, long_body ? R"(, {"name": "h", "op": "mish", "inputs": ["g"]})" : "",
                     long_body ? R"(, "h")" : "");
}

}  // namespace

TEST_CASE("gpu: elementwise vector path: odd sizes, broadcasts, f32/f16/bf16, misaligned pointers") {
  JF_REQUIRE_GPU();
  struct Size {
    std::int64_t m, n;
  };
  // numel below one vector, a per-row operand changing inside every vector (N = 3), odd counts
  // with a scalar tail, an exact multiple, and (unless small) several grid-stride passes.
  std::vector<Size> sizes = {{1, 3}, {50, 3}, {37, 129}, {64, 1000}, {257, 1001}};
  if (!jf_gpu::small_only()) sizes.push_back({3001, 1001});
  std::uint64_t seed = 500;
  for (const bool long_body : {false, true})
  for (const char* dtype : {"f32", "f16", "bf16"}) {
    CAPTURE(long_body);
    CAPTURE(dtype);
    const std::string json = broadcast_graph(dtype, long_body);
    auto build = jf_gpu::engine().build(*parse_graph(json), {});
    REQUIRE(build.ok());
    REQUIRE(build->kernels.size() == 1);
    CHECK(build->kernels[0].source.find("#define JF_LOAD_PTRS(p) (p).in_x, (p).in_y") != std::string::npos);
    CHECK(build->kernels[0].source.find(long_body ? "#define JF_UNROLL 1\n" : "#define JF_UNROLL 4\n") !=
          std::string::npos);
    const auto tol = jf_gpu::tolerance(dtype, MathMode::ieee);
    for (const Size& s : sizes) {
      CAPTURE(s.m);
      CAPTURE(s.n);
      const std::map<std::string, std::int64_t> dims = {{"M", s.m}, {"N", s.n}};
      jf_gpu::check(jf_gpu::run(json, {}, dims, seed++), tol);
      if (s.m * s.n > 1000000) continue;
      // Baked-in sizes: the element count is a literal in the kernel.
      CompileOptions baked;
      baked.dims = dims;
      jf_gpu::check(jf_gpu::run(json, baked, {}, seed++), tol);
    }
    // One element past an aligned base: a full-shape input, an output, a broadcast operand, and
    // every tensor at once. Each takes the element-by-element path, or (the bias) keeps vectors.
    const std::map<std::string, std::int64_t> dims = {{"M", 257}, {"N", 1001}};
    for (const std::map<std::string, int>& offset :
         {std::map<std::string, int>{{"x", 1}}, {{"g", 1}}, {{"b", 1}},
          {{"x", 1}, {"y", 1}, {"b", 1}, {"r", 1}, {"s", 1}, {"out", 1}, {"g", 1}}}) {
      CAPTURE(offset.size());
      CAPTURE(offset.begin()->first);
      jf_gpu::check(jf_gpu::run(json, {}, dims, seed++, true, offset), tol);
    }
  }
}

TEST_CASE("gpu: elementwise vector path: unfused kernels read aligned scratch intermediates") {
  JF_REQUIRE_GPU();
  CompileOptions unfused;
  unfused.fusion = false;
  for (const char* dtype : {"f32", "bf16"}) {
    CAPTURE(dtype);
    jf_gpu::check(jf_gpu::run(broadcast_graph(dtype), unfused, {{"M", 33}, {"N", 77}}, 77),
                  jf_gpu::tolerance(dtype, MathMode::ieee));
  }
}
