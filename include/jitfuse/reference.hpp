// The CPU reference executor: runs a graph in float64, the truth GPU results are checked against.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "jitfuse/error.hpp"
#include "jitfuse/graph.hpp"

namespace jitfuse {

// A dense row-major array on the host, in float64.
struct HostArray {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

// Computes every graph output in float64 from `inputs` (one per graph input, values already
// representable in the graph's dtype). Intermediates are not rounded. Uses `threads` threads
// for GEMMs (0: all hardware threads).
Expected<std::map<std::string, HostArray>> reference_run(
    const Graph& graph, const std::map<std::string, HostArray>& inputs, unsigned threads = 0);

// How far `got` is from `want`: the figures `jitfuse run --check` prints.
struct Comparison {
  double max_abs = 0;        // max |got - want|
  double max_rel = 0;        // max |got - want| / |want| over elements with want != 0
  double rel_norm = 0;       // ||got - want||_2 / ||want||_2
  std::int64_t bad = 0;      // elements with |got - want| > atol + rtol * |want|, or NaN
  std::int64_t first_bad = -1;  // flat index of the first such element
};

// Compares element by element with numpy.allclose's rule (NaN never passes).
Comparison compare(const std::vector<double>& got, const std::vector<double>& want, double atol,
                   double rtol);

}  // namespace jitfuse
