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

TEST_CASE("validating a chain of 80,000 nodes is linear: each input was looked up by a scan of every value") {
  auto g = parse_graph(relu_graph(80000, false));
  REQUIRE(g.ok());
  std::optional<Expected<TypedGraph>> t;
  const double s = seconds([&] { t.emplace(validate(*g)); });  // was 30 s
  REQUIRE(t->ok());
  CHECK((*t)->nodes.back().inputs == std::vector<int>{(*t)->nodes[79998].output});
  CHECK(s < 5);
}

TEST_CASE("a long cycle is reported in linear time, naming its nodes") {
  // Closing the chain makes every node part of one cycle of 150,000; the walk that finds it
  // scanned its path at each step.
  std::string text = relu_graph(150000, false);
  text.replace(text.find(R"("inputs": ["x"])"), 15, R"("inputs": ["n149999"])");
  text.replace(text.find(R"("outputs": ["n149999"])"), 22, R"("outputs": ["z"])");
  text.replace(text.find("\"nodes\": ["), 10, R"("nodes": [{"name": "z", "op": "relu", "inputs": ["x"]}, )");
  auto g = parse_graph(text);
  REQUIRE(g.ok());
  std::optional<Expected<TypedGraph>> t;
  const double s = seconds([&] { t.emplace(validate(*g)); });  // was 13 s
  REQUIRE_FALSE(t->ok());
  CHECK(t->error().code == ErrorCode::cycle);
  CHECK(t->error().message.find("n149999 -> n0") != std::string::npos);
  CHECK(s < 5);
}

TEST_CASE("explaining 40,000 one-node kernels is linear: each kernel scanned every fusion decision") {
  auto g = parse_graph(relu_graph(40000, true));
  REQUIRE(g.ok());
  auto t = validate(*g);
  REQUIRE(t.ok());
  const Plan plan = plan_fusion(*t, true);
  REQUIRE(plan.kernels.size() == 40000);
  std::string text, json;
  const double s = seconds([&] {
    text = explain_text(*t, plan, ExplainContext{});  // was 7 s
    json = explain_json(*t, plan, ExplainContext{});  // and 7 s
  });
  CHECK(text.find("kernel 39999: ") != std::string::npos);
  CHECK(text.find("  n39999 = relu(x)") != std::string::npos);
  CHECK(json.find(R"("node": "n39999")") != std::string::npos);
  CHECK(s < 5);
}
