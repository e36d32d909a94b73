// jitfuse vs cuBLASLt (GEMM + bias) on the example graph, in one process on one GPU.
//   jitfuse_bench [--out results.json] [--quick] [--only SUBSTR] [--gemm auto|wgmma|mma|simt]
//                 [--gemm-only]
// --only (repeatable) keeps the cases whose label ("bf16 ieee 2048x8192x8192") contains any SUBSTR; --gemm-only
// times the graph's GEMM + bias alone (what the epilogue chain costs is the difference).
// Large shapes: median of CUDA-event timings after warm-up. Small shapes: a CUDA graph of 50
// back-to-back launches, time divided by 50. Inputs are random; outputs are not checked here
// (the GPU tests do that). The JSON also records the driver, and the GPU's clocks, temperature
// and power before the first case, right after each timing (the SM clock under load) and at the
// end (bench/machine_info.h).
#include <cublasLt.h>
#include <cuda_runtime.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "common/half.h"
#include "cuda/timing.h"
#include "jitfuse/jitfuse.hpp"
#include "machine_info.h"

namespace {

using jitfuse::DType;
using jitfuse::MathMode;

#define CK_RT(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
  std::fprintf(stderr, "%s: %s\n", #call, cudaGetErrorString(e_)); std::exit(1); } } while (0)
#define CK_LT(call) do { cublasStatus_t s_ = (call); if (s_ != CUBLAS_STATUS_SUCCESS) { \
  std::fprintf(stderr, "%s: cublas status %d\n", #call, int(s_)); std::exit(1); } } while (0)

struct Case {
  const char* dtype;
  MathMode math;
  int m, n, k;
  bool graph;  // time as a CUDA graph of 50 launches
};

struct Buffers {
  void *x = nullptr, *w = nullptr, *bias = nullptr, *out = nullptr;
  ~Buffers() { cudaFree(x); cudaFree(w); cudaFree(bias); cudaFree(out); }
};

void fill_random(void* dst, std::size_t n, DType dt, double scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<unsigned char> host(n * (dt == DType::f32 ? 4 : 2));
  for (std::size_t i = 0; i < n; ++i) {
    const float f = float(u(rng) * scale);
    if (dt == DType::f32) { std::memcpy(&host[4 * i], &f, 4); continue; }
    const std::uint16_t h = dt == DType::bf16 ? jitfuse::float_to_bf16(f) : jitfuse::float_to_f16(f);
    std::memcpy(&host[2 * i], &h, 2);
  }
  CK_RT(cudaMemcpy(dst, host.data(), host.size(), cudaMemcpyHostToDevice));
}

// The example graph, or (gemm_only) its GEMM + bias alone: what the epilogue costs.
std::string graph_json(const char* dtype, bool gemm_only) {
  if (gemm_only) {
    return fmt::format(R"({{"name": "bench_gemm", "inputs": {{
    "x": {{"dtype": "{0}", "shape": ["M", "K"]}}, "w": {{"dtype": "{0}", "shape": ["N", "K"]}},
    "bias": {{"dtype": "{0}", "shape": ["N"]}}}},
    "nodes": [{{"name": "out", "op": "gemm", "inputs": ["x", "w", "bias"]}}], "outputs": ["out"]}})", dtype);
  }
  return fmt::format(R"({{"name": "bench", "inputs": {{
    "x": {{"dtype": "{0}", "shape": ["M", "K"]}}, "w": {{"dtype": "{0}", "shape": ["N", "K"]}},
    "bias": {{"dtype": "{0}", "shape": ["N"]}}}},
    "nodes": [{{"name": "y", "op": "gemm", "inputs": ["x", "w", "bias"]}},
              {{"name": "s", "op": "scale", "inputs": ["y"], "factor": 0.5}},
              {{"name": "h", "op": "hardtanh", "inputs": ["s"], "min": -2, "max": 2}},
              {{"name": "out", "op": "gelu", "inputs": ["h"]}}], "outputs": ["out"]}})", dtype);
}

