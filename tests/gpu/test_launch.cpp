// Ops alone and fused, fused vs unfused, several outputs, CUDA-graph capture, launch errors,
// launch order under programmatic dependent launch.
#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "cuda/timing.h"
#include "gpu_support.h"

using namespace jitfuse;

namespace {

// Every one-input op with non-default attributes, as node bodies. Ops defined only for x > 0
// get their input through abs and +0.25 first, so that the check compares numbers, not NaNs.
const std::vector<std::vector<std::string>> kChains = {
    {R"("op": "scale", "factor": -1.75)"},
    {R"("op": "hardtanh", "min": -0.5, "max": 0.25)"},
    {R"("op": "hardtanh")"},
    {R"("op": "gelu")"},
    {R"("op": "gelu", "approximate": "tanh")"},
    // Bounded inputs take the polynomial GELU (kernels/gelu.cuh): its whole domain, and tanh's.
    {R"("op": "scale", "factor": 2.5)", R"("op": "hardtanh", "min": -2.1, "max": 2.1)", R"("op": "gelu")"},
    {R"("op": "scale", "factor": 3)", R"("op": "tanh")", R"("op": "gelu")"},
    {R"("op": "relu")"},
    {R"("op": "leaky_relu", "negative_slope": 0.2)"},
    {R"("op": "sigmoid")"},
    {R"("op": "tanh")"},
    {R"("op": "silu")"},
    {R"("op": "swish")"},
    {R"("op": "mish")"},
    {R"("op": "softplus", "beta": 2, "threshold": 1)"},
    {R"("op": "elu", "alpha": 0.7)"},
    {R"("op": "hardswish")"},
    {R"("op": "hardsigmoid")"},
    {R"("op": "clamp", "min": -0.3)"},
    {R"("op": "clamp", "max": 0.4)"},
    {R"("op": "clamp", "min": -0.3, "max": 0.4)"},
    {R"("op": "abs")"},
    {R"("op": "neg")"},
    {R"("op": "exp")"},
    {R"("op": "abs")", R"("op": "add", "inputs+": [0.25])", R"("op": "log")"},
    {R"("op": "abs")", R"("op": "add", "inputs+": [0.25])", R"("op": "sqrt")"},
    {R"("op": "abs")", R"("op": "add", "inputs+": [0.25])", R"("op": "rsqrt")"},
    {R"("op": "add", "inputs+": [1.5])"},
    {R"("op": "sub", "inputs+": [1.5])"},
    {R"("op": "mul", "inputs+": [-3.0])"},
    {R"("op": "div", "inputs+": [4.0])"},
    {R"("op": "maximum", "inputs+": [0.1])"},
    {R"("op": "minimum", "inputs+": [0.1])"},
};

// Node bodies chained from `first`; `"inputs+": [..]` appends literal inputs after the chain's.
std::string chain_nodes(const std::vector<std::string>& chain, const std::string& first) {
  std::string nodes, prev = first;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    const std::string name = i + 1 == chain.size() ? "out" : fmt::format("n{}", i);
    std::string body = chain[i], extra;
    if (auto p = body.find(R"(, "inputs+": [)"); p != std::string::npos) {
      extra = ", " + body.substr(p + 14, body.find(']', p) - p - 14);
      body = body.substr(0, p);
    }
    nodes += fmt::format(R"({}{{"name": "{}", "inputs": ["{}"{}], {}}})", nodes.empty() ? "" : ", ", name,
                         prev, extra, body);
    prev = name;
  }
  return nodes;
}

std::string elementwise(const char* dtype, const std::vector<std::string>& chain) {
  return fmt::format(R"({{"name": "one", "inputs": {{"x": {{"dtype": "{}", "shape": ["A", 3]}}}},
    "nodes": [{}], "outputs": ["out"]}})", dtype, chain_nodes(chain, "x"));
}

std::string behind_gemm(const char* dtype, const std::vector<std::string>& chain) {
  return fmt::format(R"({{"name": "g", "inputs": {{
      "x": {{"dtype": "{0}", "shape": ["M", 80]}}, "w": {{"dtype": "{0}", "shape": [96, 80]}},
      "bias": {{"dtype": "{0}", "shape": [96]}}}},
    "nodes": [{{"name": "y", "op": "gemm", "inputs": ["x", "w", "bias"]}},
              {{"name": "y4", "op": "scale", "inputs": ["y"], "factor": 4}}, {1}],
    "outputs": ["out"]}})", dtype, chain_nodes(chain, "y4"));
}

}  // namespace

