// explain --bench: measured kernel times beside the roofline in every format (rendered from given
// times, no GPU needed), and the command line's checks before it touches a GPU.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "plan/explain.h"
#include "support.h"

using namespace jitfuse;

namespace {

Graph example() {
  auto g = load_graph(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json");
  REQUIRE(g.ok());
  return *g;
}

CompileOptions at_2048(bool fusion = true) {
  CompileOptions o;
  o.arch = "sm_90a";
  o.math = MathMode::ieee;  // the FFMA roofline the figures below are made from
  o.dims = {{"M", 2048}};
  o.fusion = fusion;
  return o;
}

}  // namespace

TEST_CASE("explain puts measured times beside the roofline in text, md and json") {
  MeasuredTimes m;
  m.gpu = "NVIDIA H100 80GB HBM3";
  m.runs = 50;
  m.kernel_median_us = {4800.0};
  m.kernel_min_us = {4790.5};
  m.total_median_us = 4800.0;
  m.total_min_us = 4790.5;
  // f32 ieee at 2048x8192x8192: 275 GFLOP at 67 TFLOP/s, a 4105.7 us floor.
  auto text = explain(example(), at_2048(), "text", &m);
  REQUIRE(text.ok());
  CHECK(text->find("measured on NVIDIA H100 80GB HBM3: per launch, median of 50 timed batches") != std::string::npos);
  CHECK(text->find("  measured 4800.0 us, min 4790.5 us (roofline 4105.7 us, 86%)") != std::string::npos);
  CHECK(text->find("all 1 kernels") == std::string::npos);  // one kernel: its time is the total
  auto md = explain(example(), at_2048(), "md", &m);
  REQUIRE(md.ok());
  CHECK(md->find("On NVIDIA H100 80GB HBM3: measured 4800.0 us, min 4790.5 us (roofline 4105.7 us, 86%).")
        != std::string::npos);
  CHECK(md->find("## Measured") != std::string::npos);
  CHECK(md->find("| 0: `jf_linear_scale_hardtanh_gelu_0` | 4105.7 us | 4800.0 us | 4790.5 us | 86% |")
        != std::string::npos);
  auto json = explain(example(), at_2048(), "json", &m);
  REQUIRE(json.ok());
  const auto j = nlohmann::json::parse(*json);
  CHECK(j["kernels"][0]["measured_median_us"] == 4800.0);
  CHECK(j["kernels"][0]["roofline_us"].get<double>() == doctest::Approx(4105.7).epsilon(1e-4));
  CHECK(j["measured"]["gpu"] == "NVIDIA H100 80GB HBM3");
  CHECK(j["measured"]["runs"] == 50);
  // Without measurements nothing changes.
  auto plain = explain(example(), at_2048(), "json");
  REQUIRE(plain.ok());
  CHECK(nlohmann::json::parse(*plain).count("measured") == 0);
}

TEST_CASE("explain --bench with several kernels: each alone, then the whole launch") {
  MeasuredTimes m;
  m.gpu = "NVIDIA H100 80GB HBM3";
  m.runs = 20;
  m.kernel_median_us = {4500, 60, 60, 61};
  m.kernel_min_us = {4400, 59, 59, 60};
  m.total_median_us = 4700;
  m.total_min_us = 4600;
  auto text = explain(example(), at_2048(false), "text", &m);
  REQUIRE(text.ok());
  CHECK(text->find("all 4 kernels, one launch: measured 4700.0 us, min 4600.0 us (roofline") != std::string::npos);
  auto md = explain(example(), at_2048(false), "md", &m);
  REQUIRE(md.ok());
  CHECK(md->find("| all 4, one launch |") != std::string::npos);
  auto json = explain(example(), at_2048(false), "json", &m);
  REQUIRE(json.ok());
  const auto j = nlohmann::json::parse(*json);
  CHECK(j["kernels"].size() == 4);
  CHECK(j["kernels"][3]["measured_min_us"] == 60.0);
  CHECK(j["measured"]["total_roofline_us"].get<double>() > j["kernels"][0]["roofline_us"].get<double>());
  // Times for another plan are refused.
  m.kernel_median_us.pop_back();
  auto wrong = explain(example(), at_2048(false), "text", &m);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().code == ErrorCode::bad_option);
}

TEST_CASE("the roofline floor is the larger of the arithmetic and memory floors") {
  auto typed = validate(example());
  REQUIRE(typed.ok());
  auto g = specialize(*typed, {{"M", 2048}});
  REQUIRE(g.ok());
  const Plan plan = plan_fusion(*g, false);
  const DevicePeaks h100 = peaks_for("NVIDIA H100 80GB HBM3", "sm_90a");
  const auto gemm = roofline(*g, plan.kernels[0], h100, MathMode::ieee);
  REQUIRE(gemm);
  CHECK(gemm->floor_us() == gemm->compute_us);
  const auto scale = roofline(*g, plan.kernels[1], h100, MathMode::ieee);
  REQUIRE(scale);
  // 2048 x 8192 f32 read and written: 134 MB at 3.0 TB/s.
  CHECK(scale->floor_us() == doctest::Approx(2.0 * 2048 * 8192 * 4 / 3.0e12 * 1e6));
  auto unbound = validate(example());
  CHECK_FALSE(roofline(*unbound, plan_fusion(*unbound, true).kernels[0], h100, MathMode::ieee));
}
