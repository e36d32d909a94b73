// jitfuse warm MANIFEST [--arch ..] [--jobs N]: compile graphs x archs x math x dims into the
// cache, on a machine with or without a GPU. The manifest format is in docs/cache.md.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "commands.h"

namespace jitfuse::cli {
namespace {

using json = nlohmann::json;

struct Flags {
  std::string manifest;
  std::vector<std::string> archs;
  int jobs = 0;
};

struct Job {
  const Graph* graph;
  CompileOptions options;
  std::string label;
};

struct Manifest {
  std::vector<Graph> graphs;
  std::vector<std::string> archs;
  std::vector<std::string> math = {"auto"};
  std::vector<std::map<std::string, std::int64_t>> dims = {{}};
};

Error manifest_error(const std::string& file, std::string pointer, std::string message) {
  Error e = make_error(ErrorCode::schema, std::move(message), std::move(pointer));
  e.file = file;
  return e;
}

Expected<std::vector<std::string>> strings(const json& doc, const char* key, const std::string& file) {
  std::vector<std::string> out;
  const json& j = doc[key];
  if (!j.is_array() || j.empty()) {
    return manifest_error(file, fmt::format("/{}", key), fmt::format("{} must be a non-empty array of strings", key));
  }
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) {
      return manifest_error(file, fmt::format("/{}/{}", key, i), fmt::format("{} entries must be strings", key));
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

Expected<Manifest> load_manifest(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Error e = make_error(ErrorCode::io, "cannot read the manifest");
    e.file = file;
    return e;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) {
    Error e = make_error(ErrorCode::json_syntax, "the manifest is not valid JSON");
    e.file = file;
    return e;
  }
  if (!doc.is_object()) return manifest_error(file, "", "a manifest must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "graphs" && key != "archs" && key != "math" && key != "dims") {
      return manifest_error(file, "/" + key, fmt::format("unknown key '{}'; a manifest has graphs, "
                                                         "archs, math and dims", key));
    }
  }
  Manifest m;
  if (!doc.contains("graphs") || !doc["graphs"].is_array() || doc["graphs"].empty()) {
    return manifest_error(file, "/graphs", "graphs must be a non-empty array of paths or inline graphs");
  }
  for (std::size_t i = 0; i < doc["graphs"].size(); ++i) {
    const json& g = doc["graphs"][i];
    Expected<Graph> graph = make_error(ErrorCode::internal, "");
    if (g.is_string()) {
      std::filesystem::path p = g.get<std::string>();
      if (p.is_relative()) p = path.parent_path() / p;  // relative to the manifest
      graph = load_graph(p);
    } else if (g.is_object()) {
      graph = parse_graph(g.dump(), fmt::format("{}#/graphs/{}", file, i));
    } else {
      return manifest_error(file, fmt::format("/graphs/{}", i), "a graph must be a path or an inline graph object");
    }
    if (!graph) return graph.error();
    m.graphs.push_back(std::move(*graph));
  }
  if (doc.contains("archs")) { JF_ASSIGN_OR_RETURN(m.archs, strings(doc, "archs", file)); }
  if (doc.contains("math")) { JF_ASSIGN_OR_RETURN(m.math, strings(doc, "math", file)); }
  if (doc.contains("dims")) {
    const json& d = doc["dims"];
    if (!d.is_array() || d.empty()) return manifest_error(file, "/dims", "dims must be a non-empty array of objects like {\"M\": 2048}");
    m.dims.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      std::map<std::string, std::int64_t> one;
      if (!d[i].is_object()) return manifest_error(file, fmt::format("/dims/{}", i), "each dims entry must be an object like {\"M\": 2048}");
      for (const auto& [k, v] : d[i].items()) {
        if (!v.is_number_integer()) return manifest_error(file, fmt::format("/dims/{}/{}", i, k), "a dim must be an integer");
        one[k] = v.get<std::int64_t>();
      }
      m.dims.push_back(std::move(one));
    }
  }
  return m;
}

std::string dims_label(const std::map<std::string, std::int64_t>& dims) {
  std::string out;
  for (const auto& [k, v] : dims) out += fmt::format(" {}={}", k, v);
  return out;
}

