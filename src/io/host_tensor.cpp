#include "io/host_tensor.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>

#include "common/half.h"
#include "common/shape.h"

namespace jitfuse::io {
namespace {

// Stores `f` rounded to `dtype` at element i; returns the stored value exactly.
double store(DType dtype, std::vector<std::byte>& bytes, std::size_t i, float f) {
  if (dtype == DType::f32) {
    std::memcpy(bytes.data() + 4 * i, &f, 4);
    return f;
  }
  const std::uint16_t h = dtype == DType::f16 ? float_to_f16(f) : float_to_bf16(f);
  std::memcpy(bytes.data() + 2 * i, &h, 2);
  return dtype == DType::f16 ? f16_to_float(h) : bf16_to_float(h);
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// The size of dim `d` of `value`, a symbol looked up in `dims`.
Expected<std::int64_t> dim_size(const TypedGraph& g, int value, const Dim& d,
                                const std::map<std::string, std::int64_t>& dims) {
  if (!d.is_symbolic()) return d.size;
  auto it = dims.find(d.symbol);
  if (it == dims.end()) {
    return make_error(ErrorCode::unbound_dim,
                      fmt::format("input '{}' {} needs a value for {}: pass --dims {}=SIZE",
                                  g.values[value].name, to_string(g.values[value].shape),
                                  d.symbol, d.symbol));
  }
  return it->second;
}

}  // namespace

HostTensor random_tensor(DType dtype, const std::vector<std::int64_t>& shape, std::uint64_t seed,
                         const std::string& name, double scale) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = shape;
  const std::size_t n = std::size_t(numel(shape));
  t.bytes.resize(n * dtype_size(dtype));
  t.values.resize(n);
  // splitmix64: fast (weights of 8192 x 8192 take a fraction of a second) and well mixed.
  std::uint64_t state = seed ^ fnv1a(name);
  auto next = [&state] {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  for (std::size_t i = 0; i < n; ++i) {
    double v = 0;
    while (v == 0) {
      const double u = double(next() >> 11) * 0x1.0p-53 * 2.0 - 1.0;  // uniform in [-1, 1)
      v = store(dtype, t.bytes, i, float(u * scale));
    }
    t.values[i] = v;
  }
  return t;
}

Expected<std::vector<std::int64_t>> random_input_shape(const TypedGraph& g, int value,
                                                       const std::map<std::string, std::int64_t>& dims) {
  std::vector<std::int64_t> shape;
  for (const Dim& d : g.values[value].shape) {
    JF_ASSIGN_OR_RETURN(std::int64_t s, dim_size(g, value, d, dims));
    shape.push_back(s);
  }
  return shape;
}

Expected<HostTensor> random_input(const TypedGraph& g, int value,
                                  const std::map<std::string, std::int64_t>& dims, std::uint64_t seed) {
  JF_ASSIGN_OR_RETURN(const std::vector<std::int64_t> shape, random_input_shape(g, value, dims));
  double scale = 1.0;
  for (const TypedNode& n : g.nodes) {
    if (n.op->kind != ops::OpKind::gemm) continue;
    for (std::size_t j = 1; j < n.inputs.size(); ++j) {
      if (n.inputs[j] != value) continue;
      JF_ASSIGN_OR_RETURN(std::int64_t k, dim_size(g, value, g.values[n.inputs[0]].shape[1], dims));
      scale = 1.0 / std::sqrt(double(k));
    }
  }
  return random_tensor(g.values[value].dtype, shape, seed, g.values[value].name, scale);
}

Expected<HostTensor> from_npy(const NpyArray& a, DType dtype, const std::string& file) {
  const std::string want = dtype == DType::f16 ? "<f2" : "<f4";
  if (a.descr != want) {
    Error e = make_error(ErrorCode::bad_file,
                         fmt::format("the array's dtype is '{}'; a {} input takes '{}' ({}){}",
                                     a.descr, to_string(dtype), want,
                                     want == "<f2" ? "float16" : "float32",
                                     dtype == DType::bf16 ? ", rounded to bf16 on load" : ""));
    e.file = file;
    return e;
  }
  HostTensor t;
  t.dtype = dtype;
  t.shape = a.shape;
  const std::size_t n = std::size_t(a.numel());
  t.bytes.resize(n * dtype_size(dtype));
  t.values.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    float f;
    if (want == "<f2") {
      std::uint16_t h;
      std::memcpy(&h, a.data.data() + 2 * i, 2);
      f = f16_to_float(h);
    } else {
      std::memcpy(&f, a.data.data() + 4 * i, 4);
    }
    t.values[i] = store(dtype, t.bytes, i, f);
  }
  return t;
}

std::vector<double> decode(DType dtype, const std::vector<std::byte>& bytes) {
  const std::size_t n = bytes.size() / dtype_size(dtype);
  std::vector<double> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (dtype == DType::f32) {
      float f;
      std::memcpy(&f, bytes.data() + 4 * i, 4);
      out[i] = f;
    } else {
      std::uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      out[i] = dtype == DType::f16 ? f16_to_float(h) : bf16_to_float(h);
    }
  }
  return out;
}

NpyArray to_npy(DType dtype, const std::vector<std::int64_t>& shape, const std::vector<std::byte>& bytes) {
  NpyArray a;
  a.shape = shape;
  if (dtype == DType::f32 || dtype == DType::f16) {
    a.descr = dtype == DType::f32 ? "<f4" : "<f2";
    a.data = bytes;
    return a;
  }
  a.descr = "<f4";
  const std::vector<double> values = decode(dtype, bytes);
  a.data.resize(values.size() * 4);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float f = float(values[i]);
    std::memcpy(a.data.data() + 4 * i, &f, 4);
  }
  return a;
}

}  // namespace jitfuse::io
