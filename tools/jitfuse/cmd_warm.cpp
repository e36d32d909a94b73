// jitfuse warm MANIFEST [--arch ..] [--jobs N]: compile graphs x archs x math x dims into the
// cache, on a machine with or without a GPU. The manifest format is in docs/cache.md.
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>

#include "commands.h"
#include "json_output.h"
#include "warm_manifest.h"

namespace jitfuse::cli {
namespace {

struct Flags {
  std::string manifest;
  std::vector<std::string> archs;
  int jobs = 0;
  std::string format = "text";
};

// What one job came to.
struct Outcome {
  std::optional<Build> build;
  std::optional<Error> error;
  int duplicate_of = -1;  // an earlier job that produced exactly these kernels
};

// What the run did, counted per distinct build (jobs producing the same kernels are one build),
// so that the counts hold however the threads raced.
struct Summary {
  int compiled = 0, cached = 0, failed = 0, duplicates = 0;
  bool bad_input = false;  // a failure was the input's fault (exit 2)
};

std::string kernels_key(const Build& b) {
  std::string key;
  for (const auto& k : b.kernels) key += k.cache_key + ",";
  return key;
}

bool any_compiled(const Build& b) {
  for (const auto& k : b.kernels) {
    if (k.cache_status == "compiled") return true;
  }
  return false;
}

// Groups jobs by the kernels they produced; a group counts as compiled when any of its jobs
// compiled (the others then found the kernels in memory or on disk), else as already cached.
Summary summarize(std::vector<Outcome>& outcomes) {
  Summary s;
  std::map<std::string, int> first;  // kernels -> the first job (in manifest order) with them
  std::map<int, bool> compiled;      // first job -> whether its group compiled anything
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    Outcome& o = outcomes[i];
    if (!o.build) {
      ++s.failed;
      s.bad_input = s.bad_input || is_user_error(o.error->code);
      continue;
    }
    auto [it, fresh] = first.emplace(kernels_key(*o.build), int(i));
    if (!fresh) {
      o.duplicate_of = it->second;
      ++s.duplicates;
    }
    compiled[it->second] = compiled[it->second] || any_compiled(*o.build);
  }
  for (const auto& [job, c] : compiled) (c ? s.compiled : s.cached)++;
  return s;
}

// What one job saw, for its progress line.
std::string job_line(const Outcome& o) {
  if (!o.build) return "FAILED: " + o.error->to_string();
  double ms = 0;
  bool fresh = false, disk = false;
  for (const auto& k : o.build->kernels) {
    ms += k.compile_ms;
    fresh = fresh || k.cache_status == "compiled";
    disk = disk || k.cache_status == "disk";
  }
  if (fresh) return fmt::format("compiled ({:.0f} ms)", ms);
  return disk ? "already cached" : "same kernels as an earlier build";
}

// The run as a JSON document: every build with its outcome and kernels, and the summary.
ojson warm_json(const Manifest& m, const std::vector<WarmJob>& jobs, const std::vector<Outcome>& outcomes,
                const Summary& s, const Engine& engine, unsigned parallel, double secs) {
  ojson builds = ojson::array();
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const WarmJob& job = jobs[i];
    const Outcome& o = outcomes[i];
    ojson kernels = ojson::array();
    if (o.build) {
      for (const KernelArtifact& k : o.build->kernels) kernels.push_back(kernel_json(k));
    }
    const std::string line = job_line(o);
    builds.push_back({{"graph", job.graph->name},
                      {"arch", job.options.arch},
                      {"math", job.math_applies ? ojson(std::string(to_string(job.options.math))) : ojson(nullptr)},
                      {"dims", dims_json(job.options.dims)},
                      {"status", !o.build ? "failed" : line.starts_with("compiled") ? "compiled" : "cached"},
                      {"duplicate_of", o.duplicate_of >= 0 ? ojson(o.duplicate_of) : ojson(nullptr)},
                      {"kernels", std::move(kernels)},
                      {"error", o.error ? error_json(*o.error) : ojson(nullptr)}});
  }
  return {{"manifest", m.file},
          {"cache_dir", string_or_null(engine.cache_dir().string())},
          {"parallel", parallel},
          {"seconds", secs},
          {"builds", std::move(builds)},
          {"summary", {{"builds", jobs.size()},
                       {"distinct", jobs.size() - std::size_t(s.duplicates)},
                       {"compiled", s.compiled},
                       {"cached", s.cached},
                       {"failed", s.failed},
                       {"duplicates", s.duplicates}}}};
}

