// jitfuse run GRAPH [--dims ..] [--input x=x.npy ..] [--random SEED] [--output out=out.npy ..]
//                   [--check] [--atol A --rtol R] [--bench]
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "common/text.h"
#include "commands.h"
#include "cuda/device.h"
#include "cuda/libcuda.h"
#include "cuda/timing.h"
#include "device_tensors.h"
#include "graph/typed_graph.h"
#include "io/host_tensor.h"
#include "jitfuse/reference.hpp"

namespace jitfuse::cli {
namespace {

struct Flags {
  CompileFlags compile;
  std::vector<std::string> inputs;
  std::uint64_t seed = 0;
  std::vector<std::string> outputs;
  bool check = false;
  double atol = -1, rtol = -1;
  bool bench = false;
  CLI::Option* random = nullptr;
};

using Shape64 = std::vector<std::int64_t>;

// Splits NAME=PATH items, checking NAME against `allowed`; a name given twice is an error.
Expected<std::map<std::string, std::string>> name_paths(const std::vector<std::string>& items,
                                                        const std::vector<std::string>& allowed,
                                                        const char* flag) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return make_error(ErrorCode::bad_option, fmt::format("{} \"{}\" is not NAME=FILE.npy", flag, item));
    }
    const std::string name = item.substr(0, eq);
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("{} names '{}', which is not one of {}{}", flag, name,
                                    join(allowed, ", "), did_you_mean(name, allowed)));
    }
    if (auto [it, fresh] = out.emplace(name, item.substr(eq + 1)); !fresh) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("{} names '{}' twice ({} and {}); give each once", flag, name,
                                    it->second, item.substr(eq + 1)));
    }
  }
  return out;
}

// Records the sizes an .npy input gives the graph's symbols; errors on a disagreement.
Status bind_file_shape(const Value& v, const Shape64& shape, const std::string& file,
                       std::map<std::string, std::int64_t>& dims) {
  auto mismatch = [&](std::string why) {
    Error e = make_error(ErrorCode::shape_mismatch,
                         fmt::format("input '{}' is declared {}, but the file holds shape ({}): {}", v.name,
                                     to_string(v.shape), join([&] {
                                       std::vector<std::string> s;
                                       for (auto d : shape) s.push_back(std::to_string(d));
                                       return s;
                                     }(), ", "), why));
    e.file = file;
    return e;
  };
  if (shape.size() != v.shape.size()) return mismatch("the ranks differ");
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const Dim& d = v.shape[i];
    // The launch would reject it too (bind.cpp); here it is caught before any work.
    if (shape[i] < 1) return mismatch(fmt::format("dim {} is empty; empty tensors are not supported", i));
    if (!d.is_symbolic() && d.size != shape[i]) return mismatch(fmt::format("dim {} must be {}", i, d.size));
    if (d.is_symbolic()) {
      auto [it, fresh] = dims.emplace(d.symbol, shape[i]);
      if (!fresh && it->second != shape[i]) {
        return mismatch(fmt::format("{} is already {}", d.symbol, it->second));
      }
    }
  }
  return {};
}

// The inputs read from their files, and the sizes those give the graph's symbols.
struct FileInputs {
  std::map<std::string, io::HostTensor> tensors;
  std::map<std::string, std::int64_t> dims;
};

// Reads the --input files and checks every other input can be generated (--random given,
// every dim of its shape known): all the input errors, before any GPU work.
Expected<FileInputs> read_inputs(const TypedGraph& g, const Flags& f) {
  std::vector<std::string> names;
  for (int v : g.inputs) names.push_back(g.values[v].name);
  JF_ASSIGN_OR_RETURN(auto files, name_paths(f.inputs, names, "--input"));
  FileInputs in;
  for (int v : g.inputs) {
    const Value& val = g.values[v];
    auto it = files.find(val.name);
    if (it == files.end()) continue;
    JF_ASSIGN_OR_RETURN(io::NpyArray arr, io::read_npy(it->second));
    JF_RETURN_IF_ERROR(bind_file_shape(val, arr.shape, it->second, in.dims));
    JF_ASSIGN_OR_RETURN(in.tensors[val.name], io::from_npy(arr, val.dtype, it->second));
  }
  for (int v : g.inputs) {
    const Value& val = g.values[v];
    if (in.tensors.count(val.name)) continue;
    if (!f.random->count()) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("input '{}' has no data: pass --input {}=FILE.npy, or --random SEED "
                                    "for random inputs", val.name, val.name));
    }
    JF_RETURN_IF_ERROR(io::random_input_shape(g, v, in.dims));
  }
  return in;
}

