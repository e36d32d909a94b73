#include "plan/explain.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace jitfuse {
namespace {

std::vector<std::string> names(const TypedGraph& g, const std::vector<int>& values) {
  std::vector<std::string> out;
  for (int v : values) out.push_back(g.values[v].name);
  return out;
}

std::vector<int> reads(const TypedGraph& g, const KernelPlan& k) {
  std::vector<int> r = k.loads;
  if (k.gemm >= 0) r.insert(r.begin(), g.nodes[k.gemm].inputs.begin(), g.nodes[k.gemm].inputs.end());
  return r;
}

}  // namespace

std::optional<double> total_floor_us(const TypedGraph& g, const Plan& plan, const DevicePeaks& peaks,
                                     MathMode math) {
  double sum = 0;
  for (const KernelPlan& k : plan.kernels) {
    const auto r = roofline(g, k, peaks, math);
    if (!r) return std::nullopt;
    sum += r->floor_us();
  }
  return sum;
}

std::string op_call(const TypedGraph& g, const TypedNode& n) {
  std::vector<std::string> args;
  for (int in : n.inputs) {
    const Value& v = g.values[in];
    args.push_back(v.constant ? number_text(*v.constant) : v.name);
  }
  std::string attrs;
  for (const auto& [k, v] : n.attrs.numbers) attrs += fmt::format(", {}={}", k, number_text(v));
  for (const auto& [k, v] : n.attrs.choices) attrs += fmt::format(", {}=\"{}\"", k, v);
  return fmt::format("{}({}{})", n.op->name, join(args, ", "), attrs);
}

std::string amount(const Cost& c, const std::map<std::string, std::int64_t>& dims, const char* unit,
                   int decimals) {
  const auto v = c.evaluate(dims);
  if (!v) return fmt::format("{} {}", c.to_string(), unit);
  const double x = *v;
  if (x >= 1e9) return fmt::format("{:.{}f} G{}", x / 1e9, decimals, unit);
  if (x >= 1e6) return fmt::format("{:.{}f} M{}", x / 1e6, decimals, unit);
  if (x >= 1e3) return fmt::format("{:.{}f} k{}", x / 1e3, decimals, unit);
  return fmt::format("{:.0f} {}", x, unit);
}

KernelCost kernel_cost(const TypedGraph& g, const KernelPlan& k) {
  const double elem = double(dtype_size(g.dtype));
  const Cost space = Cost::numel(g.values[k.space].shape);
  KernelCost c;
  if (k.gemm >= 0) {
    const TypedNode& gemm = g.nodes[k.gemm];
    const Shape& a = g.values[gemm.inputs[0]].shape;
    c.flops = space * Cost::numel({a[1]}) * 2.0;
    if (gemm.inputs.size() == 3) c.flops = c.flops + space;
  }
  for (int op : k.ops) c.flops = c.flops + space * g.nodes[op].op->flops_per_element;
  for (int v : reads(g, k)) c.bytes = c.bytes + Cost::numel(g.values[v].shape) * elem;
  for (int v : k.stores) c.bytes = c.bytes + Cost::numel(g.values[v].shape) * elem;
  return c;
}

std::optional<Roofline> roofline(const TypedGraph& g, const KernelPlan& k, const DevicePeaks& peaks,
                                 MathMode math) {
  const KernelCost c = kernel_cost(g, k);
  const auto flops = c.flops.evaluate(g.specialized);
  const auto bytes = c.bytes.evaluate(g.specialized);
  if (!flops || !bytes) return std::nullopt;
  Roofline r;
  r.rate_tflops = k.kind == KernelKind::gemm ? gemm_rate(peaks, g.dtype, math) : peaks.fp32_tflops;
  r.compute_us = *flops / (r.rate_tflops * 1e12) * 1e6;
  r.memory_us = *bytes / (peaks.mem_tbps * 1e12) * 1e6;
  return r;
}

std::string measured_vs_roofline(double median_us, double min_us, std::optional<double> floor_us) {
  std::string out = fmt::format("measured {:.1f} us, min {:.1f} us", median_us, min_us);
  if (!floor_us) return out + " (no roofline: bind the dims)";
  return out + fmt::format(" (roofline {:.1f} us, {:.0f}%)", *floor_us, *floor_us / median_us * 100);
}

std::vector<std::vector<const FusionDecision*>> decisions_by_kernel(const Plan& plan) {
  std::vector<std::vector<const FusionDecision*>> out(plan.kernels.size());
  for (const FusionDecision& d : plan.decisions) {
    if (d.kernel >= 0 && std::size_t(d.kernel) < out.size()) out[std::size_t(d.kernel)].push_back(&d);
  }
  return out;
}

