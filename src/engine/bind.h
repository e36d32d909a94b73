// bind_tensors: the caller's tensors -> concrete shapes, symbol values and pointers for one launch.
// Checks presence, dtype, rank, sizes (against the graph and graph/limits.h), null pointers,
// alignment and overlap. Needs no GPU.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "codegen/emit.h"
#include "common/shape.h"
#include "graph/typed_graph.h"
#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

// What a launch binds, per value id.
struct Binding {
  std::map<std::string, std::int64_t> dims;      // every symbol's value
  std::vector<std::vector<std::int64_t>> shapes; // concrete shape of every value
  std::vector<std::uintptr_t> ptrs;              // device address (0 for intermediates)
};

// Binds `tensors` to graph inputs and outputs. `sources` supplies alignment requirements.
Expected<Binding> bind_tensors(const TypedGraph& g, const std::vector<KernelSource>& sources,
                       const TensorMap& tensors);


}  // namespace jitfuse
