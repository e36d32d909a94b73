// The op table: every op has a reference, a device expression and documentation; the
// references match PyTorch's definitions at known points; attributes are validated.
#include <doctest/doctest.h>

#include <cmath>

#include "graph/typed_graph.h"
#include "jitfuse/reference.hpp"
#include "ops/op_table.h"
#include "support.h"

using namespace jitfuse;

namespace {

// The float64 reference of `op` at x (and y for binary ops), with `attrs` JSON.
double ref(const std::string& op, double x, const std::string& attrs = "", double y = 0) {
  const bool binary = ops::find_op(op)->kind == ops::OpKind::binary;
  const std::string json = fmt::format(
      R"({{"name": "t", "inputs": {{"x": {{"dtype": "f32", "shape": [1]}}{}}},
          "nodes": [{{"name": "o", "op": "{}", "inputs": ["x"{}]{}}}], "outputs": ["o"]}})",
      binary ? R"(, "y": {"dtype": "f32", "shape": [1]})" : "", op, binary ? R"(, "y")" : "",
      attrs.empty() ? "" : ", " + attrs);
  std::map<std::string, HostArray> in = {{"x", {{1}, {x}}}};
  if (binary) in["y"] = {{1}, {y}};
  auto out = reference_run(*parse_graph(json), in, 1);
  REQUIRE_MESSAGE(out.ok(), out.error().to_string());
  return out->at("o").data[0];
}

}  // namespace

TEST_CASE("every op has a device expression, a reference and documentation") {
  const std::string doc = jf_test::read_file(jf_test::source_dir() / "docs/graph-format.md");
  for (const ops::OpDef& op : ops::all_ops()) {
    CAPTURE(std::string(op.name));
    CHECK_FALSE(op.doc.empty());
    CHECK(doc.find(fmt::format("`{}`", op.name)) != std::string::npos);
    if (op.kind == ops::OpKind::gemm) continue;
    CHECK(op.device);
    CHECK(op.reference);
  }
  CHECK(ops::all_ops().size() >= 27);
}

TEST_CASE("unary references match PyTorch's definitions") {
  using doctest::Approx;
  CHECK(ref("relu", -1.5) == 0.0);
  CHECK(ref("relu", 2.5) == 2.5);
  CHECK(std::isnan(ref("relu", NAN)));
  CHECK(ref("leaky_relu", -2) == Approx(-0.02));
  CHECK(ref("leaky_relu", -2, R"("negative_slope": 0.5)") == Approx(-1.0));
  CHECK(ref("sigmoid", 0) == 0.5);
  CHECK(ref("tanh", 0.5) == Approx(std::tanh(0.5)));
  CHECK(ref("silu", 1) == Approx(0.7310585786300049));
  CHECK(ref("swish", 1) == ref("silu", 1));
  CHECK(ref("mish", 1) == Approx(0.8650983882673103));
  CHECK(ref("softplus", 0) == Approx(std::log(2.0)));
  CHECK(ref("softplus", 30) == 30);  // above the threshold: linear
  CHECK(ref("softplus", 1, R"("beta": 2)") == Approx(std::log1p(std::exp(2.0)) / 2));
  CHECK(ref("elu", -1) == Approx(std::expm1(-1.0)));
  CHECK(ref("elu", -1, R"("alpha": 2)") == Approx(2 * std::expm1(-1.0)));
  CHECK(ref("hardswish", 1) == Approx(4.0 / 6.0));
  CHECK(ref("hardswish", -4) == 0.0);
  CHECK(ref("hardsigmoid", 0) == 0.5);
  CHECK(ref("hardsigmoid", 5) == 1.0);
  CHECK(std::isnan(ref("hardsigmoid", NAN)));
  CHECK(ref("clamp", 5, R"("max": 2)") == 2.0);
  CHECK(ref("clamp", -5, R"("min": -1)") == -1.0);
  CHECK(ref("clamp", 0, R"("min": 3, "max": 1)") == 1.0);  // min > max gives max, as torch.clamp
  CHECK(ref("abs", -3) == 3);
  CHECK(ref("neg", 3) == -3);
  CHECK(ref("exp", 1) == Approx(M_E));
  CHECK(ref("log", M_E) == Approx(1.0));
  CHECK(std::isnan(ref("log", -1)));
  CHECK(ref("sqrt", 9) == 3);
  CHECK(ref("rsqrt", 4) == 0.5);
  CHECK(ref("hardtanh", 3) == 1.0);
  CHECK(ref("gelu", 1) == Approx(0.8413447460685429));
  CHECK(ref("gelu", 1, R"("approximate": "tanh")") == Approx(0.8411919906082768));
}