// Every input: the files' and, for the rest, random data (read_inputs checked they can be made).
Expected<std::map<std::string, io::HostTensor>> all_inputs(const TypedGraph& g, const Flags& f,
                                                           FileInputs in) {
  for (int v : g.inputs) {
    const Value& val = g.values[v];
    if (in.tensors.count(val.name)) continue;
    JF_ASSIGN_OR_RETURN(in.tensors[val.name], io::random_input(g, v, in.dims, f.seed));
  }
  return std::move(in.tensors);
}

// Checks that each --output path can be written (its directory exists and is writable, and the
// path is not a directory), so that a bad path fails before the GPU work, not after it.
Status check_output_paths(const std::map<std::string, std::string>& outputs) {
  namespace fs = std::filesystem;
  for (const auto& [name, file] : outputs) {
    auto bad = [&](std::string why) {
      Error e = make_error(ErrorCode::io, fmt::format("--output {}: {}", name, why));
      e.file = file;
      return e;
    };
    std::error_code ec;
    if (fs::is_directory(file, ec)) return bad("this is a directory; name a .npy file in it");
    const fs::path dir = fs::path(file).parent_path().empty() ? fs::path(".") : fs::path(file).parent_path();
    if (!fs::exists(dir, ec)) return bad(fmt::format("the directory {} does not exist", dir.string()));
    if (!fs::is_directory(dir, ec)) return bad(fmt::format("{} is not a directory", dir.string()));
    if (::access(dir.c_str(), W_OK) != 0) {
      return bad(fmt::format("cannot write to the directory {}: {}", dir.string(), std::strerror(errno)));
    }
  }
  return {};
}

double gemm_flops(const TypedGraph& g, const std::map<std::string, io::HostTensor>& inputs) {
  double flops = 0;
  for (const TypedNode& n : g.nodes) {
    if (n.op->kind != ops::OpKind::gemm) continue;
    const auto a = inputs.count(g.values[n.inputs[0]].name) ? inputs.at(g.values[n.inputs[0]].name).shape
                                                            : output_shape(g.values[n.inputs[0]], inputs, g);
    const auto y = output_shape(g.values[n.output], inputs, g);
    flops += 2.0 * double(a[0]) * double(a[1]) * double(y[1]);
  }
  return flops;
}

int check_outputs(const Graph& graph, const TypedGraph& g, const Flags& f,
                  const std::map<std::string, io::HostTensor>& inputs,
                  const std::map<std::string, std::vector<double>>& got) {
  std::map<std::string, HostArray> host;
  for (const auto& [name, t] : inputs) host[name] = HostArray{t.shape, t.values};
  auto want = reference_run(graph, host);
  if (!want) return report(want.error());
  const bool f32 = g.dtype == DType::f32;
  const double atol = f.atol >= 0 ? f.atol : (f32 ? 1e-4 : 1e-2);
  const double rtol = f.rtol >= 0 ? f.rtol : (f32 ? 1e-4 : 1e-2);
  bool pass = true;
  for (const auto& [name, values] : got) {
    const Comparison c = compare(values, want->at(name).data, atol, rtol);
    const bool ok = c.bad == 0;
    pass = pass && ok;
    std::printf("check %s: max abs err %.3g, max rel err %.3g, rel norm err %.3g; %lld of %zu outside "
                "atol=%g rtol=%g: %s\n", name.c_str(), c.max_abs, c.max_rel, c.rel_norm,
                static_cast<long long>(c.bad), values.size(), atol, rtol, ok ? "PASS" : "FAIL");
    if (!ok && c.first_bad >= 0) {
      std::printf("  first bad element: flat index %lld, got %.9g, want %.9g\n",
                  static_cast<long long>(c.first_bad), values[std::size_t(c.first_bad)],
                  want->at(name).data[std::size_t(c.first_bad)]);
    }
  }
  return pass ? kExitOk : kExitFailed;
}

