// jitfuse::signature: the validated interface the PyTorch bridge allocates outputs from.
#include <doctest/doctest.h>

#include "jitfuse/signature.hpp"
#include "support.h"

using namespace jitfuse;

TEST_CASE("signature: inputs by name, outputs in order, symbols unified") {
  auto g = parse_graph(R"({"name": "two", "inputs": {
      "x": {"dtype": "bf16", "shape": ["M", "K"]},
      "w": {"dtype": "bf16", "shape": [24, 40]},
      "r": {"dtype": "bf16", "shape": ["M", "N"]}},
    "nodes": [{"name": "y", "op": "gemm", "inputs": ["x", "w"]},
              {"name": "a", "op": "add", "inputs": ["y", "r"]},
              {"name": "s", "op": "sigmoid", "inputs": ["y"]}],
    "outputs": ["s", "a"]})");
  REQUIRE(g.ok());
  auto sig = signature(*g);
  REQUIRE(sig.ok());
  CHECK(sig->graph_name == "two");
  CHECK(sig->dtype == DType::bf16);
  REQUIRE(sig->inputs.size() == 3);
  CHECK(sig->inputs[0].name == "r");
  CHECK(to_string(sig->inputs[0].shape) == "[M, 24]");
  CHECK(to_string(sig->inputs[2].shape) == "[M, 40]");
  REQUIRE(sig->outputs.size() == 2);
  CHECK(sig->outputs[0].name == "s");
  CHECK(sig->outputs[1].name == "a");
  CHECK(to_string(sig->outputs[1].shape) == "[M, 24]");
  CHECK(sig->symbols == std::vector<std::string>{"M"});

  auto shape = concrete_shape(sig->outputs[0].shape, {{"M", 7}});
  REQUIRE(shape.ok());
  CHECK(*shape == std::vector<std::int64_t>{7, 24});
  auto unbound = concrete_shape(sig->outputs[0].shape, {});
  REQUIRE_FALSE(unbound.ok());
  CHECK(unbound.error().code == ErrorCode::unbound_dim);
}

TEST_CASE("signature: baked dims and validation errors") {
  const Graph g = jf_test::GemmGraph{}.graph();
  auto sig = signature(g, {{"M", 2048}});
  REQUIRE(sig.ok());
  CHECK(sig->symbols.empty());
  CHECK(to_string(sig->outputs[0].shape) == "[2048, 64]");

  auto unknown = signature(g, {{"Q", 4}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == ErrorCode::bad_option);
  jf_test::GemmGraph bad;
  bad.chain = {R"("op": "hardtanh", "min": 3.0, "max": -2.0)"};
  auto invalid = signature(bad.graph());
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == ErrorCode::bad_attribute);
}
