// Graphs of many nodes cost time linear in their size. tools/fuzz found three steps that were
// quadratic in the number of nodes (parse, validate, explain): a graph of 200,000 nodes, 8 to
// 12 MB, well under the 64 MiB a graph file may have, took from 13 s to 3 minutes.
#include <doctest/doctest.h>

#include <chrono>

#include "graph/typed_graph.h"
#include "plan/explain.h"
#include "plan/plan.h"
#include "support.h"

using namespace jitfuse;

namespace {

// A valid graph of `n` relu nodes on the input x: a chain, each node reading the one before, or
// a fan, each node reading x and listed as an output (n one-node kernels).
std::string relu_graph(std::size_t n, bool fan) {
  std::string nodes, outputs;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string in = fan || i == 0 ? "x" : fmt::format("n{}", i - 1);
    nodes += fmt::format(R"({}{{"name": "n{}", "op": "relu", "inputs": ["{}"]}})", i ? ", " : "", i, in);
    if (fan) outputs += fmt::format(R"({}"n{}")", i ? ", " : "", i);
  }
  if (!fan) outputs = fmt::format(R"("n{}")", n - 1);
  return fmt::format(R"({{"name": "g", "inputs": {{"x": {{"dtype": "f32", "shape": ["M", 4]}}}},
                          "nodes": [{}], "outputs": [{}]}})", nodes, outputs);
}

template <class F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

// Each bound is several times what the linear code takes on a loaded 2-core machine, and a
// fraction of what the quadratic code took there.
TEST_CASE("parsing 200,000 nodes is linear: nlohmann's callback parser rescanned the node list per node") {
  const std::string text = relu_graph(200000, false);
  std::optional<Expected<Graph>> g;
  const double s = seconds([&] { g.emplace(parse_graph(text)); });  // was 13 s
  REQUIRE(g->ok());
  CHECK((*g)->nodes.size() == 200000);
  CHECK(s < 5);
}
