// `jitfuse warm`'s input: the manifest (docs/cache.md), checked whole before anything compiles,
// and the distinct builds it asks for.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "jitfuse/jitfuse.hpp"

namespace jitfuse::cli {

// A parsed manifest: graphs x archs x math modes x dims.
struct Manifest {
  std::string file;
  std::vector<Graph> graphs;
  std::vector<std::string> archs;
  std::vector<std::string> math = {"auto"};
  std::vector<std::map<std::string, std::int64_t>> dims = {{}};
};

// One build to run: a graph with its compile options.
struct WarmJob {
  const Graph* graph = nullptr;
  CompileOptions options;
  bool math_applies = false;  // an f32 graph with a GEMM: the only kind math modes change
  std::string label;          // "name sm_80 ieee M=128", for progress lines
};

// Reads and checks the manifest's shape: keys, types, graphs (parsed), math names. Errors
// (exit 2) carry the manifest's path and the JSON pointer of the offending node.
Expected<Manifest> load_manifest(const std::filesystem::path& path);

// The builds the manifest asks for with `archs` (the manifest's unless --arch gave some), each
// once: a graph whose kernels math modes do not change (f16, bf16, no GEMM) is built once per
// arch and dims, not once per math mode, and repeated archs, modes or dims count once. Checks
// first, so that bad input fails before anything compiles: every graph validates, every arch
// is one NVRTC targets, and every dims entry fits every graph (pointer /dims/I/NAME).
Expected<std::vector<WarmJob>> plan_warm_jobs(const Manifest& manifest,
                                              const std::vector<std::string>& archs,
                                              bool archs_from_flag);

}  // namespace jitfuse::cli
