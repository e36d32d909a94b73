// The float64 reference executor and the comparison rule, checked against values worked out
// by hand or from PyTorch's definitions.
#include <doctest/doctest.h>

#include <cmath>

#include "common/half.h"
#include "common/text.h"
#include "jitfuse/reference.hpp"
#include "support.h"

using namespace jitfuse;

TEST_CASE("reference gemm + epilogue on a hand-checked example") {
  jf_test::GemmGraph g;
  g.m = "2";
  g.n = 3;
  g.k = 2;
  // x = [[1, 2], [3, 4]], w (nk) = [[1, 0], [0, 1], [1, 1]], bias = [0.5, -10, 0]
  std::map<std::string, HostArray> in = {{"x", {{2, 2}, {1, 2, 3, 4}}},
                                         {"w", {{3, 2}, {1, 0, 0, 1, 1, 1}}},
                                         {"bias", {{3}, {0.5, -10, 0}}}};
  auto out = reference_run(g.graph(), in, 2);
  REQUIRE(out.ok());
  // y = [[1.5, -8, 3], [3.5, -6, 7]] -> *0.5 -> clamp(-2, 2) -> gelu
  auto gelu = [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); };
  const std::vector<double> want = {gelu(0.75), gelu(-2), gelu(1.5), gelu(1.75), gelu(-2), gelu(2)};
  REQUIRE(out->at("out").data.size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(out->at("out").data[i] == doctest::Approx(want[i]).epsilon(1e-15));
  CHECK(gelu(1.0) == doctest::Approx(0.8413447460685429).epsilon(1e-15));
}

TEST_CASE("reference kn layout equals nk on transposed weights") {
  jf_test::GemmGraph nk;
  nk.m = "3"; nk.n = 5; nk.k = 4; nk.chain = {R"("op": "gelu", "approximate": "tanh")"};
  jf_test::GemmGraph kn = nk;
  kn.kn = true;
  std::vector<double> w(20), wt(20), x(12), bias(5);
  for (int i = 0; i < 20; ++i) w[i] = 0.1 * i - 1;
  for (int n = 0; n < 5; ++n) for (int k = 0; k < 4; ++k) wt[k * 5 + n] = w[n * 4 + k];
  for (int i = 0; i < 12; ++i) x[i] = 0.25 * i - 1.5;
  for (int i = 0; i < 5; ++i) bias[i] = i;
  auto a = reference_run(nk.graph(), {{"x", {{3, 4}, x}}, {"w", {{5, 4}, w}}, {"bias", {{5}, bias}}});
  auto b = reference_run(kn.graph(), {{"x", {{3, 4}, x}}, {"w", {{4, 5}, wt}}, {"bias", {{5}, bias}}});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->at("out").data == b->at("out").data);
}

TEST_CASE("compare follows numpy.allclose and never passes NaN") {
  const Comparison ok = compare({1.0, 2.0001}, {1.0, 2.0}, 1e-4, 1e-4);
  CHECK(ok.bad == 0);
  CHECK(ok.max_abs == doctest::Approx(1e-4));
  const Comparison bad = compare({1.0, 2.1}, {1.0, 2.0}, 1e-4, 1e-4);
  CHECK(bad.bad == 1);
  CHECK(bad.first_bad == 1);
  CHECK(compare({NAN}, {1.0}, 1, 1).bad == 1);
  CHECK(compare({1.0}, {1.0, 2.0}, 1, 1).bad == 1);  // a missing element
}

TEST_CASE("host f16 and bf16 conversions round to nearest even") {
  CHECK(float_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_float(0x3f80) == 1.0f);
  CHECK(float_to_bf16(1.00390625f) == 0x3f80);   // halfway, to even (down)
  CHECK(float_to_bf16(1.01171875f) == 0x3f82);   // halfway, to even (up)
  CHECK(float_to_f16(1.0f) == 0x3c00);
  CHECK(float_to_f16(65504.0f) == 0x7bff);
  CHECK(float_to_f16(65520.0f) == 0x7c00);       // rounds to inf
  CHECK(float_to_f16(5.9604645e-08f) == 0x0001); // smallest subnormal
  CHECK(float_to_f16(2.98023224e-08f) == 0x0000);  // half of it: ties to even, zero
  CHECK(float_to_f16(-2.0f) == 0xc000);
  for (std::uint32_t h = 0; h < 0x7c00; ++h) {   // every finite positive f16 round-trips
    REQUIRE(float_to_f16(f16_to_float(std::uint16_t(h))) == h);
  }
  CHECK(std::isnan(f16_to_float(float_to_f16(NAN))));
  CHECK(std::isnan(bf16_to_float(float_to_bf16(NAN))));
}

TEST_CASE("float literals read back exactly") {
  CHECK(f32_literal(0.5) == "0.5f");
  CHECK(f32_literal(-2.0) == "-2.0f");
  CHECK(f32_literal(1e-5) == "1e-05f");
  CHECK(f32_literal(0.1) == "0.1f");
  CHECK(f32_literal(1.702) == "1.702f");
}
