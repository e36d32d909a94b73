// Elementwise bandwidth (issue 5's figures), on one GPU:
//   jitfuse_bench_elementwise [--out results.json] [--runs N]
// Times, in one process, on 256 MB tensors: cuMemcpyDtoDAsync (the copy baseline) and jitfuse
// elementwise-only graphs: y = x * 0.5 (f32); scale -> hardtanh -> gelu (f32, and bf16 on 128M
// elements); the same chain with mish behind it (over 16 FLOPs an element; f32 and bf16); a
// binary add of two tensors (f32); and y = x * 0.5 with x one element off 16-byte alignment (the
// element-by-element path). Bytes are what must move, read plus write: each input
// read once, each output written once. Every case's output is checked on a sample against a CPU
// computation before it is timed, so a wrong kernel cannot post a number. Times are per launch:
// CUDA events around batches of back-to-back launches (at least 1 ms each, so that the host's
// launch cost does not count), median, min and max of `--runs` batches (default 30).
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "common/half.h"
#include "cuda/device.h"
#include "cuda/timing.h"
#include "jitfuse/jitfuse.hpp"
#include "machine_info.h"

namespace {

using namespace jitfuse;

constexpr std::size_t kTensorBytes = std::size_t(256) << 20;
constexpr std::int64_t kCols = 8192;
constexpr int kWarmup = 5;

[[noreturn]] void die(const Error& e) {
  std::fprintf(stderr, "%s\n", e.to_string(true).c_str());
  std::exit(1);
}
#define OR_DIE(expr) ([&] { auto r_ = (expr); if (!r_.ok()) die(r_.error()); return std::move(*r_); }())
void check(const Status& s) {
  if (!s.ok()) die(s.error());
}

// cuMemcpyDtoDAsync, from the libcuda.so.1 that jitfuse loaded (its own table has no copy).
using CopyFn = CUresult (*)(CUdeviceptr, CUdeviceptr, std::size_t, CUstream);
CopyFn device_copy() {
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  auto fn = lib ? reinterpret_cast<CopyFn>(::dlsym(lib, "cuMemcpyDtoDAsync_v2")) : nullptr;
  if (!fn) die(make_error(ErrorCode::no_driver, "libcuda.so.1 has no cuMemcpyDtoDAsync_v2"));
  return fn;
}

// Uniform in [-4, 4): every op of the chain (the clamp at +-2 included) sees both sides.
std::vector<float> host_values(std::size_t n, std::uint64_t seed) {
  std::vector<float> v(n);
  std::uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (auto& x : v) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    x = float(double(s >> 11) * 0x1p-53 * 8.0 - 4.0);
  }
  return v;
}