int run(const GlobalFlags& global, const Flags& f) {
  auto manifest = load_manifest(f.manifest);
  if (!manifest) return report(manifest.error());
  const std::vector<std::string> archs = f.archs.empty() ? manifest->archs : f.archs;
  if (archs.empty()) {
    return report(make_error(ErrorCode::bad_option, "no archs: list them in the manifest's \"archs\" or pass --arch"));
  }
  std::vector<Job> jobs;
  for (const Graph& g : manifest->graphs) {
    for (const std::string& arch : archs) {
      for (const std::string& math : manifest->math) {
        const auto mode = parse_math_mode(math);
        if (!mode) return report(make_error(ErrorCode::bad_option, fmt::format("math \"{}\" must be auto, ieee, tf32, tf32x3 or bf16x3", math)));
        // Math modes shape only f32 GEMMs; other graphs would compile the same kernel again.
        const bool f32 = !g.inputs.empty() && g.inputs.front().dtype == DType::f32;
        if (!f32 && *mode != MathMode::ieee && *mode != MathMode::automatic) continue;
        for (const auto& dims : manifest->dims) {
          CompileOptions o;
          o.arch = arch;
          o.math = *mode;
          o.dims = dims;
          jobs.push_back({&g, o, fmt::format("{} {}{}{}", g.name, arch, f32 ? " " + math : "", dims_label(dims))});
        }
      }
    }
  }
  Engine engine(engine_options(global));
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<int> compiled{0}, cached{0}, failed{0};
  std::mutex print_mu;
  std::vector<std::string> failures;
  const auto t0 = std::chrono::steady_clock::now();
  const bool tty = ::isatty(::fileno(stdout));
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      auto build = engine.build(*jobs[i].graph, jobs[i].options);
      std::string what;
      if (!build) {
        ++failed;
        what = "FAILED: " + build.error().to_string();
      } else {
        int fresh = 0;
        double ms = 0;
        for (const auto& k : build->kernels) {
          fresh += k.cache_status == "compiled";
          ms += k.compile_ms;
        }
        if (fresh) { ++compiled; what = fmt::format("compiled ({:.0f} ms)", ms); }
        else { ++cached; what = "already cached"; }
      }
      std::lock_guard lock(print_mu);
      ++done;
      if (!build) failures.push_back(jobs[i].label + ": " + build.error().to_string());
      if (tty) {
        // One bar, redrawn in place; failures still get a line of their own above it.
        if (!build) std::printf("\r\033[Kfailed: %s\n", failures.back().c_str());
        const int width = 30, filled = int(width * done / jobs.size());
        std::printf("\r\033[K[%s%s] %zu/%zu  compiled %d  cached %d  failed %d", std::string(filled, '#').c_str(),
                    std::string(width - filled, '.').c_str(), done.load(), jobs.size(), compiled.load(),
                    cached.load(), failed.load());
      } else {
        std::printf("[%zu/%zu] %s: %s\n", done.load(), jobs.size(), jobs[i].label.c_str(), what.c_str());
      }
      std::fflush(stdout);
    }
  };
  const unsigned n = f.jobs > 0 ? unsigned(f.jobs) : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < std::min<std::size_t>(n, jobs.size()); ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (tty) std::printf("\n");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("warm: %d compiled, %d already cached, %d failed, in %.1f s (%.1f builds/s, %u jobs; cache: %s)\n",
              compiled.load(), cached.load(), failed.load(), secs, double(jobs.size()) / secs, n,
              engine.cache_dir().empty() ? "off" : engine.cache_dir().string().c_str());
  if (!tty) {
    for (const auto& msg : failures) std::fprintf(stderr, "failed: %s\n", msg.c_str());
  }
  return failed ? kExitFailed : kExitOk;
}

}  // namespace

Command add_warm(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("warm", "compile a manifest of graphs x archs x dims into the cache (no GPU needed)");
  sub->add_option("MANIFEST", flags->manifest, "the manifest JSON file (docs/cache.md)")->required();
  sub->add_option("--arch", flags->archs, "archs to compile for, overriding the manifest's")->delimiter(',');
  sub->add_option("--jobs", flags->jobs, "parallel compiles (default: all cores)")->check(CLI::Range(1, 4096));
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
