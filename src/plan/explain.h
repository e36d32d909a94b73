// explain: a Plan (and, when compiled, its kernel sources) -> the report `jitfuse explain`
// prints: each kernel, each op and why it landed there, FLOPs and bytes.
#pragma once

#include <string>
#include <vector>

#include "codegen/emit.h"
#include "plan/cost.h"
#include "plan/plan.h"

namespace jitfuse {

// What a kernel must do at minimum.
struct KernelCost {
  Cost flops;
  Cost bytes;  // every input read once, every output written once
};

// The FLOPs and minimum bytes of kernel `k`.
KernelCost kernel_cost(const TypedGraph& g, const KernelPlan& k);

// What the report says beyond the plan.
struct ExplainContext {
  std::string arch;                        // "" when unknown
  MathMode math = MathMode::ieee;
  const std::vector<KernelSource>* sources = nullptr;  // template choices, when generated
  std::string gpu;                         // the current GPU's name, when there is one
};

// The report as text.
std::string explain_text(const TypedGraph& g, const Plan& plan, const ExplainContext& ctx);
// The same as JSON.
std::string explain_json(const TypedGraph& g, const Plan& plan, const ExplainContext& ctx);
// The document a reviewer wants, in Markdown: each kernel and op and why, FLOPs, bytes and the
// roofline time they imply, the bytes fusion saves, accuracy and trade-offs (explain_md.cpp).
std::string explain_markdown(const TypedGraph& g, const Plan& plan, const ExplainContext& ctx);
// Bytes that fusion keeps in registers: each value computed in a kernel and not stored would be
// written and read back if its consumers were separate kernels.
Cost bytes_saved(const TypedGraph& g, const Plan& plan);

}  // namespace jitfuse