// The bytes of `v` in `dtype` (bf16 rounded to nearest even), and the values they hold.
std::vector<std::byte> encode(std::vector<float>& v, DType dtype) {
  std::vector<std::byte> out(v.size() * dtype_size(dtype));
  if (dtype == DType::f32) {
    std::memcpy(out.data(), v.data(), out.size());
    return out;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::uint16_t h = float_to_bf16(v[i]);
    v[i] = bf16_to_float(h);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

double element(const std::vector<std::byte>& bytes, DType dtype, std::size_t i) {
  if (dtype == DType::f32) {
    float f;
    std::memcpy(&f, bytes.data() + 4 * i, 4);
    return f;
  }
  std::uint16_t h;
  std::memcpy(&h, bytes.data() + 2 * i, 2);
  return bf16_to_float(h);
}

// The generated source's second line: the template instance, e.g. "// elementwise.cu, ...".
std::string template_line(const std::string& source) {
  const std::size_t from = source.find('\n') + 1;
  return source.substr(from, source.find('\n', from) - from);
}

double gelu(double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }

// One graph to time: its JSON, its inputs and what its output must be.
struct Case {
  std::string name;
  std::string json;
  DType dtype;
  int inputs;                 // 1 (x) or 2 (x, y)
  std::size_t misalign = 0;   // bytes x starts past its aligned allocation
  std::function<double(double x, double y)> expect;
};

std::string graph(const std::string& name, const char* dtype, int inputs, const std::string& nodes) {
  std::string in = fmt::format(R"("x": {{"dtype": "{}", "shape": ["M", {}]}})", dtype, kCols);
  if (inputs == 2) in += fmt::format(R"(, "y": {{"dtype": "{}", "shape": ["M", {}]}})", dtype, kCols);
  return fmt::format(R"({{"name": "{}", "inputs": {{{}}}, "nodes": [{}], "outputs": ["out"]}})", name,
                     in, nodes);
}

const std::string kScale = R"({"name": "out", "op": "scale", "inputs": ["x"], "factor": 0.5})";
const std::string kChain = R"({"name": "s", "op": "scale", "inputs": ["x"], "factor": 0.5},
  {"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2, "max": 2},
  {"name": "out", "op": "gelu", "inputs": ["h"]})";
// Over 16 FLOPs an element (mish adds 12): one vector a thread a pass instead of four.
const std::string kLongChain = R"({"name": "s", "op": "scale", "inputs": ["x"], "factor": 0.5},
  {"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2, "max": 2},
  {"name": "g", "op": "gelu", "inputs": ["h"]},
  {"name": "out", "op": "mish", "inputs": ["g"]})";
const std::string kAdd = R"({"name": "out", "op": "add", "inputs": ["x", "y"]})";

std::vector<Case> cases() {
  auto half = [](double x, double) { return x * 0.5; };
  auto chain = [](double x, double) { return gelu(std::clamp(x * 0.5, -2.0, 2.0)); };
  auto long_chain = [chain](double x, double y) {
    const double g = chain(x, y);
    return g * std::tanh(std::log1p(std::exp(g)));
  };
  auto add = [](double x, double y) { return x + y; };
  return {{"scale f32", graph("ew_scale", "f32", 1, kScale), DType::f32, 1, 0, half},
          {"scale-hardtanh-gelu f32", graph("ew_chain", "f32", 1, kChain), DType::f32, 1, 0, chain},
          {"scale-hardtanh-gelu bf16", graph("ew_chain", "bf16", 1, kChain), DType::bf16, 1, 0, chain},
          {"scale-hardtanh-gelu-mish f32", graph("ew_long", "f32", 1, kLongChain), DType::f32, 1, 0, long_chain},
          {"scale-hardtanh-gelu-mish bf16", graph("ew_long", "bf16", 1, kLongChain), DType::bf16, 1, 0, long_chain},
          {"add f32", graph("ew_add", "f32", 2, kAdd), DType::f32, 2, 0, add},
          {"scale f32, x misaligned", graph("ew_scale", "f32", 1, kScale), DType::f32, 1, 4, half}};
}

// Per-launch times of one case and the bytes a launch must move.
struct Figure {
  cu::Timing t;
  int batch = 0;  // launches per timed sample
  double bytes = 0;
  double gbps() const { return bytes / (t.median_us * 1e-6) / 1e9; }
};

Figure measure(const std::function<Status()>& launch, CUstream stream, int runs, double bytes) {
  Figure f;
  f.t = OR_DIE(cu::time_per_call(launch, stream, kWarmup, runs, 1000, &f.batch));
  f.bytes = bytes;
  return f;
}

nlohmann::ordered_json to_json(const Figure& f, double copy_gbps) {
  return {{"median_us", f.t.median_us}, {"min_us", f.t.min_us}, {"max_us", f.t.max_us},
          {"runs", f.t.runs}, {"batch", f.batch}, {"bytes", f.bytes}, {"gbps", f.gbps()},
          {"pct_of_copy", 100 * f.gbps() / copy_gbps}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  int runs = 30;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
    else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::max(20, std::atoi(argv[++i]));
  }
  auto dev = OR_DIE(cu::Device::open(0));
  check(dev->make_current());
  const cu::Api* cu = OR_DIE(cu::api());
  int driver = 0;
  cu->cuDriverGetVersion(&driver);
  // NVML's device 0: the GPU machines this runs on have one GPU (bench/machine_info.h).
  const nlohmann::json gpu_before = jf_bench::gpu_state("");
  auto stream = OR_DIE(cu::Stream::create());
  // x gets 16 spare bytes for the misaligned case; y and out are 256 MB each.
  auto x_buf = OR_DIE(cu::DeviceBuffer::alloc(kTensorBytes + 16));
  auto y_buf = OR_DIE(cu::DeviceBuffer::alloc(kTensorBytes));
  auto out_buf = OR_DIE(cu::DeviceBuffer::alloc(kTensorBytes));

  // The baseline: a device-to-device copy of one tensor, 256 MB read and 256 MB written.
  const CopyFn copy = device_copy();
  const Figure copy_fig = measure([&]() -> Status {
    if (CUresult r = copy(out_buf.ptr(), y_buf.ptr(), kTensorBytes, stream.get())) {
      return cu::call_error("cuMemcpyDtoDAsync", r, __FILE__, __LINE__);
    }
    return {};
  }, stream.get(), runs, 2.0 * kTensorBytes);
  std::printf("%s, driver %d, %d SMs; %zu MB tensors; per launch: median, min and max of %d "
              "batches of back-to-back launches (>= 1 ms each) after %d warm-ups\n",
              dev->name().c_str(), driver, dev->sm_count(), kTensorBytes >> 20, runs, kWarmup);
  std::printf("%-28s %10s %10s %10s %9s %8s\n", "case", "median us", "min us", "max us", "GB/s", "of copy");
  auto print = [&](const std::string& name, const Figure& f) {
    std::printf("%-28s %10.1f %10.1f %10.1f %9.0f %7.1f%%\n", name.c_str(), f.t.median_us, f.t.min_us,
                f.t.max_us, f.gbps(), 100 * f.gbps() / copy_fig.gbps());
  };
  print("cuMemcpyDtoD (baseline)", copy_fig);

  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  Engine engine(EngineOptions{std::nullopt, false, 0});
  for (const Case& c : cases()) {
    const std::size_t elem = dtype_size(c.dtype);
    const std::int64_t n = std::int64_t(kTensorBytes / elem);
    const std::vector<std::int64_t> shape = {n / kCols, kCols};
    std::vector<float> xs = host_values(std::size_t(n), 1), ys;
    check(cu::copy_to_device(x_buf.ptr() + c.misalign, encode(xs, c.dtype).data(), kTensorBytes));
    TensorMap t = {{"x", {reinterpret_cast<void*>(x_buf.ptr() + c.misalign), shape, c.dtype}},
                   {"out", {out_buf.data(), shape, c.dtype}}};
    if (c.inputs == 2) {
      ys = host_values(std::size_t(n), 2);
      check(cu::copy_to_device(y_buf.ptr(), encode(ys, c.dtype).data(), kTensorBytes));
      t["y"] = {y_buf.data(), shape, c.dtype};
    }
    Kernel kernel = OR_DIE(engine.compile(OR_DIE(parse_graph(c.json)), {}));

    // Checked first, on the poisoned output: 4096 spread elements plus both ends.
    check(cu::fill_bytes(out_buf.ptr(), 0xff, kTensorBytes));
    check(kernel.launch(t, stream.get()));
    check(cu::synchronize());
    std::vector<std::byte> got(kTensorBytes);
    check(cu::copy_to_host(got.data(), out_buf.ptr(), kTensorBytes));
    const double tol = c.dtype == DType::f32 ? 1e-5 : 1e-2;
    for (std::int64_t k = 0; k <= 4097; ++k) {
      const std::size_t i = k == 4097 ? std::size_t(n - 1) : std::size_t(k * 2654435761LL % n);
      const double want = c.expect(xs[i], c.inputs == 2 ? ys[i] : 0.0);
      const double have = element(got, c.dtype, i);
      if (!(std::abs(have - want) <= tol * (1 + std::abs(want)))) {
        die(make_error(ErrorCode::internal, fmt::format("{}: element {} is {}, want {}: the kernel is "
                                                        "wrong, no figure", c.name, i, have, want)));
      }
    }
    const Figure f = measure([&] { return kernel.launch(t, stream.get()); }, stream.get(), runs,
                             double(c.inputs + 1) * kTensorBytes);
    print(c.name, f);
    nlohmann::ordered_json j = {{"name", c.name}, {"dtype", std::string(to_string(c.dtype))},
                                {"elements", n}, {"x_misaligned_bytes", c.misalign}};
    j.update(to_json(f, copy_fig.gbps()));
    j["template"] = template_line(kernel.build().kernels[0].source);
    j["verified_samples"] = 4098;
    results.push_back(std::move(j));
  }

  if (!out_path.empty()) {
    const std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    nlohmann::ordered_json doc = {{"date", date}, {"card", dev->name()}, {"sms", dev->sm_count()},
                                  {"driver", gpu_before["driver"]}, {"cuda_driver", driver},
                                  {"gpu_before", gpu_before}, {"gpu_after", jf_bench::gpu_state("")},
                                  {"tensor_bytes", kTensorBytes},
                                  {"warmup", kWarmup}, {"timing", "per launch, CUDA events around "
                                  "batches of back-to-back launches of >= 1 ms; median/min/max over batches"},
                                  {"copy", to_json(copy_fig, copy_fig.gbps())},
                                  {"cases", results}};
    std::ofstream(out_path) << doc.dump(2) << "\n";
    std::printf("wrote %s\n", out_path.c_str());
  }
  return 0;
}
