#include "plan/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "plan/cost.h"

namespace jitfuse {
namespace {

void add_unique(std::vector<int>& list, int v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

FusionCheck can_fuse(const TypedGraph& g, const TypedNode& node, int kernel, const Plan& plan,
                     const std::vector<int>& home) {
  if (node.op->kind != ops::OpKind::unary) {
    return {false, fmt::format("{} is not elementwise", node.op->name)};
  }
  const Value& in = g.values[node.inputs[0]];
  if (in.producer < 0) {
    return {false, fmt::format("its input '{}' is a graph input, read from memory", in.name)};
  }
  if (home[node.inputs[0]] != kernel) {
    return {false, fmt::format("its input '{}' is computed in another kernel", in.name)};
  }
  const Shape& space = g.values[plan.kernels[kernel].space].shape;
  if (g.values[node.output].shape != space) {
    return {false, fmt::format("its shape {} differs from the kernel's {}",
                               to_string(g.values[node.output].shape), to_string(space))};
  }
  return {true, fmt::format("'{}' is computed in this kernel and stays in registers", in.name)};
}

FusionCheck should_fuse(const TypedGraph& g, const TypedNode& node) {
  const Value& in = g.values[node.inputs[0]];
  const Cost bytes = Cost::numel(in.shape) * double(2 * dtype_size(in.dtype));
  return {true, fmt::format("saves writing and re-reading '{}' ({} bytes)", in.name,
                            bytes.to_string())};
}

Plan plan_fusion(const TypedGraph& g, bool fusion) {
  Plan plan;
  plan.fusion = fusion;
  std::vector<int> home(g.values.size(), -1);  // value id -> kernel that computes it
  auto new_kernel = [&](KernelKind kind, int space) {
    KernelPlan k;
    k.kind = kind;
    k.space = space;
    k.name = fmt::format("jf_{}_{}", g.name, plan.kernels.size());
    plan.kernels.push_back(std::move(k));
    return int(plan.kernels.size()) - 1;
  };

  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const TypedNode& n = g.nodes[i];
    FusionDecision d{int(i), -1, false, {}};
    if (n.op->kind == ops::OpKind::gemm) {
      d.kernel = new_kernel(KernelKind::gemm, n.output);
      plan.kernels[d.kernel].gemm = int(i);
      d.reason = "a gemm starts a kernel; the elementwise ops after it can join its epilogue";
    } else {
      const int producer = home[n.inputs[0]];
      FusionCheck legal{false, "fusion is off (CompileOptions::fusion = false, --no-fuse or "
                               "JITFUSE_DISABLE_FUSION=1)"};
      if (fusion) legal = can_fuse(g, n, producer, plan, home);
      if (legal.ok) {
        const FusionCheck profit = should_fuse(g, n);
        d.kernel = producer;
        d.fused = true;
        d.reason = fmt::format("fused into kernel {}{}: {}; {}", producer,
                               plan.kernels[producer].kind == KernelKind::gemm ? "'s epilogue" : "",
                               legal.reason, profit.reason);
      } else {
        d.kernel = new_kernel(KernelKind::elementwise, n.output);
        d.reason = fmt::format("starts elementwise kernel {}: {}", d.kernel, legal.reason);
      }
      plan.kernels[d.kernel].ops.push_back(int(i));
    }
    home[n.output] = d.kernel;
    plan.decisions.push_back(std::move(d));
  }

  // Materialize what crosses a kernel boundary, and every graph output.
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    const Value& val = g.values[v];
    if (val.producer < 0) continue;
    const bool crosses = std::any_of(val.consumers.begin(), val.consumers.end(),
                                     [&](int c) { return plan.decisions[c].kernel != home[v]; });
    if (crosses && !val.is_output) plan.intermediates.push_back(int(v));
    if (crosses || val.is_output) add_unique(plan.kernels[home[v]].stores, int(v));
  }
  // An elementwise kernel loads, per element, every input computed outside it.
  for (std::size_t k = 0; k < plan.kernels.size(); ++k) {
    for (int op : plan.kernels[k].ops) {
      for (int in : g.nodes[op].inputs) {
        if (home[in] != int(k)) add_unique(plan.kernels[k].loads, in);
      }
    }
  }
  return plan;
}

}  // namespace jitfuse
