// jitfuse: compile a small op graph (a GEMM and the elementwise work after it) into one
// fused CUDA kernel at run time, cache it on disk, and launch it through the Driver API.
//
//   jitfuse::Engine engine;
//   auto graph = jitfuse::load_graph("examples/linear_scale_hardtanh_gelu.json");
//   auto kernel = engine.compile(*graph, {.arch = "", .math = jitfuse::MathMode::automatic});
//   kernel->launch({{"x", {x_ptr, {2048, 8192}, jitfuse::DType::f32}}, ...}, stream);
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jitfuse/error.hpp"
#include "jitfuse/graph.hpp"

struct CUstream_st;  // the Driver API's stream; cudaStream_t is the same type

namespace jitfuse {

// The library version, "MAJOR.MINOR.PATCH".
std::string_view version();

// How f32 GEMMs do their arithmetic. f16 and bf16 always use tensor cores with f32 accumulation.
enum class MathMode {
  ieee,       // plain f32 FFMA: as accurate as a classic SGEMM
  tf32,       // tensor cores on tf32-rounded inputs: fast, about 1e-3 relative error
  tf32x3,     // three tf32 products per step (big*big + big*small + small*big): near ieee accuracy
  bf16x3,     // x = hi + lo in bf16 (16 of f32's 24 bits) and three bf16 products (twice tf32's
              // rate): within 1e-4 of float64 (about 1e-5 relative), on the sm_90a wgmma
              // kernel only (elsewhere tf32x3); each compiled Kernel holds device scratch of
              // 2 (M + N) K bf16 from its first launch
  automatic,  // "auto", the default: where the Hopper (sm_90a wgmma) kernel runs the GEMMs,
              // bf16x3 for large problems whose dims are baked in, tf32x3 for the others (both
              // faster than ieee and within 1e-4 of float64); ieee everywhere else
};
// "ieee", "tf32", "tf32x3", "bf16x3" or "auto".
std::string_view to_string(MathMode mode);
// The mode named by `name`, or nullopt.
std::optional<MathMode> parse_math_mode(std::string_view name);

// What shapes a compile. Everything here is part of the kernel cache key.
struct CompileOptions {
  std::string arch;                           // "sm_90a", "sm_80", ...; empty: the current GPU's
  MathMode math = MathMode::automatic;        // f32 GEMM arithmetic
  std::map<std::string, std::int64_t> dims;   // symbolic dims to bake in as constants
  bool fusion = true;                         // false: one kernel per node (for bisecting)
  bool want_ptx = false;                      // also keep the PTX (the CLI's --emit ptx)
  // The GEMM config: "" or "auto" (a `jitfuse tune` record for this graph, dims, arch and math
  // if the disk cache has one, else the heuristic), "wgmma" (sm_90a Hopper path), "mma"
  // (mma.sync, sm_80+) or "simt" (FFMA). "wgmma" takes comma-separated settings:
  // cluster=1|2|2n|2x2 (CTA pairs along M sharing B by multicast, pairs along N sharing A, or
  // 2x2 sharing both), tile=128x256|256x128 (large problems but tf32x3 and ping-pong),
  // persistent=0|1 (one CTA an SM looping over tiles),
  // sum=1|2|4|8 (tf32x3: k-tiles summed in the tensor cores per rounded f32 add), split=1|2|4|8
  // (small problems: CTAs of a cluster sharing a tile's K), bn=32|64 (small problems: 64x32 or
  // 64x64 tiles), pingpong=0|1 (large problems but tf32x3: each consumer warpgroup a 128x128
  // tile, taking turns), handoff=0|half|full (large problems but tf32x3: the epilogue of half
  // the tile's columns, or all, in the producer's idle warps), streamk=0|1 (large persistent
  // problems, off by default: when the SMs do not divide the tiles, the last waves' k-tiles are
  // shared out evenly), e.g. "wgmma,cluster=1,persistent=0".
  // A template the problem cannot use (wgmma needs sm_90a, B as [N,K] and 16-byte-aligned rows)
  // falls back to the heuristic; explain and KernelArtifact::not_applied say why.
  std::string gemm;
};

// A device buffer, as the caller hands it to Kernel::launch.
struct Tensor {
  void* data = nullptr;              // a device pointer (CUdeviceptr or a cudaMalloc result)
  std::vector<std::int64_t> shape;   // row-major, contiguous
  DType dtype = DType::f32;
};
using TensorMap = std::map<std::string, Tensor, std::less<>>;
using Stream = CUstream_st*;

// One generated kernel of a build, and what came of compiling it.
struct KernelArtifact {
  std::string name;         // the CUDA function name
  std::string source;       // the generated CUDA C++
  std::string config;       // the template instance and why, e.g. "gemm_wgmma.cu (JF_MMA_BF16) 128x256x64 .."
  // What CompileOptions asked for that this kernel does not do, each with why: a gemm template
  // or setting the problem cannot use, math bf16x3 off the wgmma kernel (config says it too).
  std::vector<std::string> not_applied;
  std::string math;         // an f32 GEMM kernel's arithmetic as compiled ("ieee", "tf32",
                            // "tf32x3", "bf16x3"); empty where math changes nothing (f16, bf16,
                            // elementwise kernels)
  std::string ptx;          // empty unless CompileOptions::want_ptx
  std::string cubin;
  std::string cache_key;    // hex digest
  std::string cache_file;   // the disk entry's path, or empty when the disk cache is off
  std::string cache_status; // "memory", "disk" or "compiled"
  bool stored = false;      // compiled by this build and written to cache_file
  std::string store_error;  // compiled by this build, but the write to cache_file failed: why
  double compile_ms = 0;    // NVRTC time when compiled here
  std::vector<std::string> headers;  // the embedded headers the source includes
};

// The output of Engine::build: everything that needs no GPU.
struct Build {
  std::string graph_name;
  std::string arch;                      // as compiled, e.g. "sm_90a"
  MathMode math = MathMode::ieee;        // as compiled: "auto" resolved to ieee or tf32x3
  std::string explain;                   // the fusion plan as text
  std::string tuned_gemm;                // the GEMM choice a `jitfuse tune` record supplied, or empty
  std::string tune_key;                  // the key `jitfuse tune` records this problem under
  std::vector<KernelArtifact> kernels;   // in launch order
};

// Counters of one Engine's kernel cache.
struct EngineStats {
  std::uint64_t memory_hits = 0;
  std::uint64_t disk_hits = 0;
  std::uint64_t misses = 0;          // compiled with NVRTC
  std::uint64_t corrupt_entries = 0; // disk entries that failed their checks (then replaced)
  double compile_ms = 0;             // NVRTC time spent
  double saved_ms = 0;               // NVRTC time disk hits avoided (what their entries took)
  std::uint64_t bytes_read = 0;      // cache entry bytes read from disk
  std::uint64_t bytes_written = 0;   // cache entry bytes written to disk
};

// Where and how an Engine caches kernels.
struct EngineOptions {
  // The disk cache directory. Unset: $JITFUSE_CACHE_DIR, else $XDG_CACHE_HOME/jitfuse, else
  // ~/.cache/jitfuse. JITFUSE_CACHE=off in the environment turns the disk cache off.
  std::optional<std::filesystem::path> cache_dir;
  bool disk_cache = true;
  int device = 0;  // the CUDA device ordinal kernels load on
};

class Engine;

// A compiled, loaded graph: one or more CUDA kernels (one when fused) ready to launch.
class Kernel {
 public:
  // Binds the tensors by name (every graph input and output), checks their shapes, dtypes,
  // alignment and overlap, and enqueues the kernels on `stream` (capturable into a CUDA graph
  // once the scratch it needs exists: when the plan has intermediates or a bf16x3 GEMM, launch
  // those shapes once before capturing). Returns without waiting for the GPU. The kernel's
  // scratch (an unfused plan's intermediates, bf16x3's halves of A and B, a stream-K GEMM's
  // partial tiles) is its own: launches of one Kernel on streams that may run concurrently must
  // be ordered (an event), or each stream given its own Kernel (compile again: the module is
  // shared, not the scratch).
  Status launch(const TensorMap& tensors, Stream stream = nullptr) const;
  // Launches only kernel `index` of the plan (build().kernels[index]), with the same checks, to
  // time it alone. A later kernel reads the scratch results of earlier ones: launch() first.
  Status launch_one(std::size_t index, const TensorMap& tensors, Stream stream = nullptr) const;
  // The build this kernel was loaded from.
  const Build& build() const;
  // Device bytes of scratch a launch with these tensors needs, allocated on the first launch
  // that needs more: an unfused plan's intermediates and math bf16x3's halves of A and B (0 for
  // a fused plan without bf16x3; stream-K's fixed scratch is allocated when compiling).
  Expected<std::size_t> workspace_bytes(const TensorMap& tensors) const;

