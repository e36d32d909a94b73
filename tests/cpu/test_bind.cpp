// Launch argument checks, which need no GPU: bind() sees only shapes, dtypes and addresses.
#include <doctest/doctest.h>

#include "engine/bind.h"
#include "support.h"

using namespace jitfuse;

namespace {

struct Fixture {
  TypedGraph g;
  std::vector<KernelSource> sources;
  explicit Fixture(const std::string& json, std::map<std::string, std::int64_t> dims = {}) {
    auto t = validate(*parse_graph(json));
    REQUIRE(t.ok());
    g = *specialize(*t, dims);
    const Plan p = plan_fusion(g, true);
    for (std::size_t i = 0; i < p.kernels.size(); ++i) {
      sources.push_back(*emit_source(g, p, int(i), {Arch{80, false}, MathMode::ieee}));
    }
  }
};

void* addr(std::uintptr_t a) { return reinterpret_cast<void*>(a); }

TensorMap good_tensors() {
  return {{"x", {addr(0x10000), {7, 32}, DType::f32}},
          {"w", {addr(0x20000), {64, 32}, DType::f32}},
          {"bias", {addr(0x30000), {64}, DType::f32}},
          {"out", {addr(0x40000), {7, 64}, DType::f32}}};
}

}  // namespace

TEST_CASE("bind resolves symbols from the tensors' shapes") {
  Fixture f(jf_test::GemmGraph{}.json());
  auto b = bind_tensors(f.g, f.sources, good_tensors());
  REQUIRE(b.ok());
  CHECK(b->dims.at("M") == 7);
  CHECK(b->shapes[f.g.find("out")] == std::vector<std::int64_t>{7, 64});
}

TEST_CASE("bad launch arguments get clear errors") {
  Fixture f(jf_test::GemmGraph{}.json());
  auto expect = [&](TensorMap t, const char* fragment) {
    auto b = bind_tensors(f.g, f.sources, t);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::bad_launch);
    CHECK_MESSAGE(b.error().message.find(fragment) != std::string::npos, b.error().message);
  };
  TensorMap t = good_tensors();
  t.erase("bias");
  expect(t, "no tensor named 'bias'");
  t = good_tensors();
  t["extra"] = {addr(0x50000), {1}, DType::f32};
  expect(t, "neither an input nor an output");
  t = good_tensors();
  t["w"].dtype = DType::bf16;
  expect(t, "is bf16, but the graph declares it f32");
  t = good_tensors();
  t["w"].shape = {64, 31};
  expect(t, "the kernel expects [64, 32]");
  t = good_tensors();
  t["out"].shape = {8, 64};
  expect(t, "M=8, but an earlier tensor bound M=7");
  t = good_tensors();
  t["x"].data = nullptr;
  expect(t, "null data pointer");
  t = good_tensors();
  t["x"].data = addr(0x10004);  // element-aligned, but vector loads need 16 bytes
  expect(t, "must be 16-byte aligned");
  t = good_tensors();
  t["x"].data = addr(0x10002);
  expect(t, "not aligned to its 4-byte elements");
  t = good_tensors();
  t["out"].data = addr(0x10000 + 64);
  expect(t, "overlaps tensor 'x'");
}

TEST_CASE("baked-in dims are checked at launch") {
  Fixture f(jf_test::GemmGraph{}.json(), {{"M", 8}});
  auto b = bind_tensors(f.g, f.sources, good_tensors());
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find("M=8 baked in") != std::string::npos);
}

TEST_CASE("an empty or negative dim is rejected, naming the tensor and its shape") {
  Fixture f(jf_test::GemmGraph{}.json());
  for (std::int64_t bad : {0, -1}) {
    CAPTURE(bad);
    TensorMap t = good_tensors();
    t["x"].shape = {bad, 32};
    t["out"].shape = {bad, 64};
    auto b = bind_tensors(f.g, f.sources, t);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == ErrorCode::bad_launch);
    CHECK(is_user_error(b.error().code));
    CHECK(b.error().message.find(fmt::format("'x' has shape [{}, 32]", bad)) != std::string::npos);
  }
  TensorMap t = good_tensors();
  t["out"].shape = {7, 0};  // a fixed dim given as 0
  auto b = bind_tensors(f.g, f.sources, t);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find("'out'") != std::string::npos);
}

TEST_CASE("an elementwise kernel takes tensors one element off 16-byte alignment") {
  // Its vector loads are checked in the kernel, which goes element by element instead.
  Fixture f(R"({"name": "ew", "inputs": {"x": {"dtype": "bf16", "shape": ["N"]}},
    "nodes": [{"name": "y", "op": "gelu", "inputs": ["x"]}], "outputs": ["y"]})");
  TensorMap t = {{"x", {addr(0x10002), {1001}, DType::bf16}}, {"y", {addr(0x20002), {1001}, DType::bf16}}};
  CHECK(bind_tensors(f.g, f.sources, t).ok());
  t["x"].data = addr(0x10001);  // not even element-aligned
  auto b = bind_tensors(f.g, f.sources, t);
  REQUIRE_FALSE(b.ok());
  CHECK(b.error().message.find("not aligned to its 2-byte elements") != std::string::npos);
}
