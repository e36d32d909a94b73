// jitfuse compile GRAPH [--arch A] [--math M] [--dims M=2048] [--emit cu,ptx,cubin] [-o DIR]
//                       [--format text|json]
#include <fmt/format.h>

#include "codegen/embedded.h"
#include "commands.h"
#include "json_output.h"

namespace jitfuse::cli {
namespace {

struct Flags {
  CompileFlags compile;
  std::vector<std::string> emit;
  std::string out_dir = ".";
  std::string format = "text";
};

// Writes what --emit asks for; a .cu comes with the headers it includes, so that
// `nvcc -I DIR/include` compiles it as is. Returns the paths written (the headers' folder last).
Expected<std::vector<std::string>> emit_files(const Build& build, const Flags& f) {
  const std::filesystem::path dir = f.out_dir;
  std::vector<std::string> written;
  if (f.emit.empty()) return written;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    Error e = make_error(ErrorCode::io, "cannot create the output directory: " + ec.message());
    e.file = dir.string();
    return e;
  }
  bool cu = false;
  for (const KernelArtifact& k : build.kernels) {
    for (const std::string& kind : f.emit) {
      const std::string& bytes = kind == "cu" ? k.source : kind == "ptx" ? k.ptx : k.cubin;
      const auto path = dir / (k.name + "." + kind);
      JF_RETURN_IF_ERROR(write_file(path, bytes));
      written.push_back(path.string());
      cu = cu || kind == "cu";
    }
  }
  if (cu) {
    for (const auto& file : embedded::files()) {
      const auto path = dir / "include" / std::string(file.name);
      std::filesystem::create_directories(path.parent_path(), ec);
      JF_RETURN_IF_ERROR(write_file(path, file.text));
    }
    written.push_back((dir / "include").string());
  }
  return written;
}

// The build as a JSON document: what was built, for what, and where each kernel came from.
ojson build_json(const Build& b, const CompileOptions& o, const Engine& engine,
                 const std::vector<std::string>& files) {
  ojson kernels = ojson::array();
  for (const KernelArtifact& k : b.kernels) kernels.push_back(kernel_json(k));
  return {{"graph", b.graph_name},
          {"arch", b.arch},
          {"math", std::string(to_string(b.math))},
          {"gemm", o.gemm.empty() ? "auto" : o.gemm},
          {"tuned_gemm", string_or_null(b.tuned_gemm)},
          {"dims", dims_json(o.dims)},
          {"fusion", o.fusion},
          {"cache_dir", string_or_null(engine.cache_dir().string())},
          {"kernels", std::move(kernels)},
          {"files", files}};
}

void print_text(const Build& b, const std::vector<std::string>& files) {
  std::printf("%s: %zu kernel%s for %s\n", b.graph_name.c_str(), b.kernels.size(),
              b.kernels.size() == 1 ? "" : "s", b.arch.c_str());
  if (!b.tuned_gemm.empty()) {
    std::printf("  gemm config %s, from a `jitfuse tune` record\n", b.tuned_gemm.c_str());
  }
  for (const KernelArtifact& k : b.kernels) {
    const std::string entry = cache_entry_status(k);
    std::printf("  %s: %s; cubin %zu bytes, PTX %zu bytes%s\n", k.name.c_str(), cache_outcome(k).c_str(),
                k.cubin.size(), k.ptx.size(), entry.empty() ? "" : ("\n    cache: " + entry).c_str());
  }
  for (const std::string& path : files) {
    if (path.ends_with("include")) {
      std::printf("wrote %s (the headers the .cu includes: nvcc -I %s)\n", path.c_str(), path.c_str());
    } else {
      std::printf("wrote %s\n", path.c_str());
    }
  }
}

int run(const GlobalFlags& global, const Flags& f) {
  for (const std::string& kind : f.emit) {
    if (kind != "cu" && kind != "ptx" && kind != "cubin") {
      return report(make_error(ErrorCode::bad_option,
                               fmt::format("--emit takes cu, ptx and cubin; got \"{}\"", kind)));
    }
  }
  auto options = compile_options(f.compile);
  if (!options) return report(options.error());
  auto graph = load_graph(f.compile.graph);
  if (!graph) return report(graph.error());
  Engine engine(engine_options(global));
  auto build = engine.build(*graph, *options);
  if (!build) return report(build.error());
  warn_not_applied(*build);
  auto files = emit_files(*build, f);
  if (!files) return report(files.error());
  if (f.format == "json") print_json(build_json(*build, *options, engine, *files));
  else print_text(*build, *files);
  return kExitOk;
}

}  // namespace

Command add_compile(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("compile", "plan, generate and compile a graph (no GPU needed)");
  add_compile_flags(sub, flags->compile);
  sub->add_option("--emit", flags->emit, "write these: cu, ptx, cubin (comma list)")->delimiter(',');
  sub->add_option("-o,--output-dir", flags->out_dir, "where --emit writes (default: .)");
  add_format_flag(sub, flags->format);
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
