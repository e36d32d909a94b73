// The pipeline, top to bottom:
//   validate -> specialize -> plan_fusion -> emit_source -> key -> cache lookup -> nvrtc
//   -> store -> load -> Kernel
// Each step is a function from one plain value to the next; Trace times and dumps them.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "cache/key.h"
#include "cache/maintenance.h"
#include "common/log.h"
#include "common/text.h"
#include "engine/engine_impl.h"
#include "engine/trace.h"
#include "engine/tune.h"
#include "nvrtc/nvrtc.h"
#include "plan/explain.h"

namespace jitfuse {
namespace {

bool fusion_disabled_by_env() {
  const char* v = std::getenv("JITFUSE_DISABLE_FUSION");
  return v && *v && std::string_view(v) != "0";
}

// The arch to compile for: the caller's, else the GPU's (with the "a" features on sm_90+).
Expected<Arch> resolve_arch(const std::string& requested, Engine::Impl& engine) {
  if (!requested.empty()) {
    JF_ASSIGN_OR_RETURN(Arch arch, parse_arch(requested));
    JF_RETURN_IF_ERROR(check_arch(arch));
    return arch;
  }
  auto device = engine.open_device();
  if (!device.ok()) {
    return make_error(ErrorCode::bad_option,
                      fmt::format("no arch was given and there is no GPU to take it from ({}); "
                                  "pass one, e.g. --arch sm_90a (see `jitfuse archs`)",
                                  device.error().message));
  }
  Arch arch{(*device)->cc_major() * 10 + (*device)->cc_minor(), false};
  if (arch.sm >= 90) {
    Arch specific{arch.sm, true};
    if (check_arch(specific).ok()) return specific;
  }
  JF_RETURN_IF_ERROR(check_arch(arch));
  return arch;
}

// What explain_text needs from a build.
ExplainContext plan_context(const Arch& arch, MathMode math, const std::vector<KernelSource>* sources) {
  ExplainContext ctx;
  ctx.arch = arch.name();
  ctx.math = math;
  ctx.sources = sources;
  return ctx;
}

std::string describe_graph(const TypedGraph& g) {
  std::string out = fmt::format("graph {} ({})\n", g.name, to_string(g.dtype));
  for (const Value& v : g.values) {
    out += fmt::format("  {} {}{}\n", v.name, to_string(v.shape),
                       v.producer < 0 ? " input" : (v.is_output ? " output" : ""));
  }
  for (const TypedNode& n : g.nodes) out += fmt::format("  node {} = {}\n", n.name, n.op->name);
  return out;
}

// Reads `key`'s disk entry; a corrupt one is counted and reported once.
std::optional<CacheEntry> disk_lookup(Engine::Impl& e, const CacheKey& key, bool count_corrupt) {
  CacheLookup found = e.disk->load(key);
  if (!found.corrupt.empty() && count_corrupt) {
    std::lock_guard lock(e.mu);
    ++e.stats.corrupt_entries;
    if (e.reported.insert(e.disk->path(key).string()).second) {
      log::warn(fmt::format("cache entry {} is corrupt ({}); recompiling and replacing it",
                            e.disk->path(key).string(), found.corrupt));
    }
  }
  return std::move(found.entry);
}

// Memory, then disk, then NVRTC (and store). Counts what happened.
Expected<KernelArtifact> find_or_compile(Engine::Impl& e, const KernelSource& src, const std::string& graph,
                                         const Arch& arch, const NvrtcVersion& nvrtc,
                                         const std::vector<std::string>& options, const CacheKey& key,
                                         Trace& trace) {
  KernelArtifact art;
  art.name = src.name;
  art.source = src.code;
  art.config = src.config;
  art.not_applied = src.not_applied;
  art.math = src.math;
  art.cache_key = key.digest;
  art.headers = src.includes;
  if (e.disk) art.cache_file = e.disk->path(key).string();
  {
    std::lock_guard lock(e.mu);
    if (auto it = e.memory.find(key.digest); it != e.memory.end()) {
      ++e.stats.memory_hits;
      art.cubin = it->second->cubin;
      art.ptx = it->second->ptx;
      art.cache_status = "memory";
      trace.after("cache", [&] { return "memory hit " + key.digest; });
      log::debug(fmt::format("cache: memory hit for {}", src.name));
      return art;
    }
  }
  std::optional<CacheEntry> entry;
  KeyLock compiling;
  if (e.disk) {
    entry = disk_lookup(e, key, true);
    if (!entry) {
      // Another process may be compiling this key: wait for its lock, then look again.
      compiling = e.disk->lock(key, src.name);
      if (compiling.held()) entry = disk_lookup(e, key, false);
    }
  }
  if (entry) {
    art.cache_status = "disk";
    log::debug(fmt::format("cache: disk hit for {} ({})", src.name, art.cache_file));
    trace.after("cache", [&] { return "disk hit " + art.cache_file; });
  } else {
    log::debug(fmt::format("cache: miss for {}; compiling for {} with NVRTC", src.name, arch.name()));
    trace.after("cache", [&] { return "miss " + key.digest; });
    JF_ASSIGN_OR_RETURN(Compiled c, nvrtc_compile(src, options));
    art.compile_ms = c.ms;
    art.cache_status = "compiled";
    log::debug(fmt::format("nvrtc: compiled {} in {:.1f} ms ({} bytes of cubin)", src.name, c.ms,
                           c.cubin.size()));
    trace.after("nvrtc", [&] { return fmt::format("{:.1f} ms\n{}", c.ms, c.log); });
    entry = CacheEntry{std::move(c.cubin), std::move(c.ptx),
                       EntryInfo{graph, src.name, arch.name(), nvrtc.tag(), std::int64_t(::time(nullptr)), c.ms,
                                 src.dims, src.math}};
    if (e.disk) {
      if (Status s = e.disk->store(key, *entry); !s.ok()) {
        art.store_error = s.error().to_string();
        std::lock_guard lock(e.mu);
        if (e.reported.insert(e.disk->dir().string()).second) {
          log::warn(fmt::format("cannot write to the kernel cache, so kernels will be recompiled "
                                "next time: {}", s.error().to_string()));
        }
      } else {
        art.stored = true;
        std::lock_guard lock(e.mu);
        e.stats.bytes_written += entry->cubin.size() + entry->ptx.size();
      }
      trace.after("store", [&] { return art.cache_file; });
    }
  }
  art.cubin = entry->cubin;
  art.ptx = entry->ptx;
  std::lock_guard lock(e.mu);
  if (art.cache_status == "disk") {
    ++e.stats.disk_hits;
    e.stats.saved_ms += entry->info.compile_ms;
    e.stats.bytes_read += entry->cubin.size() + entry->ptx.size();
  } else {
    ++e.stats.misses;
    e.stats.compile_ms += art.compile_ms;
  }
  e.memory.emplace(key.digest, std::make_shared<const CacheEntry>(std::move(*entry)));
  return art;
}

}  // namespace

std::string_view version() { return JITFUSE_VERSION; }

std::string_view to_string(MathMode mode) {
  switch (mode) {
    case MathMode::ieee: return "ieee";
    case MathMode::tf32: return "tf32";
    case MathMode::tf32x3: return "tf32x3";
    case MathMode::bf16x3: return "bf16x3";
    case MathMode::automatic: return "auto";
  }
  return "?";
}

std::optional<MathMode> parse_math_mode(std::string_view name) {
  if (name == "ieee") return MathMode::ieee;
  if (name == "tf32") return MathMode::tf32;
  if (name == "tf32x3") return MathMode::tf32x3;
  if (name == "bf16x3") return MathMode::bf16x3;
  if (name == "auto") return MathMode::automatic;
  return std::nullopt;
}

Expected<std::shared_ptr<cu::Device>> Engine::Impl::open_device() {
  std::lock_guard lock(mu);
  if (!device) {
    JF_ASSIGN_OR_RETURN(device, cu::Device::open(options.device));
  }
  return device;
}

Expected<Built> Engine::Impl::build(const Graph& graph, const CompileOptions& options) {
  Trace trace;
  Built out;
  JF_ASSIGN_OR_RETURN(TypedGraph typed, validate(graph));
  trace.after("validate", [&] { return describe_graph(typed); });
  JF_ASSIGN_OR_RETURN(out.graph, specialize(std::move(typed), options.dims));
  trace.after("specialize", [&] { return describe_graph(out.graph); });
  JF_ASSIGN_OR_RETURN(GemmChoice gemm, parse_gemm_choice(options.gemm));
  JF_ASSIGN_OR_RETURN(Arch arch, resolve_arch(options.arch, *this));
  JF_ASSIGN_OR_RETURN(NvrtcVersion nvrtc, nvrtc_version());
  trace.after("arch", [&] { return arch.name() + " with " + nvrtc.tag(); });
  out.plan = plan_fusion(out.graph, options.fusion && !fusion_disabled_by_env());
  const MathMode math = resolve_math(out.graph, out.plan, arch, options.math);
  trace.after("plan", [&] { return explain_text(out.graph, out.plan, plan_context(arch, math, nullptr)); });

  // The kernels' sources: first as the heuristic alone generates them, which is what a `jitfuse
  // tune` record is keyed by, then again only if a choice (the caller's or a record's) differs.
  std::vector<KernelSource> emitted;
  auto emit_all = [&](const GemmChoice& choice) -> Status {
    emitted.clear();
    for (std::size_t i = 0; i < out.plan.kernels.size(); ++i) {
      JF_ASSIGN_OR_RETURN(KernelSource s, emit_source(out.graph, out.plan, int(i), {arch, math, choice}));
      emitted.push_back(std::move(s));
    }
    return {};
  };
  JF_RETURN_IF_ERROR(emit_all({}));
  std::vector<std::string> codes;
  for (const KernelSource& s : emitted) codes.push_back(s.code);
  out.build.tune_key = tune_key(codes);
  // A record for this exact problem applies when the caller left the choice to us.
  const bool any_gemm = std::any_of(out.plan.kernels.begin(), out.plan.kernels.end(),
                                    [](const KernelPlan& k) { return k.kind == KernelKind::gemm; });
  if (gemm.is_auto() && disk && any_gemm) {
    auto record = load_tune_record(disk->dir(), out.build.tune_key);
    if (!record.ok()) {
      std::lock_guard lock(mu);
      if (reported.insert(record.error().file).second) {
        log::warn(record.error().to_string() + "; using the heuristic");
      }
    } else if (*record) {
      if (auto choice = parse_gemm_choice((*record)->gemm); choice.ok()) {
        gemm = *choice;
        out.build.tuned_gemm = (*record)->gemm;
        trace.after("tune", [&] { return fmt::format("record {}: gemm {}", out.build.tune_key, (*record)->gemm); });
      }
    }
  }
  if (!gemm.is_auto()) JF_RETURN_IF_ERROR(emit_all(gemm));
  out.build.graph_name = out.graph.name;
  out.build.arch = arch.name();
  out.build.math = math;
  const std::vector<std::string> nvrtc_opts = nvrtc_options(arch);
  for (KernelSource& src : emitted) {
    trace.after("emit", [&] { return src.code; });
    const CacheKey key = make_key(src, arch, nvrtc_opts, nvrtc);
    trace.after("key", [&] { return key.digest + " " + key.file_name; });
    JF_ASSIGN_OR_RETURN(KernelArtifact art, find_or_compile(*this, src, out.graph.name, arch, nvrtc,
                                                            nvrtc_opts, key, trace));
    out.build.kernels.push_back(std::move(art));
    out.sources.push_back(std::move(src));
  }
  out.build.explain = explain_text(out.graph, out.plan, plan_context(arch, math, &out.sources));
  return out;
}

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  std::optional<std::filesystem::path> dir = impl_->options.cache_dir;
  if (!dir) dir = default_cache_dir();
  if (impl_->options.disk_cache && dir) impl_->disk.emplace(*dir);
}

