// The cost of getting a kernel and of launching it (issue 3's figures), on one GPU:
//   jitfuse_bench_cache [--out results.json]
// - cold compile: NVRTC time for the example graph (f32 ieee and bf16), for the GPU's arch;
// - disk hit: a fresh Engine from graph JSON text to a launchable Kernel (parse, validate, plan,
//   emit, key, read + checksum, module load), median of 30;
// - memory hit: Engine::compile again on the same Engine;
// - launch overhead: host time per Kernel::launch vs a bare cuLaunchKernel of the same function
//   with pre-packed parameters, in batches of 256 launches (no synchronization inside a batch).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cuda/device.h"
#include "jitfuse/jitfuse.hpp"
#include "machine_info.h"

namespace {

using clock_type = std::chrono::steady_clock;
double since_us(clock_type::time_point t) {
  return std::chrono::duration<double, std::micro>(clock_type::now() - t).count();
}
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
void die(const jitfuse::Error& e) {
  std::fprintf(stderr, "%s\n", e.to_string(true).c_str());
  std::exit(1);
}
#define OR_DIE(expr) ([&] { auto r_ = (expr); if (!r_) die(r_.error()); return std::move(*r_); }())

std::string read(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  for (int i = 1; i < argc; ++i) if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
  const auto dir = std::filesystem::temp_directory_path() / "jitfuse-bench-cache";
  std::filesystem::remove_all(dir);
  const std::string f32 = read("examples/linear_scale_hardtanh_gelu.json");
  std::string bf16 = f32;
  for (std::size_t p = 0; (p = bf16.find("\"f32\"", p)) != std::string::npos;) bf16.replace(p, 5, "\"bf16\"");
  jitfuse::CompileOptions opts;
  opts.dims = {{"M", 128}};
  nlohmann::json doc;
  // A process that launches kernels has its context already: hold it for the whole run, so that
  // an Engine's first use measures the cache, not the creation of the primary context.
  auto dev = OR_DIE(jitfuse::cu::Device::open(0));

  // Cold compiles.
  for (const auto& [label, json] : {std::pair{"f32", f32}, std::pair{"bf16", bf16}}) {
    jitfuse::Engine e(jitfuse::EngineOptions{dir, true, 0});
    auto k = OR_DIE(e.compile(OR_DIE(jitfuse::parse_graph(json)), opts));
    doc["cold_compile_ms"][label] = k.build().kernels[0].compile_ms;
    doc["arch"] = k.build().arch;
    std::printf("cold compile %s: %.1f ms NVRTC\n", label, k.build().kernels[0].compile_ms);
  }
  // Disk hits: a fresh engine each time, from JSON text to a launchable kernel.
  std::vector<double> disk, memory;
  for (int i = 0; i < 30; ++i) {
    jitfuse::Engine e(jitfuse::EngineOptions{dir, true, 0});
    auto t = clock_type::now();
    auto k = OR_DIE(e.compile(OR_DIE(jitfuse::parse_graph(f32)), opts));
    disk.push_back(since_us(t) / 1e3);
    if (k.build().kernels[0].cache_status != "disk") die(jitfuse::make_error(jitfuse::ErrorCode::internal, "not a disk hit"));
    t = clock_type::now();
    auto again = OR_DIE(e.compile(OR_DIE(jitfuse::parse_graph(f32)), opts));
    memory.push_back(since_us(t));
  }
  doc["disk_hit_ms"] = median(disk);
  doc["memory_hit_compile_us"] = median(memory);
  std::printf("disk hit (JSON text -> launchable kernel): median %.3f ms; memory hit %.1f us\n",
              median(disk), median(memory));

  // Launch overhead: the small example (128x1024x512 would be as good; any kernel works).
  jitfuse::Engine engine(jitfuse::EngineOptions{dir, true, 0});
  const std::string small = R"({"name": "tiny", "inputs": {"x": {"dtype": "f32", "shape": ["N"]}},
    "nodes": [{"name": "a", "op": "gelu", "inputs": ["x"]}], "outputs": ["a"]})";
  auto kernel = OR_DIE(engine.compile(OR_DIE(jitfuse::parse_graph(small)), {}));
  if (auto s = dev->make_current(); !s) die(s.error());
  auto x = OR_DIE(jitfuse::cu::DeviceBuffer::alloc(4096));
  auto y = OR_DIE(jitfuse::cu::DeviceBuffer::alloc(4096));
  auto stream = OR_DIE(jitfuse::cu::Stream::create());
  const jitfuse::TensorMap t = {{"x", {x.data(), {1024}, jitfuse::DType::f32}},
                                {"a", {y.data(), {1024}, jitfuse::DType::f32}}};
  const jitfuse::cu::Api* cu = OR_DIE(jitfuse::cu::api());
  // What launch() packs: in_x, out_a, numel.
  struct {
    CUdeviceptr in, out;
    long long n;
  } params{x.ptr(), y.ptr(), 1024};
  void* args[] = {&params};
  // The same cubin loaded on its own, for the bare launches.
  const jitfuse::KernelArtifact& art = kernel.build().kernels[0];
  auto module = OR_DIE(jitfuse::cu::Module::load(dev, art.cubin, art.name, 0));
  const CUfunction fn = module->function();
  std::vector<double> ours, bare;
  for (int rep = 0; rep < 41; ++rep) {
    auto t0 = clock_type::now();
    for (int i = 0; i < 256; ++i) if (auto s = kernel.launch(t, stream.get()); !s) die(s.error());
    const double a = since_us(t0) / 256;
    cu->cuStreamSynchronize(stream.get());
    t0 = clock_type::now();
    for (int i = 0; i < 256; ++i) cu->cuLaunchKernel(fn, 1, 1, 1, 256, 1, 1, 0, stream.get(), args, nullptr);
    const double b = since_us(t0) / 256;
    cu->cuStreamSynchronize(stream.get());
    if (rep) {  // the first batch warms up
      ours.push_back(a);
      bare.push_back(b);
    }
  }
  doc["launch_us"] = median(ours);
  doc["bare_cuLaunchKernel_us"] = median(bare);
  doc["launch_overhead_us"] = median(ours) - median(bare);
  std::printf("launch: Kernel::launch %.2f us, bare cuLaunchKernel %.2f us: %.2f us above bare\n",
              median(ours), median(bare), median(ours) - median(bare));
  doc["card"] = dev->name();
  doc["gpu"] = jf_bench::gpu_state("");  // NVML's device 0: the GPU machines have one GPU
  doc["driver"] = doc["gpu"]["driver"];
  if (!out_path.empty()) std::ofstream(out_path) << doc.dump(2) << "\n";
  std::filesystem::remove_all(dir);
  return 0;
}