std::string explain_text(const TypedGraph& g, const Plan& plan, const ExplainContext& ctx) {
  std::string out = fmt::format("graph '{}': dtype {}", g.name, to_string(g.dtype));
  if (g.dtype == DType::f32) out += fmt::format(", math {}", to_string(ctx.math));
  out += ctx.arch.empty() ? ", arch not chosen\n" : fmt::format(", arch {}\n", ctx.arch);
  const MeasuredTimes* m = ctx.measured;
  const DevicePeaks peaks = peaks_for(ctx.gpu, ctx.arch);
  if (m) {
    out += fmt::format("  measured on {}: per launch, median of {} timed batches (CUDA events); "
                       "roofline from the {} ceilings ({}), {:.1f} TB/s\n",
                       m->gpu, m->runs, peaks.name, peaks.source, peaks.mem_tbps);
  }
  for (const auto& [s, v] : g.specialized) out += fmt::format("  {} = {} (baked in)\n", s, v);
  for (const auto& s : g.symbols()) out += fmt::format("  {} bound at run time\n", s);
  for (int v : g.inputs) {
    out += fmt::format("  input  {} {} {}\n", g.values[v].name, to_string(g.dtype), to_string(g.values[v].shape));
  }
  for (int v : g.outputs) {
    out += fmt::format("  output {} {} {}\n", g.values[v].name, to_string(g.dtype), to_string(g.values[v].shape));
  }
  out += fmt::format("\n{} kernel{} (fusion {})\n", plan.kernels.size(),
                     plan.kernels.size() == 1 ? "" : "s", plan.fusion ? "on" : "off");
  const auto decisions = decisions_by_kernel(plan);
  for (std::size_t i = 0; i < plan.kernels.size(); ++i) {
    const KernelPlan& k = plan.kernels[i];
    out += fmt::format("\nkernel {}: {} ({})\n", i, k.name,
                       k.kind == KernelKind::gemm
                           ? fmt::format("gemm + {}-op epilogue", k.ops.size())
                           : fmt::format("elementwise, {} op{}", k.ops.size(), k.ops.size() == 1 ? "" : "s"));
    if (ctx.sources) out += fmt::format("  template: {}\n", (*ctx.sources)[i].config);
    for (const FusionDecision* d : decisions[i]) {
      out += fmt::format("  {} = {}\n      {}\n", g.nodes[d->node].name, op_call(g, g.nodes[d->node]), d->reason);
    }
    const KernelCost c = kernel_cost(g, k);
    out += fmt::format("  reads {}; writes {}\n", join(names(g, reads(g, k)), ", "),
                       join(names(g, k.stores), ", "));
    out += fmt::format("  FLOPs: {}\n  minimum bytes moved: {}\n", amount(c.flops, g.specialized, "FLOP", 3),
                       amount(c.bytes, g.specialized, "B", 3));
    if (m && i < m->kernel_median_us.size()) {
      const auto r = roofline(g, k, peaks, ctx.math);
      out += "  " + measured_vs_roofline(m->kernel_median_us[i], m->kernel_min_us[i],
                                         r ? std::optional(r->floor_us()) : std::nullopt) + "\n";
    }
  }
  if (m && plan.kernels.size() > 1) {
    out += fmt::format("\nall {} kernels, one launch: {}\n", plan.kernels.size(),
                       measured_vs_roofline(m->total_median_us, m->total_min_us,
                                            total_floor_us(g, plan, peaks, ctx.math)));
  }
  if (!plan.intermediates.empty()) {
    out += fmt::format("\nintermediates kept in scratch memory: {}\n",
                       join(names(g, plan.intermediates), ", "));
  }
  return out;
}

std::string explain_json(const TypedGraph& g, const Plan& plan, const ExplainContext& ctx) {
  const DevicePeaks peaks = peaks_for(ctx.gpu, ctx.arch);
  nlohmann::ordered_json j;
  j["graph"] = g.name;
  j["dtype"] = std::string(to_string(g.dtype));
  j["math"] = std::string(to_string(ctx.math));
  j["arch"] = ctx.arch;
  j["fusion"] = plan.fusion;
  j["dims"] = g.specialized;
  j["runtime_dims"] = g.symbols();
  j["kernels"] = nlohmann::ordered_json::array();
  const auto decisions = decisions_by_kernel(plan);
  for (std::size_t i = 0; i < plan.kernels.size(); ++i) {
    const KernelPlan& k = plan.kernels[i];
    const KernelCost c = kernel_cost(g, k);
    nlohmann::ordered_json jk;
    jk["name"] = k.name;
    jk["kind"] = k.kind == KernelKind::gemm ? "gemm" : "elementwise";
    if (ctx.sources) jk["template"] = (*ctx.sources)[i].config;
    jk["ops"] = nlohmann::ordered_json::array();
    for (const FusionDecision* d : decisions[i]) {
      jk["ops"].push_back({{"node", g.nodes[d->node].name},
                           {"op", std::string(g.nodes[d->node].op->name)},
                           {"fused", d->fused},
                           {"reason", d->reason}});
    }
    jk["reads"] = names(g, reads(g, k));
    jk["writes"] = names(g, k.stores);
    jk["flops"] = c.flops.to_string();
    jk["bytes"] = c.bytes.to_string();
    if (auto f = c.flops.evaluate(g.specialized)) jk["flops_value"] = *f;
    if (auto b = c.bytes.evaluate(g.specialized)) jk["bytes_value"] = *b;
    if (ctx.measured && i < ctx.measured->kernel_median_us.size()) {
      if (const auto r = roofline(g, k, peaks, ctx.math)) jk["roofline_us"] = r->floor_us();
      jk["measured_median_us"] = ctx.measured->kernel_median_us[i];
      jk["measured_min_us"] = ctx.measured->kernel_min_us[i];
    }
    j["kernels"].push_back(std::move(jk));
  }
  if (const MeasuredTimes* m = ctx.measured) {
    nlohmann::ordered_json jm;
    jm["gpu"] = m->gpu;
    jm["runs"] = m->runs;
    jm["ceilings"] = peaks.name + " (" + peaks.source + ")";
    jm["total_median_us"] = m->total_median_us;
    jm["total_min_us"] = m->total_min_us;
    if (const auto floor = total_floor_us(g, plan, peaks, ctx.math)) jm["total_roofline_us"] = *floor;
    j["measured"] = std::move(jm);
  }
  j["intermediates"] = names(g, plan.intermediates);
  return j.dump(2) + "\n";
}

}  // namespace jitfuse
