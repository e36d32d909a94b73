// jitfuse explain GRAPH [--dims ..] [--arch A] [--format text|md|json] [--bench [--bench-runs N]]
#include <fmt/format.h>

#include "commands.h"
#include "cuda/device.h"
#include "cuda/timing.h"
#include "device_tensors.h"
#include "graph/typed_graph.h"

namespace jitfuse::cli {
namespace {

struct Flags {
  CompileFlags compile;
  std::string format = "text";
  bool bench = false;
  int runs = 50;
};

constexpr int kWarmup = 10;

// Compiles the graph for this machine's GPU, launches it on random inputs and times, with CUDA
// events (median of `runs` samples after warm-up), each kernel alone and the whole launch. Each
// sample is a batch of back-to-back launches of at least 1 ms, so that the host's launch cost
// between the events does not count.
Expected<MeasuredTimes> measure(const GlobalFlags& global, const Graph& graph, const TypedGraph& g,
                                const CompileOptions& options, int runs) {
  if (auto api = cu::api(); !api.ok()) {
    Error e = api.error();
    e.message = "explain --bench times the kernels on this machine's GPU: " + e.message;
    return e;
  }
  Engine engine(engine_options(global));
  JF_ASSIGN_OR_RETURN(Kernel kernel, engine.compile(graph, options));
  JF_ASSIGN_OR_RETURN(std::shared_ptr<cu::Device> gpu, cu::Device::open(0));
  JF_RETURN_IF_ERROR(gpu->make_current());
  std::map<std::string, io::HostTensor> inputs;
  for (int v : g.inputs) {
    JF_ASSIGN_OR_RETURN(inputs[g.values[v].name], io::random_input(g, v, {}, 1));
  }
  JF_ASSIGN_OR_RETURN(DeviceTensors device, upload(g, inputs));
  JF_ASSIGN_OR_RETURN(cu::Stream stream, cu::Stream::create());
  MeasuredTimes m;
  m.gpu = gpu->name();
  m.runs = runs;
  auto whole = [&] { return kernel.launch(device.map, stream.get()); };
  JF_ASSIGN_OR_RETURN(cu::Timing total, cu::time_per_call(whole, stream.get(), kWarmup, runs));
  m.total_median_us = total.median_us;
  m.total_min_us = total.min_us;
  const std::size_t kernels = kernel.build().kernels.size();
  for (std::size_t i = 0; i < kernels; ++i) {
    cu::Timing t = total;
    if (kernels > 1) {
      auto one = [&] { return kernel.launch_one(i, device.map, stream.get()); };
      JF_ASSIGN_OR_RETURN(t, cu::time_per_call(one, stream.get(), kWarmup, runs));
    }
    m.kernel_median_us.push_back(t.median_us);
    m.kernel_min_us.push_back(t.min_us);
  }
  return m;
}

int run(const GlobalFlags& global, const Flags& f) {
  auto options = compile_options(f.compile);
  if (!options) return report(options.error());
  auto graph = load_graph(f.compile.graph);
  if (!graph) return report(graph.error());
  std::optional<MeasuredTimes> measured;
  if (f.bench) {
    auto g = bound_graph(*graph, *options, "explain --bench runs the graph");
    if (!g) return report(g.error());
    auto m = measure(global, *graph, *g, *options, f.runs);
    if (!m) return report(m.error());
    measured = std::move(*m);
  }
  auto text = explain(*graph, *options, f.format, measured ? &*measured : nullptr);
  if (!text) return report(text.error());
  std::fputs(text->c_str(), stdout);
  return kExitOk;
}

}  // namespace

Command add_explain(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("explain", "the fusion plan: kernels, fused ops and why, FLOPs and bytes");
  add_compile_flags(sub, flags->compile);
  sub->add_option("--format", flags->format, "text (default), md or json");
  CLI::Option* bench = sub->add_flag(
      "--bench", flags->bench,
      "compile for this GPU, run on random inputs and print each kernel's measured time beside "
      "its roofline (needs every dim: --dims)");
  sub->add_option("--bench-runs", flags->runs,
                  "timed samples per figure for --bench, each a batch of back-to-back launches "
                  "(default 50, after 10 warm-ups)")
      ->check(CLI::Range(1, 100000))
      ->needs(bench);
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
