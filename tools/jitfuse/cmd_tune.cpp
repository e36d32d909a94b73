// jitfuse tune GRAPH --dims .. [--arch A] [--math M] [--runs N]: times each candidate GEMM config
// on this GPU and keeps the fastest in the cache's tune/ folder, where later compiles find it.
#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "commands.h"
#include "cuda/device.h"
#include "cuda/timing.h"
#include "device_tensors.h"
#include "engine/tune.h"
#include "graph/typed_graph.h"
#include "jitfuse/reference.hpp"

namespace jitfuse::cli {
namespace {

struct Flags {
  CompileFlags compile;
  int runs = 20;
};

constexpr int kWarmup = 5;

// Every config worth trying; the problem's constraints rule some out (they are then skipped).
const char* const kCandidates[] = {"auto",           "wgmma,cluster=1",    "wgmma,cluster=2",
                                   "wgmma,cluster=2n", "wgmma,cluster=2x2", "wgmma,tile=256x128",
                                   "wgmma,tile=256x128,cluster=2n",
                                   "wgmma,persistent=0", "wgmma,pingpong=1", "wgmma,bn=32",
                                   "wgmma,bn=64",    "wgmma,handoff=half", "wgmma,handoff=full",
                                   "wgmma,streamk=1", "mma",             "simt"};

// The template file a candidate must produce to count as itself (auto: any).
std::string wanted_template(std::string_view gemm) {
  if (gemm.starts_with("wgmma")) return "gemm_wgmma.cu";
  if (gemm == "mma") return "gemm_mma.cu";
  if (gemm == "simt") return "gemm_simt.cu";
  return "";
}

// The template instance of every kernel of a build.
std::string config_of(const Build& b) {
  std::string out;
  for (const auto& k : b.kernels) out += (out.empty() ? "" : " | ") + k.config;
  return out;
}

// How close two candidates' outputs must be: they differ only in summation order.
std::pair<double, double> agreement(DType dtype, MathMode math) {
  if (dtype != DType::f32 || math == MathMode::tf32) return {1e-2, 1e-2};  // auto: ieee or tf32x3
  return {1e-4, 1e-4};
}

int run(const GlobalFlags& global, const Flags& f) {
  auto options = compile_options(f.compile);
  if (!options) return report(options.error());
  if (!f.compile.gemm.empty() && f.compile.gemm != "auto") {
    return report(make_error(ErrorCode::bad_option,
                             "tune tries every GEMM config itself; leave out --gemm"));
  }
  auto graph = load_graph(f.compile.graph);
  if (!graph) return report(graph.error());
  auto g = bound_graph(*graph, *options, "tune times the graph at one shape");
  if (!g) return report(g.error());
  if (auto api = cu::api(); !api.ok()) {
    Error e = api.error();
    e.message = "tune times kernels on this machine's GPU: " + e.message;
    return report(e);
  }
  Engine engine(engine_options(global));
  if (engine.cache_dir().empty()) {
    return report(make_error(ErrorCode::bad_option,
                             "tune keeps its result in the disk cache, which is off "
                             "(--no-cache or JITFUSE_CACHE=off)"));
  }
  auto gpu = cu::Device::open(0);
  if (!gpu) return report(gpu.error());
  if (Status s = (*gpu)->make_current(); !s.ok()) return report(s.error());

  std::map<std::string, io::HostTensor> inputs;
  for (int v : g->inputs) {
    auto t = io::random_input(*g, v, {}, 1);
    if (!t) return report(t.error());
    inputs[g->values[v].name] = std::move(*t);
  }
  auto device = upload(*g, inputs);
  if (!device) return report(device.error());
  auto stream = cu::Stream::create();
  if (!stream) return report(stream.error());

  TuneRecord record;
  std::set<std::string> seen;  // identical generated sources are timed once
  std::map<std::string, std::vector<double>> first_outputs;
  double best = 0;
  std::printf("%-18s %12s  %s\n", "gemm", "median us", "config");
  for (const char* gemm : kCandidates) {
    TuneCandidate c;
    c.gemm = gemm;
    c.median_us = -1;
    CompileOptions o = *options;
    o.gemm = gemm;
    auto kernel = engine.compile(*graph, o);
    if (!kernel) {
      c.note = kernel.error().to_string();
    } else {
      const Build& b = kernel->build();
      // The heuristic's candidate is built with the caller's options: what they asked for and
      // did not get (math bf16x3 off the wgmma kernel) is worth a warning; the other
      // candidates' misses are the table's "not possible" rows.
      if (c.gemm == "auto") warn_not_applied(b);
      record.arch = b.arch;      // every candidate's build names the same problem
      record.key = b.tune_key;
      c.config = config_of(b);
      std::string sources;
      for (const auto& k : b.kernels) sources += k.source;
      const std::string want = wanted_template(gemm);
      if (!want.empty() && c.config.find(want) == std::string::npos) {
        c.note = "not possible for this problem";
      } else if (!seen.insert(sources).second) {
        c.note = "same kernel as an earlier candidate";
      } else if (Status s = kernel->launch(device->map, stream->get()); !s.ok()) {
        c.note = s.error().to_string();
      } else if (Status s2 = cu::synchronize(); !s2.ok()) {
        c.note = s2.error().to_string();
      } else {
        // Each candidate must agree with the first one timed, output by output.
        std::string mismatch;
        for (int v : g->outputs) {
          const std::string& name = g->values[v].name;
          const auto& buf = device->buffers.at(name);
          std::vector<std::byte> bytes(buf.size());
          if (Status s3 = cu::copy_to_host(bytes.data(), buf.ptr(), bytes.size()); !s3.ok()) {
            mismatch = s3.error().to_string();
            break;
          }
          std::vector<double> got = io::decode(g->dtype, bytes);
          auto [it, fresh] = first_outputs.emplace(name, got);
          if (fresh) continue;
          const auto [atol, rtol] = agreement(g->dtype, options->math);
          const Comparison cmp = compare(got, it->second, atol, rtol);
          if (cmp.bad) mismatch = fmt::format("output {} differs from the first candidate's at {} elements", name, cmp.bad);
        }
        if (!mismatch.empty()) {
          c.note = mismatch;
        } else {
          auto launch = [&] { return kernel->launch(device->map, stream->get()); };
          auto t = cu::time_per_call(launch, stream->get(), kWarmup, f.runs);
          if (!t) {
            c.note = t.error().to_string();
          } else {
            c.median_us = t->median_us;
            if (record.gemm.empty() || c.median_us < best) {
              best = c.median_us;
              record.gemm = c.gemm;
            }
          }
        }
      }
    }
    if (c.median_us >= 0) std::printf("%-18s %12.1f  %s\n", gemm, c.median_us, c.config.c_str());
    else std::printf("%-18s %12s  %s\n", gemm, "-", c.note.c_str());
    std::fflush(stdout);
    record.candidates.push_back(std::move(c));
  }
  if (record.gemm.empty()) {
    return report(make_error(ErrorCode::cuda, "no candidate ran; nothing recorded"));
  }
  record.graph = g->name;
  record.math = std::string(to_string(options->math));
  record.card = (*gpu)->name();
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  record.date = date;
  auto path = save_tune_record(engine.cache_dir(), record);
  if (!path) return report(path.error());
  std::printf("fastest: %s (%.1f us); recorded in %s\n", record.gemm.c_str(), best,
              path->string().c_str());
  return kExitOk;
}

}  // namespace

Command add_tune(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand(
      "tune", "time each candidate GEMM config on this GPU; later compiles of the same graph, dims, "
              "arch and math use the fastest");
  add_compile_flags(sub, flags->compile);
  sub->add_option("--runs", flags->runs,
                  "timed samples per candidate, each a batch of launches (default 20)")
      ->check(CLI::Range(1, 100000));
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