int run(const GlobalFlags& global, const Flags& f) {
  auto manifest = load_manifest(f.manifest);
  if (!manifest) return report(manifest.error());
  const std::vector<std::string> archs = f.archs.empty() ? manifest->archs : f.archs;
  if (archs.empty()) {
    return report(make_error(ErrorCode::bad_option, "no archs: list them in the manifest's \"archs\" or pass --arch"));
  }
  auto planned = plan_warm_jobs(*manifest, archs, !f.archs.empty());
  if (!planned) return report(planned.error());
  const std::vector<WarmJob>& jobs = *planned;

  Engine engine(engine_options(global));
  std::vector<Outcome> outcomes(jobs.size());
  std::atomic<std::size_t> next{0}, done{0};
  std::atomic<int> compiled{0}, cached{0}, failed{0};
  std::mutex print_mu;
  const auto t0 = std::chrono::steady_clock::now();
  // With --format json stdout holds the document alone, so the progress goes to stderr.
  const bool json = f.format == "json";
  FILE* progress = json ? stderr : stdout;
  const bool tty = ::isatty(::fileno(progress));
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      auto build = engine.build(*jobs[i].graph, jobs[i].options);
      Outcome& o = outcomes[i];
      if (build) o.build = std::move(*build);
      else o.error = build.error();
      const std::string what = job_line(o);
      if (!o.build) ++failed;
      else if (what.starts_with("compiled")) ++compiled;
      else ++cached;
      std::lock_guard lock(print_mu);
      ++done;
      if (tty) {
        // One bar, redrawn in place; failures still get a line of their own above it.
        if (!o.build) std::fprintf(progress, "\r\033[Kfailed: %s: %s\n", jobs[i].label.c_str(), o.error->to_string().c_str());
        const int width = 30, filled = int(width * done / jobs.size());
        std::fprintf(progress, "\r\033[K[%s%s] %zu/%zu  compiled %d  cached %d  failed %d",
                     std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done.load(),
                     jobs.size(), compiled.load(), cached.load(), failed.load());
      } else {
        std::fprintf(progress, "[%zu/%zu] %s: %s\n", done.load(), jobs.size(), jobs[i].label.c_str(), what.c_str());
      }
      std::fflush(progress);
    }
  };
  const unsigned n = f.jobs > 0 ? unsigned(f.jobs) : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < std::min<std::size_t>(n, jobs.size()); ++i) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (tty) std::fprintf(progress, "\n");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Summary s = summarize(outcomes);
  const int code = s.bad_input ? kExitBadInput : s.failed ? kExitFailed : kExitOk;
  if (json) {
    print_json(warm_json(*manifest, jobs, outcomes, s, engine, n, secs));
    return code;
  }
  std::printf("warm: %d compiled, %d already cached, %d failed (%zu build%s%s), in %.1f s (%u at a time; cache: %s)\n",
              s.compiled, s.cached, s.failed, jobs.size(), jobs.size() == 1 ? "" : "s",
              s.duplicates ? fmt::format(", {} of them the same kernels as another", s.duplicates).c_str() : "",
              secs, n, engine.cache_dir().empty() ? "off" : engine.cache_dir().string().c_str());
  if (!tty) {
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (outcomes[i].error) std::fprintf(stderr, "failed: %s: %s\n", jobs[i].label.c_str(), outcomes[i].error->to_string().c_str());
    }
  }
  return code;
}

}  // namespace

Command add_warm(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("warm", "compile a manifest of graphs x archs x dims into the cache (no GPU needed)");
  sub->add_option("MANIFEST", flags->manifest, "the manifest JSON file (docs/cache.md)")->required();
  sub->add_option("--arch", flags->archs, "archs to compile for, overriding the manifest's")->delimiter(',');
  sub->add_option("--jobs", flags->jobs, "parallel compiles (default: all cores)")->check(CLI::Range(1, 4096));
  add_format_flag(sub, flags->format);
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
