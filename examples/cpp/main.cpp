// Compile the example graph with the C++ API and run it on the GPU, with device memory from
// the CUDA Driver API. Build against an installed jitfuse (see CMakeLists.txt here).
// Usage: linear_gelu [GRAPH.json]   (default: examples/linear_scale_hardtanh_gelu.json)
#include <cuda.h>
#include <jitfuse/jitfuse.hpp>

#include <cmath>
#include <cstdio>
#include <vector>

#define CHECK_CU(call)                                                  \
  do {                                                                  \
    if (CUresult r = (call); r != CUDA_SUCCESS) {                       \
      std::fprintf(stderr, "%s failed: %d\n", #call, int(r));           \
      return 1;                                                         \
    }                                                                   \
  } while (0)

int main(int argc, char** argv) {
  jitfuse::Engine engine;  // caches kernels in ~/.cache/jitfuse (or $JITFUSE_CACHE_DIR)
  auto graph = jitfuse::load_graph(argc > 1 ? argv[1] : EXAMPLE_GRAPH);
  if (!graph) {
    std::fprintf(stderr, "%s\n", graph.error().to_string().c_str());
    return 2;
  }
  jitfuse::CompileOptions options;   // arch: the current GPU's; math: ieee
  options.dims = {{"M", 64}};        // bake the batch size in (optional)
  auto kernel = engine.compile(*graph, options);
  if (!kernel) {
    std::fprintf(stderr, "%s\n", kernel.error().to_string(true).c_str());
    return 1;
  }
  std::printf("compiled %s for %s\n", kernel->build().kernels[0].name.c_str(),
              kernel->build().arch.c_str());

  // The engine retained the device's primary context; use it for our allocations.
  const int M = 64, N = 8192, K = 8192;
  CUdevice dev;
  CUcontext ctx;
  CHECK_CU(cuInit(0));
  CHECK_CU(cuDeviceGet(&dev, 0));
  CHECK_CU(cuDevicePrimaryCtxRetain(&ctx, dev));
  CHECK_CU(cuCtxSetCurrent(ctx));
  std::vector<float> x(M * K, 0.01f), w(std::size_t(N) * K, 0.001f), bias(N, 0.1f), out(M * N);
  CUdeviceptr dx, dw, db, dout;
  CHECK_CU(cuMemAlloc(&dx, x.size() * 4));
  CHECK_CU(cuMemAlloc(&dw, w.size() * 4));
  CHECK_CU(cuMemAlloc(&db, bias.size() * 4));
  CHECK_CU(cuMemAlloc(&dout, out.size() * 4));
  CHECK_CU(cuMemcpyHtoD(dx, x.data(), x.size() * 4));
  CHECK_CU(cuMemcpyHtoD(dw, w.data(), w.size() * 4));
  CHECK_CU(cuMemcpyHtoD(db, bias.data(), bias.size() * 4));

  auto ptr = [](CUdeviceptr p) { return reinterpret_cast<void*>(p); };
  jitfuse::Status s = kernel->launch({{"x", {ptr(dx), {M, K}, jitfuse::DType::f32}},
                                      {"w", {ptr(dw), {N, K}, jitfuse::DType::f32}},
                                      {"bias", {ptr(db), {N}, jitfuse::DType::f32}},
                                      {"out", {ptr(dout), {M, N}, jitfuse::DType::f32}}},
                                     /*stream=*/nullptr);
  if (!s) {
    std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
    return 1;
  }
  CHECK_CU(cuMemcpyDtoH(out.data(), dout, out.size() * 4));
  // y = 8192 * 0.01 * 0.001 + 0.1 = 0.18192; *0.5 = 0.09096; gelu(0.09096) = 0.04963...
  const double y = 0.5 * (K * 0.01 * 0.001 + 0.1);
  const double want = 0.5 * y * (1 + std::erf(y / std::sqrt(2.0)));
  std::printf("out[0] = %.6f (expected %.6f)\n", out[0], want);
  cuMemFree(dx);
  cuMemFree(dw);
  cuMemFree(db);
  cuMemFree(dout);
  cuDevicePrimaryCtxRelease(dev);
  return std::fabs(out[0] - want) < 1e-4 ? 0 : 1;
}
