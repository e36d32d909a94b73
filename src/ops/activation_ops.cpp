// Activations, with PyTorch's names, attributes, defaults and NaN behaviour. Each entry: the
// f32 device expression (functions in kernels/activations.cuh, gelu.cuh, clamp.cuh) and the
// float64 reference.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/text.h"
#include "ops/op_table.h"

namespace jitfuse::ops {
namespace {

constexpr std::string_view kActivations = "jitfuse/kernels/activations.cuh";

// An attribute as the kernel sees it: rounded to f32.
double f32(double v) { return static_cast<float>(v); }

double softplus(double x, double beta, double threshold) {
  return x * beta > threshold ? x : std::log1p(std::exp(beta * x)) / beta;
}

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double ref_silu(double x) { return x * ref_sigmoid(x); }
double ref_relu(double x) { return x < 0 ? 0.0 : x; }
double ref_mish(double x) { return x * std::tanh(softplus(x, 1.0, 20.0)); }
double ref_hardsigmoid(double x) { return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0; }
double ref_hardswish(double x) { return x * ref_hardsigmoid(x); }
double ref_tanh(double x) { return std::tanh(x); }

}  // namespace

std::vector<OpDef> activation_ops() {
  std::vector<OpDef> t;
  t.push_back(unary_op("relu", "max(x, 0), as torch.relu", "jf_relu({})", ref_relu, 1, kActivations, true));
  t.back().range = [](const Ranges& in, const Attrs& a) {
    return monotone_range(in[0], [](double x, const Attrs&) { return x < 0 ? 0.0 : x; }, a);
  };
  t.push_back(unary_op("sigmoid", "1 / (1 + exp(-x))", "jf_sigmoid({})", ref_sigmoid, 4, kActivations));
  t.back().range = [](const Ranges&, const Attrs&) { return std::optional<Range>(Range{0.0, 1.0}); };
  t.push_back(unary_op("tanh", "tanh(x)", "tanhf({})", ref_tanh, 6, {}, true));
  t.back().range = [](const Ranges&, const Attrs&) { return std::optional<Range>(Range{-1.0, 1.0}); };
  t.push_back(unary_op("silu", "x * sigmoid(x), as torch.nn.SiLU", "jf_silu({})", ref_silu, 5, kActivations));
  t.push_back(unary_op("swish", "an alias of silu", "jf_silu({})", ref_silu, 5, kActivations));
  t.push_back(unary_op("mish", "x * tanh(softplus(x)), as torch.nn.Mish", "jf_mish({})", ref_mish, 12, kActivations));
  t.push_back(unary_op("hardswish", "x * relu6(x + 3) / 6, as torch.nn.Hardswish", "jf_hardswish({})", ref_hardswish, 5, kActivations));
  t.push_back(unary_op("hardsigmoid", "relu6(x + 3) / 6, as torch.nn.Hardsigmoid", "jf_hardsigmoid({})", ref_hardsigmoid, 4, kActivations));

  t.push_back(OpDef{
      .name = "leaky_relu",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "negative_slope", .default_number = 0.01, .doc = "the slope for x < 0"}},
      .doc = "x if x > 0 else negative_slope * x, as torch.nn.LeakyReLU",
      .header = kActivations,
      .device = [](const auto& x, const Attrs& a) {
        return fmt::format("jf_leaky_relu({}, {})", x[0], f32_literal(a.number("negative_slope")));
      },
      .reference = [](const double* x, const Attrs& a) {
        return x[0] > 0 ? x[0] : x[0] * f32(a.number("negative_slope"));
      },
      .flops_per_element = 2,
      .straight_line = true,
  });

  t.push_back(OpDef{
      .name = "softplus",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "beta", .default_number = 1.0, .doc = "the sharpness"},
                {.name = "threshold", .default_number = 20.0, .doc = "beta * x above this is linear"}},
      .doc = "log(1 + exp(beta * x)) / beta, linear above the threshold, as torch.nn.Softplus",
      .header = kActivations,
      .device = [](const auto& x, const Attrs& a) {
        return fmt::format("jf_softplus({}, {}, {})", x[0], f32_literal(a.number("beta")),
                           f32_literal(a.number("threshold")));
      },
      .reference = [](const double* x, const Attrs& a) {
        return softplus(x[0], f32(a.number("beta")), f32(a.number("threshold")));
      },
      .check = [](const Attrs& a) -> std::optional<AttrProblem> {
        // The kernel divides by beta as an f32: a beta below f32's smallest denormal is 0 there.
        if (f32(a.number("beta")) != 0) return std::nullopt;
        if (a.number("beta") == 0) return AttrProblem{"beta", "softplus needs beta != 0"};
        return AttrProblem{"beta", fmt::format("softplus needs beta != 0, and {} is 0 as an f32 (the kernel's "
                                               "arithmetic); give |beta| >= 1.4e-45",
                                               number_text(a.number("beta")))};
      },
      .flops_per_element = 8,
  });

  t.push_back(OpDef{
      .name = "elu",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "alpha", .default_number = 1.0, .doc = "the scale of the negative part"}},
      .doc = "x if x > 0 else alpha * (exp(x) - 1), as torch.nn.ELU",
      .header = kActivations,
      .device = [](const auto& x, const Attrs& a) {
        return fmt::format("jf_elu({}, {})", x[0], f32_literal(a.number("alpha")));
      },
      .reference = [](const double* x, const Attrs& a) {
        return x[0] > 0 ? x[0] : f32(a.number("alpha")) * std::expm1(x[0]);
      },
      .flops_per_element = 6,
  });

  t.push_back(OpDef{
      .name = "hardtanh",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "min", .default_number = -1.0, .doc = "lower bound"},
                {.name = "max", .default_number = 1.0, .doc = "upper bound"}},
      .doc = "clamp(x, min, max), as torch.nn.Hardtanh (NaN passes through)",
      .header = "jitfuse/kernels/clamp.cuh",
      .device = [](const auto& x, const Attrs& a) {
        return fmt::format("jf_clamp({}, {}, {})", x[0], f32_literal(a.number("min")),
                           f32_literal(a.number("max")));
      },
      .reference = [](const double* x, const Attrs& a) {
        const double lo = f32(a.number("min")), hi = f32(a.number("max"));
        return x[0] < lo ? lo : (x[0] > hi ? hi : x[0]);
      },
      .range = [](const Ranges& in, const Attrs& a) {
        return monotone_range(in[0], [](double x, const Attrs& at) {
          const double lo = f32(at.number("min")), hi = f32(at.number("max"));
          return x < lo ? lo : (x > hi ? hi : x);
        }, a);
      },
      .check = [](const Attrs& a) -> std::optional<AttrProblem> {
        if (a.number("min") <= a.number("max")) return std::nullopt;
        return AttrProblem{"min", fmt::format("hardtanh needs min <= max, got min={}, max={}",
                                              number_text(a.number("min")), number_text(a.number("max")))};
      },
      .flops_per_element = 2,
      .straight_line = true,
  });

  t.push_back(OpDef{
      .name = "gelu",
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {{.name = "approximate",
                 .choices = {"none", "tanh"},
                 .default_choice = "none",
                 .doc = "\"none\": exact erf form; \"tanh\": the tanh approximation"}},
      .doc = "x * Phi(x), as torch.nn.GELU",
      .header = "jitfuse/kernels/gelu.cuh",
      .device = [](const auto& x, const Attrs& a) {
        const char* fn = a.choice("approximate") == "tanh" ? "jf_gelu_tanh" : "jf_gelu_erf";
        return fmt::format("{}({})", fn, x[0]);
      },
      // An input known to lie in [-2.1, 2.1] (hardtanh(-2, 2) before, say) takes a polynomial of
      // ~10 instructions instead of erff's ~24 (kernels/gelu.cuh). It holds on [-2.125, 2.125]:
      // the margin covers the rounding of a scaled bound or of a bf16/f16 intermediate.
      .device_in_range = [](const std::vector<std::string>& x, const Attrs& a,
                            const Ranges& in) -> std::optional<std::string> {
        if (a.choice("approximate") != "none" || !in[0]) return std::nullopt;
        if (std::max(std::fabs(in[0]->lo), std::fabs(in[0]->hi)) > 2.1) return std::nullopt;
        return fmt::format("jf_gelu_erf_bounded({})", x[0]);
      },
      .reference = [](const double* x, const Attrs& a) {
        const double v = x[0];
        if (a.choice("approximate") == "tanh") {
          const double k = std::sqrt(2.0 / M_PI);
          return 0.5 * v * (1.0 + std::tanh(k * (v + 0.044715 * v * v * v)));
        }
        return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      },
      .flops_per_element = 8,
  });
  return t;
}

}  // namespace jitfuse::ops