Engine::~Engine() {
  // Leave this process's counters in the directory's journal, for `jitfuse cache stats`.
  const EngineStats& s = impl_->stats;
  if (impl_->disk && (s.memory_hits || s.disk_hits || s.misses)) {
    (void)append_stats(impl_->disk->dir(), s);
  }
}

Expected<Build> Engine::build(const Graph& graph, const CompileOptions& options) {
  JF_ASSIGN_OR_RETURN(Built b, impl_->build(graph, options));
  return std::move(b.build);
}

Expected<Kernel> Engine::compile(const Graph& graph, const CompileOptions& options) {
  JF_ASSIGN_OR_RETURN(auto device, impl_->open_device());
  JF_ASSIGN_OR_RETURN(Built built, impl_->build(graph, options));
  Trace trace;
  auto k = std::make_shared<Kernel::Impl>();
  k->device = device;
  for (std::size_t i = 0; i < built.sources.size(); ++i) {
    const KernelArtifact& art = built.build.kernels[i];
    std::shared_ptr<cu::Module> mod;
    {
      std::lock_guard lock(impl_->mu);
      if (auto it = impl_->modules.find(art.cache_key); it != impl_->modules.end()) mod = it->second;
    }
    if (!mod) {
      JF_ASSIGN_OR_RETURN(mod, cu::Module::load(device, art.cubin, art.name,
                                                built.sources[i].launch.smem_bytes));
      std::lock_guard lock(impl_->mu);
      impl_->modules.emplace(art.cache_key, mod);
    }
    trace.after("load", [&] {
      return fmt::format("{} on {}: {} registers/thread", art.name, device->name(), mod->registers());
    });
    // Stream-K's flags and partial tiles, for the largest grid: allocated here, not at launch,
    // so that the first launch may be captured into a CUDA graph.
    cu::DeviceBuffer scratch;
    std::size_t part_offset = 0;
    if (const LaunchConfig& launch = built.sources[i].launch; launch.stream_k) {
      const int cm = launch.cluster_ctas();
      JF_ASSIGN_OR_RETURN(const int resident, mod->resident_clusters(cm, launch.threads));
      const StreamKLayout layout = stream_k_layout(launch, std::int64_t(resident) * cm);
      JF_ASSIGN_OR_RETURN(const cu::Api* cu, cu::api());
      cu::ScopedContext scope(cu, device->context());
      JF_RETURN_IF_ERROR(scope.status());
      JF_ASSIGN_OR_RETURN(scratch, cu::DeviceBuffer::alloc(layout.bytes));
      JF_RETURN_IF_ERROR(cu::fill_bytes(scratch.ptr(), 0, layout.part_offset));  // the flags
      part_offset = layout.part_offset;
    }
    k->stream_k.push_back(std::move(scratch));
    k->stream_k_part.push_back(part_offset);
    k->x3.emplace_back();
    k->modules.push_back(std::move(mod));
  }
  k->built = std::move(built);
  return Kernel(std::move(k));
}

