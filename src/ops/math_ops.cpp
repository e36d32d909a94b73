// Elementwise arithmetic: scale, clamp and the math functions, with PyTorch's semantics.
#include <fmt/format.h>

#include <cmath>

#include "common/text.h"
#include "ops/op_table.h"

namespace jitfuse::ops {
namespace {

double ref_abs(double x) { return std::fabs(x); }
double ref_neg(double x) { return -x; }
double ref_exp(double x) { return std::exp(x); }
double ref_log(double x) { return std::log(x); }
double ref_sqrt(double x) { return std::sqrt(x); }
double ref_rsqrt(double x) { return 1.0 / std::sqrt(x); }

}  // namespace

std::vector<OpDef> math_ops() {
  std::vector<OpDef> t;
  t.push_back(OpDef{
      .name = "scale",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "factor", .doc = "the multiplier (required)"}},
      .doc = "x * factor",
      .device = [](const auto& x, const Attrs& a) {
        return fmt::format("({} * {})", x[0], f32_literal(a.number("factor")));
      },
      .reference = [](const double* x, const Attrs& a) {
        return x[0] * static_cast<double>(static_cast<float>(a.number("factor")));
      },
      .range = [](const Ranges& in, const Attrs& a) -> std::optional<Range> {
        if (!in[0]) return std::nullopt;
        const double c = static_cast<float>(a.number("factor"));
        const double p = in[0]->lo * c, q = in[0]->hi * c;  // inf * 0 is NaN: unknown then
        if (std::isnan(p) || std::isnan(q)) return std::nullopt;
        return Range{std::min(p, q), std::max(p, q)};
      },
      .straight_line = true,
  });

  t.push_back(OpDef{
      .name = "clamp",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "min", .optional = true, .doc = "lower bound (optional)"},
                {.name = "max", .optional = true, .doc = "upper bound (optional)"}},
      .doc = "min(max(x, min), max), as torch.clamp: min > max gives max; NaN passes through",
      .header = "jitfuse/kernels/clamp.cuh",
      .device = [](const auto& x, const Attrs& a) {
        std::string e = x[0];
        if (a.has("min")) e = fmt::format("jf_clamp_min({}, {})", e, f32_literal(a.number("min")));
        if (a.has("max")) e = fmt::format("jf_clamp_max({}, {})", e, f32_literal(a.number("max")));
        return e;
      },
      .reference = [](const double* x, const Attrs& a) {
        double v = x[0];
        if (a.has("min")) {
          const double lo = static_cast<float>(a.number("min"));
          v = v < lo ? lo : v;
        }
        if (a.has("max")) {
          const double hi = static_cast<float>(a.number("max"));
          v = v > hi ? hi : v;
        }
        return v;
      },
      .range = [](const Ranges& in, const Attrs& a) {
        return monotone_range(in[0], [](double x, const Attrs& at) {
          if (at.has("min")) x = std::max(x, static_cast<double>(static_cast<float>(at.number("min"))));
          if (at.has("max")) x = std::min(x, static_cast<double>(static_cast<float>(at.number("max"))));
          return x;
        }, a);
      },
      .check = [](const Attrs& a) -> std::optional<AttrProblem> {
        if (a.has("min") || a.has("max")) return std::nullopt;
        return AttrProblem{"min", "clamp needs at least one of min and max"};
      },
      .flops_per_element = 2,
      .straight_line = true,
  });

  t.push_back(unary_op("abs", "|x|", "fabsf({})", ref_abs, 1, {}, true));
  t.push_back(unary_op("neg", "-x", "(-{})", ref_neg, 1, {}, true));
  t.push_back(unary_op("exp", "e^x", "expf({})", ref_exp, 4, {}, true));
  t.push_back(unary_op("log", "natural log (NaN below 0, -inf at 0)", "logf({})", ref_log, 4));
  t.push_back(unary_op("sqrt", "square root (NaN below 0)", "sqrtf({})", ref_sqrt, 2));
  t.push_back(unary_op("rsqrt", "1 / sqrt(x)", "(1.0f / sqrtf({}))", ref_rsqrt, 3));
  return t;
}

}  // namespace jitfuse::ops
