// Running a graph on the GPU against the float64 reference: fresh random non-zero inputs, the
// outputs poisoned with NaN first, every element compared.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "cuda/device.h"
#include "graph/typed_graph.h"
#include "io/host_tensor.h"
#include "jitfuse/reference.hpp"
#include "support.h"

namespace jf_gpu {

using namespace jitfuse;

// Device 0, held for the whole run, or null when there is no GPU.
inline std::shared_ptr<cu::Device> device() {
  static const std::shared_ptr<cu::Device> dev = [] {
    auto d = cu::Device::open(0);
    if (!d.ok()) {
      std::printf("skipped: no CUDA driver (%s)\n", d.error().message.c_str());
      return std::shared_ptr<cu::Device>();
    }
    std::printf("GPU tests on %s (sm_%d%d, %d SMs)\n", (*d)->name().c_str(), (*d)->cc_major(),
                (*d)->cc_minor(), (*d)->sm_count());
    return *d;
  }();
  return dev;
}

// True when a GPU is there (its primary context is then current); otherwise prints the skip
// line once.
inline bool have_gpu() {
  auto d = device();
  return d && d->make_current().ok();
}
#define JF_REQUIRE_GPU()                              \
  if (!jf_gpu::have_gpu()) {                          \
    MESSAGE("skipped: no CUDA driver");               \
    return;                                           \
  }

// Small shapes only (for compute-sanitizer runs): JITFUSE_GPU_TESTS_SMALL=1.
inline bool small_only() { return std::getenv("JITFUSE_GPU_TESTS_SMALL") != nullptr; }

// One engine for the whole suite, so that identical kernels compile once.
inline Engine& engine() {
  static Engine e(EngineOptions{std::nullopt, false, 0});
  return e;
}

// Outputs of one launch, and the reference's.
struct Outcome {
  std::map<std::string, std::vector<double>> got, want;
  std::map<std::string, std::vector<std::byte>> raw;
  std::string source;  // the generated CUDA of every kernel, to check which template ran
  std::string arch;    // what it was compiled for
};

// Compiles `json`, runs it with random inputs (symbols from `dims`), returns got and want. Each
// tensor named in `offset` starts that many elements past its (256-byte aligned) allocation, as
// a view such as x[1:] in PyTorch does.
inline Outcome run(const std::string& json, const CompileOptions& options,
                   const std::map<std::string, std::int64_t>& dims, std::uint64_t seed,
                   bool with_reference = true, const std::map<std::string, int>& offset = {}) {
  const auto t0 = std::chrono::steady_clock::now();
  auto ms_since = [](auto t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  Outcome o;
  auto graph = parse_graph(json);
  REQUIRE(graph.ok());
  auto typed = validate(*graph);
  REQUIRE(typed.ok());
  auto kernel = engine().compile(*graph, options);
  REQUIRE_MESSAGE(kernel.ok(), kernel.error().to_string(true));
  for (const auto& k : kernel->build().kernels) o.source += k.source;
  o.arch = kernel->build().arch;
  std::map<std::string, io::HostTensor> inputs;
  std::map<std::string, cu::DeviceBuffer> buffers;
  std::map<std::string, CUdeviceptr> at;  // where each tensor starts in its buffer
  TensorMap tensors;
  const std::size_t elem = dtype_size(typed->dtype);
  auto shift = [&](const std::string& name) {
    auto it = offset.find(name);
    return it == offset.end() ? std::size_t(0) : std::size_t(it->second) * elem;
  };
  std::map<std::string, std::int64_t> all = dims;
  for (const auto& [k, v] : options.dims) all[k] = v;
  for (int v : typed->inputs) {
    auto t = io::random_input(*typed, v, all, seed);
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
    for (const Dim& d : val.shape) shape.push_back(d.is_symbolic() ? all.at(d.symbol) : d.size);
    const std::size_t bytes = std::size_t(std::max<std::int64_t>(1, [&] {
      std::int64_t n = 1;
      for (auto s : shape) n *= s;
      return n;
    }())) * dtype_size(val.dtype) + shift(val.name);
    auto b = cu::DeviceBuffer::alloc(bytes);
    REQUIRE(b.ok());
    REQUIRE(cu::fill_bytes(b->ptr(), 0xff, bytes).ok());  // NaN in every dtype
    at[val.name] = b->ptr() + shift(val.name);
    tensors[val.name] = Tensor{reinterpret_cast<void*>(at[val.name]), shape, val.dtype};
    buffers[val.name] = std::move(*b);
  }
  Status launched = kernel->launch(tensors);
  REQUIRE_MESSAGE(launched.ok(), launched.error().to_string());
  Status synced = cu::synchronize();
  REQUIRE_MESSAGE(synced.ok(), synced.error().to_string());
  for (int v : typed->outputs) {
    const std::string& name = typed->values[v].name;
    const Tensor& t = tensors.at(name);
    std::int64_t n = 1;
    for (auto s : t.shape) n *= s;
    std::vector<std::byte> bytes(std::size_t(n) * dtype_size(t.dtype));
    REQUIRE(cu::copy_to_host(bytes.data(), at.at(name), bytes.size()).ok());
    o.got[name] = io::decode(t.dtype, bytes);
    o.raw[name] = std::move(bytes);
  }
  const double gpu_ms = ms_since(t0);
  const auto t1 = std::chrono::steady_clock::now();
  if (with_reference) {
    std::map<std::string, HostArray> host;
    for (const auto& [name, t] : inputs) host[name] = HostArray{t.shape, t.values};
    auto want = reference_run(*graph, host);
    REQUIRE(want.ok());
    for (auto& [name, a] : *want) o.want[name] = std::move(a.data);
  }
  std::string label;
  for (const auto& [k, v] : all) label += fmt::format(" {}={}", k, v);
  std::fprintf(stderr, "[gpu] %s %s%s math=%s fusion=%d: compile+run %.0f ms, reference %.0f ms\n",
               typed->name.c_str(), std::string(to_string(typed->dtype)).c_str(), label.c_str(),
               std::string(to_string(options.math)).c_str(), int(options.fusion), gpu_ms, ms_since(t1));
  return o;
}

// The tolerance a dtype and math mode must meet.
struct Tolerance {
  double atol, rtol, rel_norm;
};
inline Tolerance tolerance(const std::string& dtype, MathMode math) {
  if (dtype != "f32") return {1e-2, 1e-2, 1e-2};
  if (math == MathMode::tf32) return {5e-2, 5e-2, 1e-3};
  if (math == MathMode::bf16x3) return {1e-4, 1e-4, 5e-5};  // 16 of f32's 24 bits: ~1e-5
  return {1e-4, 1e-4, 1e-5};
}

// Checks every output of `o` against the reference.
inline void check(const Outcome& o, const Tolerance& tol) {
  for (const auto& [name, got] : o.got) {
    const Comparison c = compare(got, o.want.at(name), tol.atol, tol.rtol);
    CAPTURE(name);
    CAPTURE(c.max_abs);
    CAPTURE(c.rel_norm);
    CAPTURE(c.first_bad);
    CHECK(c.bad == 0);
    CHECK(c.rel_norm <= tol.rel_norm);
  }
}

// Builds every graph in `jobs` on all cores first, so that the tests then find them cached.
inline void precompile(const std::vector<std::pair<std::string, CompileOptions>>& jobs) {
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      (void)engine().build(*parse_graph(jobs[i].first), jobs[i].second);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
}

}  // namespace jf_gpu
