#include "engine/bind.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/text.h"
#include "graph/limits.h"

namespace jitfuse {
namespace {

Error bad(std::string message) { return make_error(ErrorCode::bad_launch, std::move(message)); }

std::string shape_text(const std::vector<std::int64_t>& s) {
  std::vector<std::string> parts;
  for (auto d : s) parts.push_back(std::to_string(d));
  return "[" + join(parts, ", ") + "]";
}

std::string baked(const TypedGraph& g) {
  if (g.specialized.empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [k, v] : g.specialized) parts.push_back(fmt::format("{}={}", k, v));
  return fmt::format(" ({} baked in at compile time)", join(parts, ", "));
}

// Checks one tensor against its declared value and binds its symbols.
Status bind_one(const TypedGraph& g, const Value& v, const Tensor& t, Binding& b) {
  if (t.dtype != v.dtype) {
    return bad(fmt::format("tensor '{}' is {}, but the graph declares it {}", v.name,
                           to_string(t.dtype), to_string(v.dtype)));
  }
  if (t.shape.size() != v.shape.size()) {
    return bad(fmt::format("tensor '{}' has shape {}, but the graph declares it {}", v.name,
                           shape_text(t.shape), to_string(v.shape)));
  }
  for (std::size_t i = 0; i < v.shape.size(); ++i) {
    const Dim& d = v.shape[i];
    // An empty tensor (a 0 in its shape) would bind a symbol to 0: a kernel that does nothing,
    // most likely from a caller's bug, so it is an error rather than a silent no-op.
    if (t.shape[i] < 1) {
      return bad(fmt::format("tensor '{}' has shape {}: dim {} is {}, and every dim must be at "
                             "least 1 (empty tensors are not supported)", v.name,
                             shape_text(t.shape), i, t.shape[i]));
    }
    if (!d.is_symbolic()) {
      if (t.shape[i] != d.size) {
        return bad(fmt::format("tensor '{}' has shape {}; the kernel expects {}{}", v.name,
                               shape_text(t.shape), to_string(v.shape), baked(g)));
      }
      continue;
    }
    auto [it, inserted] = b.dims.emplace(d.symbol, t.shape[i]);
    if (!inserted && it->second != t.shape[i]) {
      return bad(fmt::format("tensor '{}' has shape {}, so {}={}, but an earlier tensor bound {}={}",
                             v.name, shape_text(t.shape), d.symbol, t.shape[i], d.symbol,
                             it->second));
    }
  }
  return {};
}

std::vector<std::int64_t> concrete(const Shape& s, const std::map<std::string, std::int64_t>& dims) {
  std::vector<std::int64_t> out;
  for (const Dim& d : s) out.push_back(d.is_symbolic() ? dims.at(d.symbol) : d.size);
  return out;
}

}  // namespace

Expected<Binding> bind_tensors(const TypedGraph& g, const std::vector<KernelSource>& sources,
                       const TensorMap& tensors) {
  Binding b;
  b.ptrs.assign(g.values.size(), 0);
  std::vector<int> bound;  // inputs first, so that outputs are checked against their symbols
  for (int v : g.inputs) bound.push_back(v);
  for (int v : g.outputs) bound.push_back(v);
  for (int v : bound) {
    const Value& val = g.values[v];
    auto it = tensors.find(val.name);
    if (it == tensors.end()) {
      return bad(fmt::format("no tensor named '{}': graph '{}' needs its {} '{}' ({} {})",
                             val.name, g.name, val.producer < 0 ? "input" : "output", val.name,
                             to_string(val.dtype), to_string(val.shape)));
    }
    JF_RETURN_IF_ERROR(bind_one(g, val, it->second, b));
    b.ptrs[v] = reinterpret_cast<std::uintptr_t>(it->second.data);
  }
  for (const auto& [name, t] : tensors) {
    const int v = g.find(name);
    if (v < 0 || std::find(bound.begin(), bound.end(), v) == bound.end()) {
      std::vector<std::string> names;
      for (int x : bound) names.push_back(g.values[x].name);
      return bad(fmt::format("tensor '{}' is neither an input nor an output of graph '{}'{}; it "
                             "takes: {}", user_text(name), g.name, did_you_mean(name, names), join(names, ", ")));
    }
  }
  // Before any size is multiplied: the symbols' sizes against what the kernels address.
  if (auto problem = check_sizes(g, b.dims)) {
    std::vector<std::string> bound_dims;
    for (const auto& [name, size] : b.dims) bound_dims.push_back(fmt::format("{}={}", name, size));
    return bad(fmt::format("{} (the tensors' shapes bind {})", problem->message, join(bound_dims, ", ")));
  }
  for (const Value& v : g.values) b.shapes.push_back(concrete(v.shape, b.dims));

  for (int v : bound) {
    const Value& val = g.values[v];
    const std::int64_t n = numel(b.shapes[v]);
    if (n > 0 && b.ptrs[v] == 0) return bad(fmt::format("tensor '{}' has a null data pointer", val.name));
    if (b.ptrs[v] % dtype_size(val.dtype) != 0) {
      return bad(fmt::format("tensor '{}' at {:#x} is not aligned to its {}-byte elements", val.name,
                             b.ptrs[v], dtype_size(val.dtype)));
    }
  }
  for (const KernelSource& s : sources) {
    for (const Param& p : s.params) {
      if (p.kind != Param::Kind::pointer || p.align == 0 || b.ptrs[p.value] == 0) continue;
      if (b.ptrs[p.value] % std::uintptr_t(p.align) != 0) {
        return bad(fmt::format("tensor '{}' at {:#x} must be {}-byte aligned: kernel {} reads it "
                               "with {}-byte vector loads (cudaMalloc'd memory always is; an "
                               "offset view may not be)", g.values[p.value].name, b.ptrs[p.value],
                               p.align, s.name, p.align));
      }
    }
  }
  // A kernel may read an input after writing an output: no output may overlap another tensor.
  for (int o : g.outputs) {
    const std::uintptr_t lo = b.ptrs[o];
    const std::uintptr_t hi = lo + std::uintptr_t(numel(b.shapes[o])) * dtype_size(g.dtype);
    for (int v : bound) {
      if (v == o || lo == hi) continue;
      const std::uintptr_t vlo = b.ptrs[v];
      const std::uintptr_t vhi = vlo + std::uintptr_t(numel(b.shapes[v])) * dtype_size(g.dtype);
      if (vlo < hi && lo < vhi) {
        return bad(fmt::format("output '{}' overlaps tensor '{}' in memory; outputs need buffers "
                               "of their own", g.values[o].name, g.values[v].name));
      }
    }
  }
  return b;
}

}  // namespace jitfuse
