// A graph's tensors on the GPU, for the subcommands that launch it (run, explain --bench).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cuda/device.h"
#include "graph/typed_graph.h"
#include "io/host_tensor.h"
#include "jitfuse/jitfuse.hpp"

namespace jitfuse::cli {

// Device buffers for every input and output, and the TensorMap that names them for a launch.
struct DeviceTensors {
  std::map<std::string, cu::DeviceBuffer> buffers;
  std::map<std::string, std::vector<std::int64_t>> output_shapes;
  TensorMap map;
};

// `graph` validated and specialized with options.dims, every dim bound: for the subcommands that
// allocate its tensors. Otherwise an unbound_dim error, "`who` ..., so every dim needs a size".
Expected<TypedGraph> bound_graph(const Graph& graph, const CompileOptions& options,
                                 std::string_view who);

// The concrete shape of `v`, its symbols bound by the shapes of `inputs`.
std::vector<std::int64_t> output_shape(const Value& v, const std::map<std::string, io::HostTensor>& inputs,
                                       const TypedGraph& g);

// Copies `inputs` to the current context's GPU and allocates every output, poisoned with NaN.
Expected<DeviceTensors> upload(const TypedGraph& g, const std::map<std::string, io::HostTensor>& inputs);

}  // namespace jitfuse::cli