TEST_CASE("gpu: every op alone and fused behind a gemm, in f32, bf16 and f16") {
  JF_REQUIRE_GPU();
  std::vector<std::pair<std::string, CompileOptions>> jobs;
  for (const char* dtype : {"f32", "bf16", "f16"}) {
    for (const auto& chain : kChains) {
      jobs.push_back({elementwise(dtype, chain), {}});
      jobs.push_back({behind_gemm(dtype, chain), {}});
    }
  }
  jf_gpu::precompile(jobs);
  std::uint64_t seed = 900;
  for (const char* dtype : {"f32", "bf16", "f16"}) {
    for (const auto& chain : kChains) {
      CAPTURE(dtype);
      CAPTURE(chain.back());
      // Alone: exact up to f32 rounding of the op, then the dtype's rounding.
      jf_gpu::check(jf_gpu::run(elementwise(dtype, chain), {}, {{"A", 100003}}, seed++),
                    std::string(dtype) == "f32" ? jf_gpu::Tolerance{1e-6, 1e-6, 1e-6}
                                                : jf_gpu::Tolerance{1e-2, 1e-2, 1e-2});
      // Behind a gemm, its output scaled up so that clamps bite.
      jf_gpu::check(jf_gpu::run(behind_gemm(dtype, chain), {}, {{"M", 45}}, seed++),
                    jf_gpu::tolerance(dtype, MathMode::ieee));
    }
  }
}

TEST_CASE("gpu: broadcast operands in an epilogue and in an elementwise kernel") {
  JF_REQUIRE_GPU();
  for (const char* dtype : {"f32", "bf16"}) {
    CAPTURE(dtype);
    std::string dag = jf_test::read_file(jf_test::source_dir() / "tests/golden/dag_broadcast_epilogue.json");
    std::string ewb = jf_test::read_file(jf_test::source_dir() / "tests/golden/elementwise_broadcast.json");
    dag = jf_test::with_dtype(dag, "bf16", dtype);
    ewb = jf_test::with_dtype(ewb, "f16", dtype);
    auto plan = jf_gpu::engine().build(*parse_graph(dag), {});
    REQUIRE(plan.ok());
    CHECK(plan->kernels.size() == 1);  // DAG epilogue, broadcasts and two outputs: one kernel
    const auto tol = jf_gpu::tolerance(dtype, MathMode::ieee);
    jf_gpu::check(jf_gpu::run(dag, {}, {{"M", 77}}, 31), tol);
    jf_gpu::check(jf_gpu::run(ewb, {}, {{"B", 5}, {"C", 33}}, 32), tol);
  }
}

TEST_CASE("gpu: fused output equals the unfused chain") {
  JF_REQUIRE_GPU();
  const std::string json = jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json");
  CompileOptions fused, unfused;
  unfused.fusion = false;
  const auto a = jf_gpu::run(json, fused, {{"M", 96}}, 7, false);
  const auto b = jf_gpu::run(json, unfused, {{"M", 96}}, 7, false);
  // f32: the same operations in the same order; storing and reloading f32 is exact.
  CHECK(a.raw.at("out") == b.raw.at("out"));
  jf_test::GemmGraph bf;
  bf.dtype = "bf16";
  CompileOptions off;
  off.fusion = false;
  const auto fb = jf_gpu::run(bf.json(), {}, {{"M", 33}}, 8);
  const auto ub = jf_gpu::run(bf.json(), off, {{"M", 33}}, 8);
  jf_gpu::check(ub, jf_gpu::tolerance("bf16", MathMode::ieee));
  const Comparison c = compare(fb.got.at("out"), ub.got.at("out"), 2e-2, 2e-2);  // bf16 intermediates
  CHECK(c.bad == 0);
}

TEST_CASE("gpu: a DAG epilogue with several outputs is one kernel and matches") {
  JF_REQUIRE_GPU();
  const std::string json = R"({"name": "dag", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", 72]}, "w": {"dtype": "f32", "shape": [40, 72]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]},
              {"name": "a", "op": "gelu", "inputs": ["y"]},
              {"name": "b", "op": "hardtanh", "inputs": ["y"], "min": -0.1, "max": 0.1}],
    "outputs": ["y", "a", "b"]})";
  auto b = jf_gpu::engine().build(*parse_graph(json), {});
  REQUIRE(b.ok());
  CHECK(b->kernels.size() == 1);
  jf_gpu::check(jf_gpu::run(json, {}, {{"M", 19}}, 11), jf_gpu::tolerance("f32", MathMode::ieee));
}

