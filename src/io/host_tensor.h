// Host-side tensors for running graphs: random or .npy inputs in a graph dtype, with their
// exact values in float64 for the reference; outputs decoded back. Used by the CLI and tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <map>

#include "graph/typed_graph.h"
#include "io/npy.h"

namespace jitfuse::io {

// A tensor's bytes in its dtype and the exact value of each element.
struct HostTensor {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> bytes;
  std::vector<double> values;
};

// Uniform values in [-scale, scale), never exactly zero, rounded to `dtype`; the stream is
// fixed by `seed` and `name`.
HostTensor random_tensor(DType dtype, const std::vector<std::int64_t>& shape, std::uint64_t seed,
                         const std::string& name, double scale);
// The shape random_input gives graph input `value` of `g`, its symbols taken from `dims`;
// unbound_dim when a symbol has no value. Costs nothing: for checking before generating.
Expected<std::vector<std::int64_t>> random_input_shape(const TypedGraph& g, int value,
                                                       const std::map<std::string, std::int64_t>& dims);
// Random data for graph input `value` of `g`, its symbols taken from `dims`: U(-1, 1), except
// that a gemm's B and bias get PyTorch Linear's 1/sqrt(K) scale so outputs stay O(1).
// unbound_dim when a symbol has no value.
Expected<HostTensor> random_input(const TypedGraph& g, int value,
                                  const std::map<std::string, std::int64_t>& dims, std::uint64_t seed);
// Converts an .npy array for an input of `dtype`: f32 takes <f4, f16 takes <f2, bf16 takes <f4
// (rounded to nearest even). A bad_file error names `file` and says what to pass instead.
Expected<HostTensor> from_npy(const NpyArray& array, DType dtype, const std::string& file);
// Decodes device bytes of `dtype` into doubles.
std::vector<double> decode(DType dtype, const std::vector<std::byte>& bytes);
// An .npy array for an output: f32 as <f4, f16 as <f2, bf16 as <f4 (NumPy has no bf16).
NpyArray to_npy(DType dtype, const std::vector<std::int64_t>& shape, const std::vector<std::byte>& bytes);

}  // namespace jitfuse::io