int run(const GlobalFlags& global, const Flags& f) {
  auto options = compile_options(f.compile);
  if (!options) return report(options.error());
  auto graph = load_graph(f.compile.graph);
  if (!graph) return report(graph.error());
  auto typed = validate(*graph);
  if (!typed) return report(typed.error());
  auto g = specialize(std::move(*typed), options->dims);
  if (!g) return report(g.error());
  std::vector<std::string> out_names;
  for (int v : g->outputs) out_names.push_back(g->values[v].name);
  auto out_files = name_paths(f.outputs, out_names, "--output");
  if (!out_files) return report(out_files.error());
  if (Status s = check_output_paths(*out_files); !s.ok()) return report(s.error());
  auto files = read_inputs(*g, f);
  if (!files) return report(files.error());
  // Without a driver nothing below can run: say so before generating (maybe large) inputs.
  if (auto api = cu::api(); !api.ok()) {
    Error e = api.error();
    e.message = "run launches the graph on this machine's GPU: " + e.message;
    return report(e);
  }
  auto inputs = all_inputs(*g, f, std::move(*files));
  if (!inputs) return report(inputs.error());

  Engine engine(engine_options(global));
  auto kernel = engine.compile(*graph, *options);
  if (!kernel) return report(kernel.error());
  const Build& build = kernel->build();
  warn_not_applied(build);
  for (const auto& k : build.kernels) {
    const std::string entry = cache_entry_status(k);
    std::printf("%s: %s%s\n", k.name.c_str(), cache_outcome(k).c_str(),
                entry.empty() ? "" : fmt::format(" ({})", entry).c_str());
  }
  // The engine uses device 0's primary context; our buffers live there too.
  auto gpu = cu::Device::open(0);
  if (!gpu) return report(gpu.error());
  if (Status s = (*gpu)->make_current(); !s.ok()) return report(s.error());
  std::printf("running on %s\n", (*gpu)->name().c_str());
  auto device = upload(*g, *inputs);
  if (!device) return report(device.error());
  if (Status s = kernel->launch(device->map); !s.ok()) return report(s.error());
  if (Status s = cu::synchronize(); !s.ok()) return report(s.error());
  std::map<std::string, std::vector<double>> got;
  for (const auto& name : out_names) {
    const Tensor& t = device->map.at(name);
    std::vector<std::byte> bytes(device->buffers.at(name).size());
    if (Status s = cu::copy_to_host(bytes.data(), device->buffers.at(name).ptr(), bytes.size()); !s.ok()) {
      return report(s.error());
    }
    if (auto it = out_files->find(name); it != out_files->end()) {
      if (Status s = io::write_npy(it->second, io::to_npy(t.dtype, t.shape, bytes)); !s.ok()) return report(s.error());
      std::printf("wrote %s %s\n", name.c_str(), it->second.c_str());
    }
    got[name] = io::decode(t.dtype, bytes);
  }
  int code = kExitOk;
  if (f.check) code = check_outputs(*graph, *g, f, *inputs, got);
  if (f.bench) {
    auto launch = [&]() -> Status { return kernel->launch(device->map); };
    auto timing = cu::time_events(launch, nullptr, 10, 50);
    if (!timing) return report(timing.error());
    const double flops = gemm_flops(*g, *inputs);
    std::printf("bench: median %.1f us (min %.1f, p90 %.1f) over %d runs", timing->median_us,
                timing->min_us, timing->p90_us, timing->runs);
    if (flops > 0) std::printf(", %.1f TFLOP/s", flops / (timing->median_us * 1e-6) / 1e12);
    std::printf("\n");
  }
  if (f.bench || global.verbose) {
    const EngineStats s = engine.stats();
    std::printf("cache: %llu memory hits, %llu disk hits, %llu compiled (%.1f ms NVRTC), %llu corrupt\n",
                static_cast<unsigned long long>(s.memory_hits), static_cast<unsigned long long>(s.disk_hits),
                static_cast<unsigned long long>(s.misses), s.compile_ms,
                static_cast<unsigned long long>(s.corrupt_entries));
  }
  return code;
}

}  // namespace

Command add_run(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("run", "compile and run a graph on the GPU; check, save, benchmark");
  add_compile_flags(sub, flags->compile);
  sub->add_option("--input", flags->inputs, "an input from a .npy file: NAME=FILE (repeatable)");
  flags->random = sub->add_option("--random", flags->seed, "random inputs from this seed, for inputs without --input");
  sub->add_option("--output", flags->outputs, "save an output: NAME=FILE.npy (repeatable)");
  sub->add_flag("--check", flags->check, "compare with the float64 CPU reference");
  sub->add_option("--atol", flags->atol, "absolute tolerance for --check (default 1e-4 for f32, 1e-2 for f16/bf16)");
  sub->add_option("--rtol", flags->rtol, "relative tolerance for --check (same defaults)");
  sub->add_flag("--bench", flags->bench, "time the kernel with CUDA events (median of 50 after 10 warm-ups)");
  return {sub, [&global, flags] { return run(global, *flags); }};
}

}  // namespace jitfuse::cli