TEST_CASE("gpu: a launch captured into a CUDA graph replays correctly") {
  JF_REQUIRE_GPU();
  jf_test::GemmGraph g;
  g.dtype = "bf16";
  const auto direct = jf_gpu::run(g.json(), {}, {{"M", 50}}, 21, false);
  // Same inputs again, but launched through graph capture and replay.
  auto graph = parse_graph(g.json());
  auto typed = validate(*graph);
  auto kernel = jf_gpu::engine().compile(*graph, {});
  REQUIRE(kernel.ok());
  std::map<std::string, cu::DeviceBuffer> bufs;
  TensorMap t;
  for (int v : typed->inputs) {
    auto h = io::random_input(*typed, v, {{"M", 50}}, 21);
    auto d = cu::DeviceBuffer::alloc(h->bytes.size());
    REQUIRE(cu::copy_to_device(d->ptr(), h->bytes.data(), h->bytes.size()).ok());
    t[typed->values[v].name] = Tensor{d->data(), h->shape, h->dtype};
    bufs[typed->values[v].name] = std::move(*d);
  }
  auto out = cu::DeviceBuffer::alloc(50 * 64 * 2);
  REQUIRE(cu::fill_bytes(out->ptr(), 0xff, out->size()).ok());
  t["out"] = Tensor{out->data(), {50, 64}, DType::bf16};
  auto stream = cu::Stream::create();
  REQUIRE(stream.ok());
  auto timing = cu::time_graph([&] { return kernel->launch(t, stream->get()); }, stream->get(), 5, 3);
  REQUIRE_MESSAGE(timing.ok(), timing.error().to_string());
  std::vector<std::byte> bytes(out->size());
  REQUIRE(cu::copy_to_host(bytes.data(), out->ptr(), bytes.size()).ok());
  CHECK(bytes == direct.raw.at("out"));
}

TEST_CASE("gpu: bad launches are errors, not crashes") {
  JF_REQUIRE_GPU();
  jf_test::GemmGraph g;
  auto kernel = jf_gpu::engine().compile(g.graph(), {});
  REQUIRE(kernel.ok());
  auto buf = cu::DeviceBuffer::alloc(1 << 20);
  REQUIRE(buf.ok());
  auto at = [&](std::size_t off) { return static_cast<void*>(static_cast<char*>(buf->data()) + off); };
  TensorMap t = {{"x", {at(4), {4, 32}, DType::f32}},  // 4 bytes off: vector loads need 16
                 {"w", {at(4096), {64, 32}, DType::f32}},
                 {"bias", {at(16384), {64}, DType::f32}},
                 {"out", {at(32768), {4, 64}, DType::f32}}};
  Status s = kernel->launch(t);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::bad_launch);
  t["x"].data = at(0);
  CHECK(kernel->launch(t).ok());
  CHECK(cu::synchronize().ok());
}

