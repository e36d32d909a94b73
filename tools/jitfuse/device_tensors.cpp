#include "device_tensors.h"

#include <fmt/format.h>

#include "common/text.h"

namespace jitfuse::cli {

Expected<TypedGraph> bound_graph(const Graph& graph, const CompileOptions& options,
                                 std::string_view who) {
  JF_ASSIGN_OR_RETURN(TypedGraph typed, validate(graph));
  JF_ASSIGN_OR_RETURN(TypedGraph g, specialize(std::move(typed), options.dims));
  if (const std::vector<std::string> unbound = g.symbols(); !unbound.empty()) {
    std::vector<std::string> example;
    for (const auto& s : unbound) example.push_back(s + "=SIZE");
    return make_error(ErrorCode::unbound_dim,
                      fmt::format("{}, so every dim needs a size: pass --dims {}", who,
                                  join(example, ",")));
  }
  return g;
}

std::vector<std::int64_t> output_shape(const Value& v, const std::map<std::string, io::HostTensor>& inputs,
                                       const TypedGraph& g) {
  std::map<std::string, std::int64_t> dims;
  for (int in : g.inputs) {
    const Value& iv = g.values[in];
    for (std::size_t i = 0; i < iv.shape.size(); ++i) {
      if (iv.shape[i].is_symbolic()) dims[iv.shape[i].symbol] = inputs.at(iv.name).shape[i];
    }
  }
  std::vector<std::int64_t> s;
  for (const Dim& d : v.shape) s.push_back(d.is_symbolic() ? dims.at(d.symbol) : d.size);
  return s;
}

Expected<DeviceTensors> upload(const TypedGraph& g, const std::map<std::string, io::HostTensor>& inputs) {
  DeviceTensors d;
  for (const auto& [name, t] : inputs) {
    JF_ASSIGN_OR_RETURN(cu::DeviceBuffer b, cu::DeviceBuffer::alloc(t.bytes.size()));
    JF_RETURN_IF_ERROR(cu::copy_to_device(b.ptr(), t.bytes.data(), t.bytes.size()));
    d.map[name] = Tensor{b.data(), t.shape, t.dtype};
    d.buffers[name] = std::move(b);
  }
  for (int v : g.outputs) {
    const Value& val = g.values[v];
    const std::vector<std::int64_t> shape = output_shape(val, inputs, g);
    std::int64_t n = 1;
    for (auto s : shape) n *= s;
    const std::size_t bytes = std::size_t(n) * dtype_size(val.dtype);
    JF_ASSIGN_OR_RETURN(cu::DeviceBuffer b, cu::DeviceBuffer::alloc(bytes));
    JF_RETURN_IF_ERROR(cu::fill_bytes(b.ptr(), 0xff, bytes));  // poison: all-ones bytes are NaN
    d.map[val.name] = Tensor{b.data(), shape, val.dtype};
    d.output_shapes[val.name] = shape;
    d.buffers[val.name] = std::move(b);
  }
  return d;
}

}  // namespace jitfuse::cli
