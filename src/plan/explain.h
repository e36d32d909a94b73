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

// "gelu(h, approximate=\"none\")": a node's op, inputs (literals as numbers) and attributes.
std::string op_call(const TypedGraph& g, const TypedNode& n);
// A cost with a G/M/k prefix ("275.079 GFLOP"), or the polynomial when dims are unbound.
std::string amount(const Cost& c, const std::map<std::string, std::int64_t>& dims, const char* unit,
                   int decimals);

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
