// Ops alone and fused, fused vs unfused, several outputs, CUDA-graph capture, launch errors.
#include <cstring>

#include "cuda/timing.h"
#include "gpu_support.h"

using namespace jitfuse;

namespace {

const char* kOps[] = {R"("op": "scale", "factor": -1.75)",
                      R"("op": "hardtanh", "min": -0.5, "max": 0.25)",
                      R"("op": "hardtanh")",
                      R"("op": "gelu")",
                      R"("op": "gelu", "approximate": "tanh")"};

std::string elementwise(const char* dtype, const char* op) {
  return fmt::format(R"({{"name": "one", "inputs": {{"x": {{"dtype": "{}", "shape": ["A", 3]}}}},
    "nodes": [{{"name": "out", "inputs": ["x"], {}}}], "outputs": ["out"]}})", dtype, op);
}

}  // namespace

TEST_CASE("gpu: every op alone and fused behind a gemm, in f32, bf16 and f16") {
  JF_REQUIRE_GPU();
  std::uint64_t seed = 900;
  for (const char* dtype : {"f32", "bf16", "f16"}) {
    for (const char* op : kOps) {
      CAPTURE(dtype);
      CAPTURE(op);
      // Elementwise alone: exact up to f32 rounding of the op, then the dtype's rounding.
      const auto alone = jf_gpu::run(elementwise(dtype, op), {}, {{"A", 100003}}, seed++);
      jf_gpu::check(alone, std::string(dtype) == "f32" ? jf_gpu::Tolerance{1e-6, 1e-6, 1e-6}
                                                       : jf_gpu::Tolerance{1e-2, 1e-2, 1e-2});
      jf_test::GemmGraph g;
      g.dtype = dtype;
      g.n = 96;
      g.k = 80;
      g.chain = {R"("op": "scale", "factor": 4)", op};  // scaled up so that clamps bite
      jf_gpu::check(jf_gpu::run(g.json(), {}, {{"M", 45}}, seed++),
                    jf_gpu::tolerance(dtype, MathMode::ieee));
    }
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