  struct Impl;
  explicit Kernel(std::shared_ptr<const Impl> impl);

 private:
  // launch() (only < 0) and launch_one(only).
  Status launch_kernels(const TensorMap& tensors, Stream stream, int only) const;
  std::shared_ptr<const Impl> impl_;
};

// Compiles graphs. Thread-safe; holds the in-memory cache and the disk cache handle.
class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates, plans, generates and compiles (or finds in the cache) without touching a GPU.
  // With an empty options.arch it asks the driver for the current GPU's arch.
  Expected<Build> build(const Graph& graph, const CompileOptions& options);
  // build(), then loads the kernels on the device.
  Expected<Kernel> compile(const Graph& graph, const CompileOptions& options);
  // A snapshot of the cache counters.
  EngineStats stats() const;
  // The disk cache directory in use, or empty when it is off.
  std::filesystem::path cache_dir() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Per-launch kernel times measured on a GPU (CUDA events, after warm-up), for explain's report.
struct MeasuredTimes {
  std::string gpu;                       // the GPU they were measured on
  int runs = 0;                          // timed samples behind each figure
  std::vector<double> kernel_median_us;  // per kernel of the plan, in launch order
  std::vector<double> kernel_min_us;
  double total_median_us = 0;            // whole launches: every kernel, back to back
  double total_min_us = 0;
};

// The plan for `graph` as a human-readable report (no compile): kernels, fused ops and why,
// FLOPs, bytes and roofline times. `format` is "text", "md" (a reviewer's document) or "json".
// With `measured` (jitfuse explain --bench), each kernel's measured time stands beside its
// roofline estimate, with the ceilings of the GPU it ran on.
Expected<std::string> explain(const Graph& graph, const CompileOptions& options,
                              std::string_view format = "text",
                              const MeasuredTimes* measured = nullptr);

// The GPU architectures NVRTC can target, e.g. {"sm_75", ..., "sm_90", "sm_90a", ...}.
Expected<std::vector<std::string>> supported_archs();

}  // namespace jitfuse