TEST_CASE("gpu: a GEMM launched right behind the GEMM that writes its input reads the new values") {
  JF_REQUIRE_GPU();
  // wgmma kernels launch with programmatic dependent launch: the first lets the second's CTAs
  // start on the SMs it leaves free (32 CTAs here, then 4), and the second must wait for the
  // first to finish before reading y. y and z start poisoned; z is checked against y as the
  // first kernel left it, three times over.
  const char* first = R"({"name": "first",
    "inputs": {"x": {"dtype": "bf16", "shape": [128, 4096]}, "w1": {"dtype": "bf16", "shape": [512, 4096]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w1"], "b_layout": "nk"}], "outputs": ["y"]})";
  const char* second = R"({"name": "second",
    "inputs": {"y": {"dtype": "bf16", "shape": [128, 512]}, "w2": {"dtype": "bf16", "shape": [64, 512]}},
    "nodes": [{"name": "z", "op": "gemm", "inputs": ["y", "w2"], "b_layout": "nk"}], "outputs": ["z"]})";
  auto g1 = parse_graph(first);
  auto g2 = parse_graph(second);
  REQUIRE(g1.ok());
  REQUIRE(g2.ok());
  auto k1 = jf_gpu::engine().compile(*g1, {});
  auto k2 = jf_gpu::engine().compile(*g2, {});
  REQUIRE(k1.ok());
  REQUIRE(k2.ok());
  if (k1->build().arch != "sm_90a") {
    MESSAGE("skipped: programmatic dependent launch is used by the sm_90a wgmma kernels, this GPU is "
            << k1->build().arch);
    return;
  }
  REQUIRE(k1->build().kernels.at(0).source.find("gemm_wgmma.cu") != std::string::npos);
  REQUIRE(k2->build().kernels.at(0).source.find("gemm_wgmma.cu") != std::string::npos);
  auto t1 = validate(*g1);
  auto t2 = validate(*g2);
  std::map<std::string, cu::DeviceBuffer> bufs;
  std::map<std::string, std::vector<double>> host;
  TensorMap t;
  auto input = [&](const TypedGraph& tg, const std::string& name, std::uint64_t seed) {
    for (int v : tg.inputs) {
      if (tg.values[v].name != name) continue;
      auto h = io::random_input(tg, v, {}, seed);
      REQUIRE(h.ok());
      auto d = cu::DeviceBuffer::alloc(h->bytes.size());
      REQUIRE(d.ok());
      REQUIRE(cu::copy_to_device(d->ptr(), h->bytes.data(), h->bytes.size()).ok());
      t[name] = Tensor{d->data(), h->shape, h->dtype};
      host[name] = io::decode(h->dtype, h->bytes);
      bufs[name] = std::move(*d);
    }
  };
  input(*t1, "x", 31);
  input(*t1, "w1", 32);
  input(*t2, "w2", 33);
  for (const auto& [name, rows, cols] : {std::tuple{"y", 128, 512}, std::tuple{"z", 128, 64}}) {
    auto d = cu::DeviceBuffer::alloc(std::size_t(rows) * cols * 2);
    REQUIRE(d.ok());
    t[name] = Tensor{d->data(), {rows, cols}, DType::bf16};
    bufs[name] = std::move(*d);
  }
  auto stream = cu::Stream::create();
  REQUIRE(stream.ok());
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    REQUIRE(cu::fill_bytes(bufs["y"].ptr(), 0xff, bufs["y"].size()).ok());  // NaN in bf16
    REQUIRE(cu::fill_bytes(bufs["z"].ptr(), 0xff, bufs["z"].size()).ok());
    const TensorMap in1 = {{"x", t["x"]}, {"w1", t["w1"]}, {"y", t["y"]}};
    const TensorMap in2 = {{"y", t["y"]}, {"w2", t["w2"]}, {"z", t["z"]}};
    const Status s1 = k1->launch(in1, stream->get());
    REQUIRE_MESSAGE(s1.ok(), s1.error().to_string());
    const Status s2 = k2->launch(in2, stream->get());  // no synchronization in between
    REQUIRE_MESSAGE(s2.ok(), s2.error().to_string());
    REQUIRE(cu::synchronize().ok());
    std::vector<std::byte> yb(bufs["y"].size()), zb(bufs["z"].size());
    REQUIRE(cu::copy_to_host(yb.data(), bufs["y"].ptr(), yb.size()).ok());
    REQUIRE(cu::copy_to_host(zb.data(), bufs["z"].ptr(), zb.size()).ok());
    const std::vector<double> y = io::decode(DType::bf16, yb), z = io::decode(DType::bf16, zb);
    const std::vector<double>& w2 = host["w2"];
    int bad = 0;
    for (int i = 0; i < 128; ++i) {
      for (int j = 0; j < 64; ++j) {
        double want = 0, mag = 0;
        for (int k = 0; k < 512; ++k) {
          want += y[i * 512 + k] * w2[j * 512 + k];
          mag += std::abs(y[i * 512 + k] * w2[j * 512 + k]);
        }
        const double got = z[i * 64 + j];
        if (!(std::abs(got - want) <= 1e-2 * mag + 1e-3)) ++bad;  // NaN counts as bad
      }
    }
    CHECK(bad == 0);
    // And y is x w1^T: the first kernel ran, not a leftover of the poison.
    int y_nan = 0;
    for (double v : y) y_nan += std::isnan(v) ? 1 : 0;
    CHECK(y_nan == 0);
  }
}
