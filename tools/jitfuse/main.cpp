// The jitfuse command line. Exit codes: 0 ok, 1 a run or check failed, 2 bad input.
#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "common/log.h"

int main(int argc, char** argv) {
  using namespace jitfuse::cli;
  CLI::App app{"jitfuse: compile a GEMM + elementwise op graph into one fused CUDA kernel"};
  app.set_version_flag("--version", std::string(jitfuse::version()));
  app.require_subcommand(1);
  GlobalFlags global;
  app.add_flag("-v,--verbose", global.verbose, "log every stage: cache hits and misses, compile ms");
  app.add_option("--dump-after", global.dump_after,
                 "print a stage's output and time: validate, specialize, arch, plan, emit, key, "
                 "cache, nvrtc, store, load, or all (comma list; also JITFUSE_DUMP_AFTER)");
  app.add_option("--cache-dir", global.cache_dir, "the kernel cache directory (default: "
                 "$JITFUSE_CACHE_DIR, $XDG_CACHE_HOME/jitfuse or ~/.cache/jitfuse)");
  app.add_flag("--no-cache", global.no_cache, "do not read or write the disk cache");

  const Command commands[] = {add_compile(app, global), add_run(app, global),
                              add_explain(app, global), add_warm(app, global),
                              add_cache(app, global), add_archs(app, global),
                              add_tune(app, global)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  if (global.verbose) jitfuse::log::set_verbose(true);
  if (!global.dump_after.empty()) ::setenv("JITFUSE_DUMP_AFTER", global.dump_after.c_str(), 1);
  for (const Command& c : commands) {
    if (c.sub->parsed()) return c.run();
  }
  return kExitBadInput;
}
