// What the subcommands share: compile flags, option parsing, error reporting, file output.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "jitfuse/jitfuse.hpp"

namespace jitfuse::cli {

// Exit codes: 0 ok, 1 a run or check failed (or the system did), 2 bad input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitBadInput = 2;

// Flags every subcommand takes.
struct GlobalFlags {
  bool verbose = false;
  std::string dump_after;
  std::string cache_dir;
  bool no_cache = false;
};

// Flags of the subcommands that compile a graph.
struct CompileFlags {
  std::string graph;
  std::string arch;
  std::string math = "auto";
  std::string gemm = "auto";
  std::vector<std::string> dims;
  bool no_fuse = false;
};

// Adds GRAPH, --arch, --math, --dims and --no-fuse to `sub`.
void add_compile_flags(CLI::App* sub, CompileFlags& flags);
// Parses "M=2048" items (each may also be a comma list) into a map; bad_option on bad text or
// a dim given twice.
Expected<std::map<std::string, std::int64_t>> parse_dims(const std::vector<std::string>& items);
// The CompileOptions the flags describe.
Expected<CompileOptions> compile_options(const CompileFlags& flags);
// The EngineOptions the global flags describe.
EngineOptions engine_options(const GlobalFlags& flags);
// Prints "jitfuse: error: ..." with details; returns the exit code for the error.
int report(const Error& error);
// How a kernel was obtained: "compiled by NVRTC in 812.3 ms" or "disk cache hit".
std::string cache_outcome(const KernelArtifact& kernel);
// Where its disk entry stands: "stored in PATH", "read from PATH", "not stored: WHY",
// "disk cache off"; empty for a memory hit (nothing was read or written).
std::string cache_entry_status(const KernelArtifact& kernel);
// Warns on stderr about each request the build's kernels do not honour (KernelArtifact::
// not_applied), e.g. --gemm wgmma on sm_80: the kernel is built, but not as asked.
void warn_not_applied(const Build& build);
// Writes `bytes` to `path` through a temporary file and a rename.
Status write_file(const std::filesystem::path& path, std::string_view bytes);

}  // namespace jitfuse::cli
