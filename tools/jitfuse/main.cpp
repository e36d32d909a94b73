// The jitfuse command line. Exit codes: 0 ok, 1 a run or check failed, 2 bad input.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "common/log.h"
#include "common/text.h"
#include "engine/trace.h"

namespace {

using namespace jitfuse::cli;

// CLI11 reports a word that names no subcommand as "A subcommand is required": name the word
// and the choices instead. Empty when `e` is something else.
std::string unknown_subcommand(const CLI::App& app, const CLI::ParseError& e) {
  if (e.get_name() != "RequiredError") return "";
  const CLI::App* at = &app;
  std::string path;  // " cache" for `jitfuse cache frobnicate`
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    path += " " + at->get_name();
  }
  std::vector<std::string> names;
  for (const CLI::App* sub : at->get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  if (names.empty()) return "";
  for (const std::string& word : at->remaining()) {
    if (word.empty() || word[0] == '-') continue;
    return fmt::format("unknown command \"{}\" for `jitfuse{}`{}; the commands are {}", word, path,
                       jitfuse::did_you_mean(word, names), jitfuse::join(names, ", "));
  }
  return fmt::format("`jitfuse{}` needs a command: {}", path, jitfuse::join(names, ", "));
}

// The --dump-after check, so that a misspelt step is an error and not silence.
std::string check_dump_steps(const std::string& list) {
  auto steps = jitfuse::parse_dump_steps(list);
  return steps ? "" : steps.error().message;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jitfuse: compile a GEMM + elementwise op graph into one fused CUDA kernel"};
  app.set_version_flag("--version", std::string(jitfuse::version()));
  app.require_subcommand(1);
  // Every parse error reads like the others: "jitfuse: error: ...", then exit 2.
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    const auto* parse = dynamic_cast<const CLI::ParseError*>(&e);
    const std::string better = parse ? unknown_subcommand(*a, *parse) : "";
    // CLI11 quotes the arguments it rejects, on one line: escaped like a user's string (newlines
    // too, so that an argument cannot forge a second "jitfuse: error:" line) and capped, so that
    // an escape sequence or a carriage return cannot drive the terminal.
    return fmt::format("jitfuse: error: {}\nrun `jitfuse --help` or `jitfuse COMMAND --help` for "
                       "the usage\n", jitfuse::user_text(better.empty() ? e.what() : better, 1024));
  });
  GlobalFlags global;
  std::vector<std::string> steps(jitfuse::kTraceSteps.begin(), jitfuse::kTraceSteps.end());
  app.add_flag("-v,--verbose", global.verbose, "log every stage: cache hits and misses, compile ms");
  app.add_option("--dump-after", global.dump_after,
                 fmt::format("print a stage's output and time: {}, or all (comma list; also "
                             "JITFUSE_DUMP_AFTER)", jitfuse::join(steps, ", ")))
      ->type_name("STEP[,STEP...]")
      ->check(CLI::Validator(check_dump_steps, "", "pipeline steps"));
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
