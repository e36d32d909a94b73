// jitfuse explain GRAPH [--dims ..] [--arch A] [--format text|json]
#include <fmt/format.h>

#include "commands.h"

namespace jitfuse::cli {
namespace {

struct Flags {
  CompileFlags compile;
  std::string format = "text";
};

int run(const Flags& f) {
  auto options = compile_options(f.compile);
  if (!options) return report(options.error());
  auto graph = load_graph(f.compile.graph);
  if (!graph) return report(graph.error());
  auto text = explain(*graph, *options, f.format);
  if (!text) return report(text.error());
  std::fputs(text->c_str(), stdout);
  return kExitOk;
}

}  // namespace

Command add_explain(CLI::App& app, const GlobalFlags&) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("explain", "the fusion plan: kernels, fused ops and why, FLOPs and bytes");
  add_compile_flags(sub, flags->compile);
  sub->add_option("--format", flags->format, "text (default), md or json");
  return {sub, [flags] { return run(*flags); }};
}

}  // namespace jitfuse::cli