TEST_CASE("binary references, with NaN as torch has it") {
  CHECK(ref("add", 1, "", 2) == 3);
  CHECK(ref("sub", 1, "", 2) == -1);
  CHECK(ref("mul", 3, "", 2) == 6);
  CHECK(ref("div", 3, "", 2) == 1.5);
  CHECK(std::isinf(ref("div", 1, "", 0)));
  CHECK(ref("maximum", 1, "", 2) == 2);
  CHECK(ref("minimum", 1, "", 2) == 1);
  CHECK(std::isnan(ref("maximum", NAN, "", 2)));
  CHECK(std::isnan(ref("minimum", 1, "", NAN)));
}

TEST_CASE("broadcasting: per column, per row, full, scalar and literal operands") {
  const std::string json = R"({"name": "b", "inputs": {
      "x": {"dtype": "f32", "shape": ["M", 3]}, "col": {"dtype": "f32", "shape": [3]},
      "row": {"dtype": "f32", "shape": ["M", 1]}, "s": {"dtype": "f32", "shape": []}},
    "nodes": [{"name": "a", "op": "add", "inputs": ["x", "col"]},
              {"name": "b", "op": "mul", "inputs": ["a", "row"]},
              {"name": "c", "op": "sub", "inputs": ["b", "s"]},
              {"name": "d", "op": "div", "inputs": ["c", 2.0]}],
    "outputs": ["d"]})";
  auto out = reference_run(*parse_graph(json), {{"x", {{2, 3}, {1, 2, 3, 4, 5, 6}}},
                                                 {"col", {{3}, {10, 20, 30}}},
                                                 {"row", {{2, 1}, {1, -1}}},
                                                 {"s", {{}, {1}}}});
  REQUIRE(out.ok());
  const std::vector<double> want = {(11 - 1) / 2.0, (22 - 1) / 2.0, (33 - 1) / 2.0,
                                    (-14 - 1) / 2.0, (-25 - 1) / 2.0, (-36 - 1) / 2.0};
  CHECK(out->at("d").data == want);
  CHECK(out->at("d").shape == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("op attributes are validated") {
  auto code = [](const std::string& node) {
    const std::string json = fmt::format(R"({{"name": "t", "inputs": {{"x": {{"dtype": "f32", "shape": [4]}}}},
      "nodes": [{{"name": "o", "inputs": ["x"], {}}}], "outputs": ["o"]}})", node);
    auto g = parse_graph(json);
    if (!g) return std::string(to_string(g.error().code));
    auto t = validate(*g);
    return t.ok() ? std::string("ok") : std::string(to_string(t.error().code));
  };
  CHECK(code(R"("op": "relu")") == "ok");
  CHECK(code(R"("op": "relu", "alpha": 1)") == "unknown_attribute");
  CHECK(code(R"("op": "leaky_relu", "negative_slope": "big")") == "bad_attribute");
  CHECK(code(R"("op": "leaky_relu", "slope": 0.1)") == "unknown_attribute");
  CHECK(code(R"("op": "softplus", "beta": 0)") == "bad_attribute");
  CHECK(code(R"("op": "softplus", "threshold": 1e39)") == "bad_attribute");
  CHECK(code(R"("op": "elu", "alpha": true)") == "bad_attribute");
  CHECK(code(R"("op": "clamp")") == "bad_attribute");
  CHECK(code(R"("op": "clamp", "min": 0)") == "ok");
  CHECK(code(R"("op": "clamp", "max": 0)") == "ok");
  CHECK(code(R"("op": "gelu", "approximate": "fast")") == "bad_attribute");
  CHECK(code(R"("op": "swish")") == "ok");
  CHECK(code(R"("op": "hardswish", "min": 1)") == "unknown_attribute");
  CHECK(code(R"("op": "add")") == "arity");
  CHECK(code(R"("op": "sqrt", "inputs2": [])") == "bad_attribute");  // not a number or string
}