// cuBLASLt D = W^T X + bias in column-major terms, i.e. row-major out[M,N] = x[M,K] w[N,K]^T + bias.
struct LtGemm {
  cublasLtHandle_t h{};
  cublasLtMatmulDesc_t op{};
  cublasLtMatrixLayout_t a{}, b{}, c{};
  cublasLtMatmulPreference_t pref{};
  cublasLtMatmulHeuristicResult_t algo{};
  void* ws = nullptr;
  std::size_t ws_size = 64 << 20;
  LtGemm(const Case& cs, DType dt, const Buffers& buf) {
    const cudaDataType_t t = dt == DType::f32 ? CUDA_R_32F : dt == DType::bf16 ? CUDA_R_16BF : CUDA_R_16F;
    // tf32, tf32x3 and bf16x3 against cuBLAS's TF32 GEMM; ieee and auto (the accurate default) against
    // its SGEMM.
    const bool tf32 = cs.math == MathMode::tf32 || cs.math == MathMode::tf32x3 || cs.math == MathMode::bf16x3;
    const cublasComputeType_t ct = dt == DType::f32 && tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    CK_LT(cublasLtCreate(&h));
    CK_LT(cublasLtMatmulDescCreate(&op, ct, CUDA_R_32F));
    const cublasOperation_t T = CUBLAS_OP_T, N = CUBLAS_OP_N;
    CK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &T, sizeof T));
    CK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &N, sizeof N));
    const cublasLtEpilogue_t epi = CUBLASLT_EPILOGUE_BIAS;
    CK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi, sizeof epi));
    CK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &buf.bias, sizeof buf.bias));
    CK_LT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &t, sizeof t));
    CK_LT(cublasLtMatrixLayoutCreate(&a, t, cs.k, cs.n, cs.k));
    CK_LT(cublasLtMatrixLayoutCreate(&b, t, cs.k, cs.m, cs.k));
    CK_LT(cublasLtMatrixLayoutCreate(&c, t, cs.n, cs.m, cs.n));
    CK_RT(cudaMalloc(&ws, ws_size));
    CK_LT(cublasLtMatmulPreferenceCreate(&pref));
    CK_LT(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws_size, sizeof ws_size));
    int found = 0;
    CK_LT(cublasLtMatmulAlgoGetHeuristic(h, op, a, b, c, c, pref, 1, &algo, &found));
    if (!found) { std::fprintf(stderr, "cublasLt: no algorithm\n"); std::exit(1); }
  }
  jitfuse::Status run(const Buffers& buf, cudaStream_t s) {
    const float one = 1.f, zero = 0.f;
    CK_LT(cublasLtMatmul(h, op, &one, buf.w, a, buf.x, b, &zero, buf.out, c, buf.out, c, &algo.algo, ws,
                         ws_size, s));
    return {};
  }
  ~LtGemm() {
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(a); cublasLtMatrixLayoutDestroy(b); cublasLtMatrixLayoutDestroy(c);
    cublasLtMatmulDescDestroy(op);
    cublasLtDestroy(h);
    cudaFree(ws);
  }
};

jitfuse::cu::Timing time_it(const std::function<jitfuse::Status()>& f, cudaStream_t s, bool graph, int reps) {
  auto t = graph ? jitfuse::cu::time_graph(f, s, 50, reps) : jitfuse::cu::time_events(f, s, 5, reps);
  if (!t) { std::fprintf(stderr, "%s\n", t.error().to_string().c_str()); std::exit(1); }
  return *t;
}

