// explain: a Plan (and, when compiled, its kernel sources) -> the report `jitfuse explain`
// prints: each kernel, each op and why it landed there, FLOPs and bytes.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "codegen/emit.h"
#include "plan/cost.h"
#include "plan/plan.h"
#include "plan/roofline.h"

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

// Each kernel's fusion decisions, in node order, gathered in one pass: a report that scanned
// every decision per kernel took minutes on a graph of many small kernels (200,000: 3 minutes).
std::vector<std::vector<const FusionDecision*>> decisions_by_kernel(const Plan& plan);

// What the report says beyond the plan.
struct ExplainContext {
  std::string arch;                        // "" when unknown
  MathMode math = MathMode::ieee;
  const std::vector<KernelSource>* sources = nullptr;  // template choices, when generated
  std::string gpu;                         // the current GPU's name, when there is one
  const MeasuredTimes* measured = nullptr; // explain --bench: kernel times measured on `gpu`
};

// The floors a kernel's FLOPs and bytes set on a GPU.
struct Roofline {
  double rate_tflops = 0;  // the arithmetic ceiling that applies (tensor cores, FFMA)
  double compute_us = 0, memory_us = 0;
  double floor_us() const { return std::max(compute_us, memory_us); }
};
// Kernel k's floors on `peaks`, or nullopt while a dim is unbound.
std::optional<Roofline> roofline(const TypedGraph& g, const KernelPlan& k, const DevicePeaks& peaks,
                                 MathMode math);
// The sum of every kernel's roofline floor, or nullopt while a dim is unbound.
std::optional<double> total_floor_us(const TypedGraph& g, const Plan& plan, const DevicePeaks& peaks,
                                     MathMode math);
// "measured 412.3 us, min 410.1 us (roofline 344.0 us, 83%)": the share of the roofline's speed
// a measured time reaches.
std::string measured_vs_roofline(double median_us, double min_us, std::optional<double> floor_us);

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