EngineStats Engine::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::filesystem::path Engine::cache_dir() const {
  return impl_->disk ? impl_->disk->dir() : std::filesystem::path();
}

Expected<std::string> explain(const Graph& graph, const CompileOptions& options,
                              std::string_view format, const MeasuredTimes* measured) {
  if (format != "text" && format != "json" && format != "md") {
    return make_error(ErrorCode::bad_option,
                      fmt::format("explain format must be \"text\", \"md\" or \"json\", got \"{}\"", format));
  }
  JF_ASSIGN_OR_RETURN(const GemmChoice gemm, parse_gemm_choice(options.gemm));
  JF_ASSIGN_OR_RETURN(TypedGraph typed, validate(graph));
  JF_ASSIGN_OR_RETURN(typed, specialize(std::move(typed), options.dims));
  const Plan plan = plan_fusion(typed, options.fusion && !fusion_disabled_by_env());
  if (measured && (measured->kernel_median_us.size() != plan.kernels.size() ||
                   measured->kernel_min_us.size() != plan.kernels.size())) {
    return make_error(ErrorCode::bad_option,
                      fmt::format("explain: {} measured kernel times for a plan of {} kernels",
                                  measured->kernel_median_us.size(), plan.kernels.size()));
  }
  ExplainContext ctx;
  ctx.math = options.math;
  ctx.measured = measured;
  std::vector<KernelSource> sources;
  // The template choice needs an arch; without one (and no GPU) explain the plan alone.
  Engine::Impl probe;
  if (auto arch = resolve_arch(options.arch, probe); arch.ok()) {
    ctx.arch = arch->name();
    ctx.math = resolve_math(typed, plan, *arch, options.math);
    if (probe.device) ctx.gpu = probe.device->name();
    if (measured) ctx.gpu = measured->gpu;
    for (std::size_t i = 0; i < plan.kernels.size(); ++i) {
      JF_ASSIGN_OR_RETURN(KernelSource s, emit_source(typed, plan, int(i), {*arch, ctx.math, gemm}));
      sources.push_back(std::move(s));
    }
    ctx.sources = &sources;
  } else if (!options.arch.empty()) {
    return arch.error();
  }
  if (format == "json") return explain_json(typed, plan, ctx);
  if (format == "md") return explain_markdown(typed, plan, ctx);
  return explain_text(typed, plan, ctx);
}

Expected<std::vector<std::string>> supported_archs() {
  JF_ASSIGN_OR_RETURN(auto archs, nvrtc_archs());
  std::vector<std::string> names;
  for (const Arch& a : archs) names.push_back(a.name());
  return names;
}

}  // namespace jitfuse