nlohmann::json timing_json(const jitfuse::cu::Timing& t, double flops) {
  return {{"median_us", t.median_us}, {"min_us", t.min_us}, {"p90_us", t.p90_us}, {"runs", t.runs},
          {"tflops", flops / (t.median_us * 1e-6) / 1e12}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string out_path;
  bool quick = false;
  std::vector<std::string> only;  // a case runs when its label contains any of them (all: none given)
  std::string gemm;
  bool gemm_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only.push_back(argv[++i]);
    else if (!std::strcmp(argv[i], "--gemm") && i + 1 < argc) gemm = argv[++i];
    else if (!std::strcmp(argv[i], "--gemm-only")) gemm_only = true;
    else {
      std::fprintf(stderr, "usage: jitfuse_bench [--out FILE] [--quick] [--only SUBSTR] [--gemm T] [--gemm-only]\n");
      return 2;
    }
  }
  CK_RT(cudaSetDevice(0));
  cudaDeviceProp prop{};
  CK_RT(cudaGetDeviceProperties(&prop, 0));
  int driver = 0;
  CK_RT(cudaDriverGetVersion(&driver));
  char pci[32] = {};
  CK_RT(cudaDeviceGetPCIBusId(pci, sizeof pci, 0));
  const nlohmann::json gpu_before = jf_bench::gpu_state(pci);
  auto sm_mhz = [&] { return jf_bench::gpu_state(pci)["sm_mhz"]; };
  const Case cases[] = {
      {"f32", MathMode::ieee, 2048, 8192, 8192, false},   {"bf16", MathMode::ieee, 2048, 8192, 8192, false},
      {"f16", MathMode::ieee, 2048, 8192, 8192, false},   {"f32", MathMode::tf32x3, 2048, 8192, 8192, false},
      {"f32", MathMode::bf16x3, 2048, 8192, 8192, false},
      {"f32", MathMode::tf32, 2048, 8192, 8192, false},   {"bf16", MathMode::ieee, 4096, 4096, 4096, false},
      {"bf16", MathMode::ieee, 1024, 8192, 8192, false},  {"f32", MathMode::ieee, 128, 1024, 512, true},
      {"bf16", MathMode::ieee, 128, 1024, 512, true},   {"f32", MathMode::automatic, 128, 1024, 512, true},
  };
  jitfuse::Engine engine;
  nlohmann::json results = nlohmann::json::array();
  std::printf("%-6s %-7s %-16s %12s %12s %9s %9s\n", "dtype", "math", "MxNxK", "jitfuse us", "cuBLAS us",
              "jf TF/s", "ratio");
  for (const Case& cs : cases) {
    const std::string label = fmt::format("{} {} {}x{}x{}", cs.dtype, jitfuse::to_string(cs.math),
                                          cs.m, cs.n, cs.k);
    if (!only.empty() && std::none_of(only.begin(), only.end(), [&](const std::string& o) {
          return label.find(o) != std::string::npos;
        })) {
      continue;
    }
    const DType dt = *jitfuse::parse_dtype(cs.dtype);
    const std::size_t es = jitfuse::dtype_size(dt);
    Buffers buf;
    CK_RT(cudaMalloc(&buf.x, std::size_t(cs.m) * cs.k * es));
    CK_RT(cudaMalloc(&buf.w, std::size_t(cs.n) * cs.k * es));
    CK_RT(cudaMalloc(&buf.bias, std::size_t(cs.n) * es));
    CK_RT(cudaMalloc(&buf.out, std::size_t(cs.m) * cs.n * es));
    fill_random(buf.x, std::size_t(cs.m) * cs.k, dt, 1.0, 1);
    fill_random(buf.w, std::size_t(cs.n) * cs.k, dt, 1.0 / std::sqrt(double(cs.k)), 2);
    fill_random(buf.bias, std::size_t(cs.n), dt, 1.0 / std::sqrt(double(cs.k)), 3);
    jitfuse::CompileOptions o;
    o.math = cs.math;
    o.dims = {{"M", cs.m}, {"N", cs.n}, {"K", cs.k}};
    o.gemm = gemm;
    auto kernel = engine.compile(*jitfuse::parse_graph(graph_json(cs.dtype, gemm_only)), o);
    if (!kernel) { std::fprintf(stderr, "%s\n", kernel.error().to_string(true).c_str()); return 1; }
    const jitfuse::TensorMap t = {{"x", {buf.x, {cs.m, cs.k}, dt}}, {"w", {buf.w, {cs.n, cs.k}, dt}},
                                  {"bias", {buf.bias, {cs.n}, dt}}, {"out", {buf.out, {cs.m, cs.n}, dt}}};
    cudaStream_t s;
    CK_RT(cudaStreamCreate(&s));
    const int reps = quick ? 5 : (cs.graph ? 50 : 30);
    const auto jf = time_it([&] { return kernel->launch(t, s); }, s, cs.graph, reps);
    const nlohmann::json jf_mhz = sm_mhz();
    LtGemm lt(cs, dt, buf);
    const auto cb = time_it([&] { return lt.run(buf, s); }, s, cs.graph, reps);
    const nlohmann::json cb_mhz = sm_mhz();
    CK_RT(cudaStreamDestroy(s));
    const double flops = 2.0 * cs.m * cs.n * cs.k;
    std::printf("%-6s %-7s %-16s %12.1f %12.1f %9.1f %8.2fx\n", cs.dtype,
                std::string(jitfuse::to_string(cs.math)).c_str(),
                fmt::format("{}x{}x{}", cs.m, cs.n, cs.k).c_str(), jf.median_us, cb.median_us,
                flops / (jf.median_us * 1e-6) / 1e12, jf.median_us / cb.median_us);
    std::fflush(stdout);
    results.push_back({{"dtype", cs.dtype}, {"math", std::string(jitfuse::to_string(cs.math))},
                       {"m", cs.m}, {"n", cs.n}, {"k", cs.k}, {"timing", cs.graph ? "cuda graph of 50" : "events"},
                       {"graph", gemm_only ? "gemm+bias" : "gemm+bias -> scale -> hardtanh -> gelu"},
                       {"kernel", kernel->build().kernels[0].name},
                       {"config", kernel->build().kernels[0].config},
                       {"jitfuse", timing_json(jf, flops)},
                       {"cublaslt_gemm_bias", timing_json(cb, flops)},
                       {"sm_mhz_after_jitfuse", jf_mhz}, {"sm_mhz_after_cublaslt", cb_mhz}});
  }
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  int cublas_version = 0;
  cublas_version = int(cublasLtGetVersion());
  nlohmann::json doc = {{"tool", "jitfuse_bench"}, {"jitfuse", std::string(jitfuse::version())},
                        {"date", date}, {"card", prop.name}, {"sms", prop.multiProcessorCount},
                        {"driver", gpu_before["driver"]}, {"cuda_driver", driver},
                        {"cublaslt", cublas_version}, {"gpu_before", gpu_before},
                        {"gpu_after", jf_bench::gpu_state(pci)}, {"results", results}};
  if (!out_path.empty()) std::ofstream(out_path) << doc.dump(2) << "\n";
  return 0;
}
