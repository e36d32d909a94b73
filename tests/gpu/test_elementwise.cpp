// Elementwise kernels on the GPU against the float64 reference: the 16-byte vector path with odd
// element counts, every kind of broadcast operand and dtype, and the element-by-element path
// that a tensor not 16-byte aligned takes.
#include "gpu_support.h"

using namespace jitfuse;

namespace {

// Full-shape inputs x and y, a bias [N], a per-row [M, 1], a scalar [] and a literal; two
// outputs (one read again by the other).
std::string broadcast_graph(const char* dtype) {
  return fmt::format(R"({{"name": "vec", "inputs": {{
      "x": {{"dtype": "{0}", "shape": ["M", "N"]}}, "y": {{"dtype": "{0}", "shape": ["M", "N"]}},
      "b": {{"dtype": "{0}", "shape": ["N"]}}, "r": {{"dtype": "{0}", "shape": ["M", 1]}},
      "s": {{"dtype": "{0}", "shape": []}}}},
    "nodes": [{{"name": "t0", "op": "add", "inputs": ["x", "b"]}},
              {{"name": "t1", "op": "mul", "inputs": ["t0", "r"]}},
              {{"name": "t2", "op": "sub", "inputs": ["t1", "s"]}},
              {{"name": "t3", "op": "add", "inputs": ["t2", "y"]}},
              {{"name": "out", "op": "maximum", "inputs": ["t3", -0.5]}},
              {{"name": "g", "op": "gelu", "inputs": ["out"]}}],
    "outputs": ["out", "g"]}})", dtype);
}

// jf_gpu::run, but each tensor named in `offset` starts that many elements past a 256-byte
// aligned allocation (a view such as x[1:] in PyTorch).
jf_gpu::Outcome run_offset(const std::string& json, const std::map<std::string, std::int64_t>& dims,
                           std::uint64_t seed, const std::map<std::string, int>& offset) {
  jf_gpu::Outcome o;
  auto graph = parse_graph(json);
  REQUIRE(graph.ok());
  auto typed = validate(*graph);
  REQUIRE(typed.ok());
  auto kernel = jf_gpu::engine().compile(*graph, {});
  REQUIRE_MESSAGE(kernel.ok(), kernel.error().to_string(true));
  const std::size_t elem = dtype_size(typed->dtype);
  auto shift = [&](const std::string& name) {
    auto it = offset.find(name);
    return it == offset.end() ? std::size_t(0) : std::size_t(it->second) * elem;
  };
  std::map<std::string, io::HostTensor> inputs;
  std::map<std::string, cu::DeviceBuffer> buffers;
  std::map<std::string, CUdeviceptr> at;
  TensorMap tensors;
  for (int v : typed->inputs) {
    auto t = io::random_input(*typed, v, dims, seed);
    REQUIRE(t.ok());
    const std::string& name = typed->values[v].name;
    auto b = cu::DeviceBuffer::alloc(t->bytes.size() + shift(name));
    REQUIRE(b.ok());
    at[name] = b->ptr() + shift(name);
    REQUIRE(cu::copy_to_device(at[name], t->bytes.data(), t->bytes.size()).ok());
    tensors[name] = Tensor{reinterpret_cast<void*>(at[name]), t->shape, t->dtype};
    buffers[name] = std::move(*b);
    inputs[name] = std::move(*t);
  }
  for (int v : typed->outputs) {
    const Value& val = typed->values[v];
    std::vector<std::int64_t> shape;
    std::int64_t n = 1;
    for (const Dim& d : val.shape) {
      shape.push_back(d.is_symbolic() ? dims.at(d.symbol) : d.size);
      n *= shape.back();
    }
    auto b = cu::DeviceBuffer::alloc(std::size_t(n) * elem + shift(val.name));
    REQUIRE(b.ok());
    REQUIRE(cu::fill_bytes(b->ptr(), 0xff, b->size()).ok());  // NaN in every dtype
    at[val.name] = b->ptr() + shift(val.name);
    tensors[val.name] = Tensor{reinterpret_cast<void*>(at[val.name]), shape, val.dtype};
    buffers[val.name] = std::move(*b);
  }
  Status launched = kernel->launch(tensors);
  REQUIRE_MESSAGE(launched.ok(), launched.error().to_string());
  Status synced = cu::synchronize();
  REQUIRE_MESSAGE(synced.ok(), synced.error().to_string());
  for (int v : typed->outputs) {
    const Tensor& t = tensors.at(typed->values[v].name);
    std::int64_t n = 1;
    for (auto s : t.shape) n *= s;
    std::vector<std::byte> bytes(std::size_t(n) * elem);
    REQUIRE(cu::copy_to_host(bytes.data(), at.at(typed->values[v].name), bytes.size()).ok());
    o.got[typed->values[v].name] = io::decode(t.dtype, bytes);
  }
  std::map<std::string, HostArray> host;
  for (const auto& [name, t] : inputs) host[name] = HostArray{t.shape, t.values};
  auto want = reference_run(*graph, host);
  REQUIRE(want.ok());
  for (auto& [name, a] : *want) o.want[name] = std::move(a.data);
  return o;
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
  for (const char* dtype : {"f32", "f16", "bf16"}) {
    CAPTURE(dtype);
    const std::string json = broadcast_graph(dtype);
    auto build = jf_gpu::engine().build(*parse_graph(json), {});
    REQUIRE(build.ok());
    REQUIRE(build->kernels.size() == 1);
    CHECK(build->kernels[0].source.find("#define JF_LOAD_PTRS(p) (p).in_x, (p).in_y") != std::string::npos);
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
      jf_gpu::check(run_offset(json, dims, seed++, offset), tol);
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
