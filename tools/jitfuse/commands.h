// The subcommands. Each registers its flags on the app and returns how to run it.
#pragma once

#include <functional>

#include "common.h"

namespace jitfuse::cli {

// A registered subcommand and its action, which returns the exit code.
struct Command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

// `jitfuse compile`: plan, generate, compile; optionally dump .cu, .ptx, .cubin.
Command add_compile(CLI::App& app, const GlobalFlags& global);
// `jitfuse run`: compile, launch on .npy or random inputs, check, save, benchmark.
Command add_run(CLI::App& app, const GlobalFlags& global);
// `jitfuse explain`: the fusion plan and why.
Command add_explain(CLI::App& app, const GlobalFlags& global);
// `jitfuse warm`: compile a manifest of graphs x archs x dims into the cache.
Command add_warm(CLI::App& app, const GlobalFlags& global);
// `jitfuse cache ls|stats|verify|prune|clear`: inspect and maintain the kernel cache.
Command add_cache(CLI::App& app, const GlobalFlags& global);
// `jitfuse tune`: time candidate GEMM configs on this GPU; record the fastest in the cache.
Command add_tune(CLI::App& app, const GlobalFlags& global);
// `jitfuse archs`: the targets NVRTC supports.
Command add_archs(CLI::App& app, const GlobalFlags& global);

}  // namespace jitfuse::cli
