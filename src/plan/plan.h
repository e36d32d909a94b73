// plan_fusion: TypedGraph -> Plan. Decides which nodes share a kernel. A gemm starts a kernel
// and the elementwise nodes after it join its epilogue; an elementwise chain reading memory
// becomes one elementwise kernel. Every decision carries its reason.
#pragma once

#include <string>
#include <vector>

#include "graph/typed_graph.h"

namespace jitfuse {

enum class KernelKind { gemm, elementwise };

// One kernel of a plan: a root (a gemm, or elementwise loads) and the ops fused after it.
struct KernelPlan {
  std::string name;        // the CUDA function name, jf_<graph>_<index>
  KernelKind kind = KernelKind::elementwise;
  int gemm = -1;           // node index of the gemm, for gemm kernels
  std::vector<int> ops;    // elementwise node indices in topological order
  std::vector<int> loads;  // value ids the fused ops read from memory, first-use order
  std::vector<int> stores; // value ids the kernel writes: graph outputs and intermediates
  int space = -1;          // the value whose shape is the kernel's iteration space
};

// Whether a node may or should join a kernel, and why.
struct FusionCheck {
  bool ok = false;
  std::string reason;
};

// Why a node landed where it did.
struct FusionDecision {
  int node = -1;     // node index
  int kernel = -1;   // kernel index
  bool fused = false;
  std::string reason;
};

// The whole plan.
struct Plan {
  std::vector<KernelPlan> kernels;        // in launch order
  std::vector<FusionDecision> decisions;  // one per node, in node order
  std::vector<int> intermediates;         // values kept in scratch memory between kernels
  bool fusion = true;
};

// Legality: can elementwise `node` run inside kernel `kernel`? Its shape must be the kernel's;
// an input must be in registers there, a constant, or readable from memory (a graph input or
// an earlier kernel's result) with a shape that broadcasts to the kernel's. `home` maps each
// value id to the kernel computing it (-1: not computed by a kernel).
FusionCheck can_fuse(const TypedGraph& g, const TypedNode& node, int kernel, const Plan& plan,
                     const std::vector<int>& home);
// Profit: does fusing `node` into `kernel` pay? Names the bytes it saves.
FusionCheck should_fuse(const TypedGraph& g, const TypedNode& node, int kernel,
                        const std::vector<int>& home);
// Plans the graph. With fusion off every node gets its own kernel (for bisecting bugs).
Plan plan_fusion(const TypedGraph& g, bool fusion);

}  // namespace jitfuse
