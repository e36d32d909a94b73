#include "plan/plan.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "graph/shapes.h"
#include "plan/cost.h"

namespace jitfuse {
namespace {

void add_unique(std::vector<int>& list, int v) {
  if (std::find(list.begin(), list.end(), v) == list.end()) list.push_back(v);
}

}  // namespace

FusionCheck can_fuse(const TypedGraph& g, const TypedNode& node, int kernel, const Plan& plan,
                     const std::vector<int>& home) {
  if (node.op->kind == ops::OpKind::gemm) return {false, "a gemm is not elementwise"};
  if (kernel < 0) return {false, "no input of it is computed in a kernel"};
  const Shape& space = g.values[plan.kernels[kernel].space].shape;
  if (g.values[node.output].shape != space) {
    return {false, fmt::format("its shape {} differs from the kernel's {}",
                               to_string(g.values[node.output].shape), to_string(space))};
  }
  std::vector<std::string> in_registers, from_memory;
  for (int in : node.inputs) {
    const Value& v = g.values[in];
    if (v.constant) continue;
    if (home[in] == kernel) {
      in_registers.push_back(fmt::format("'{}'", v.name));
      continue;
    }
    if (home[in] > kernel) {
      return {false, fmt::format("its input '{}' comes from kernel {}, which runs after kernel {}",
                                 v.name, home[in], kernel)};
    }
    DimUnifier scratch;
    std::string why;
    const auto b = broadcast(v.shape, space, scratch, why);
    if (!b || *b != space) {
      return {false, fmt::format("its input '{}' {} does not broadcast to the kernel's {}", v.name,
                                 to_string(v.shape), to_string(space))};
    }
    from_memory.push_back(fmt::format("'{}'", v.name));
  }
  if (in_registers.empty()) return {false, "none of its inputs is computed in the kernel"};
  std::string reason = fmt::format("{} {} computed in this kernel and stay{} in registers",
                                   join(in_registers, " and "), in_registers.size() == 1 ? "is" : "are",
                                   in_registers.size() == 1 ? "s" : "");
  if (!from_memory.empty()) reason += fmt::format("; it reads {} from memory", join(from_memory, " and "));
  return {true, reason};
}

FusionCheck should_fuse(const TypedGraph& g, const TypedNode& node, int kernel,
                        const std::vector<int>& home) {
  Cost bytes;
  std::vector<std::string> names;
  for (int in : node.inputs) {
    if (home[in] != kernel || g.values[in].constant) continue;
    bytes = bytes + Cost::numel(g.values[in].shape) * double(2 * dtype_size(g.dtype));
    names.push_back(fmt::format("'{}'", g.values[in].name));
  }
  return {true, fmt::format("saves writing and re-reading {} ({} bytes)", join(names, " and "),
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
      // Join the first kernel that computes one of its inputs and can take it.
      FusionCheck legal{false, "fusion is off (CompileOptions::fusion = false, --no-fuse or "
                               "JITFUSE_DISABLE_FUSION=1)"};
      int target = -1;
      if (fusion) {
        legal = {false, "none of its inputs is computed in a kernel: they are graph inputs"};
        for (int in : n.inputs) {
          if (home[in] < 0 || home[in] == target) continue;
          legal = can_fuse(g, n, home[in], plan, home);
          if (legal.ok) {
            target = home[in];
            break;
          }
        }
      }
      if (legal.ok) {
        const FusionCheck profit = should_fuse(g, n, target, home);
        d.kernel = target;
        d.fused = true;
        d.reason = fmt::format("fused into kernel {}{}: {}; {}", target,
                               plan.kernels[target].kind == KernelKind::gemm ? "'s epilogue" : "",
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
  // A kernel's fused ops load, per element, every tensor input computed outside it.
  for (std::size_t k = 0; k < plan.kernels.size(); ++k) {
    for (int op : plan.kernels[k].ops) {
      for (int in : g.nodes[op].inputs) {
        if (home[in] != int(k) && !g.values[in].constant) add_unique(plan.kernels[k].loads, in);
      }
    }
  }
  return plan;
}

}  // namespace jitfuse
