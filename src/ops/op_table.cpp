#include "ops/op_table.h"

#include <fmt/format.h>

#include <cmath>

#include "common/text.h"

namespace jitfuse::ops {

double Attrs::number(std::string_view name) const { return numbers.find(name)->second; }
const std::string& Attrs::choice(std::string_view name) const {
  return choices.find(name)->second;
}

namespace {

// The table. Adding an op means adding one entry here (and its device function in kernels/
// if it needs more than an expression).
std::vector<OpDef> make_table() {
  std::vector<OpDef> t;

  t.push_back(OpDef{
      .name = "gemm",
      .kind = OpKind::gemm,
      .min_inputs = 2,
      .max_inputs = 3,
      .attrs = {{.name = "b_layout",
                 .choices = {"nk", "kn"},
                 .default_choice = "nk",
                 .doc = "\"nk\": B is [N,K] like torch.nn.Linear.weight; \"kn\": B is [K,N]"}},
      .doc = "A[M,K] x B (+ bias[N]), accumulated in f32",
  });

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
        const double lo = static_cast<float>(a.number("min"));
        const double hi = static_cast<float>(a.number("max"));
        return x[0] < lo ? lo : (x[0] > hi ? hi : x[0]);
      },
      .check = [](const Attrs& a) -> std::optional<AttrProblem> {
        if (a.number("min") <= a.number("max")) return std::nullopt;
        return AttrProblem{"min", fmt::format("hardtanh needs min <= max, got min={}, max={}",
                                              number_text(a.number("min")),
                                              number_text(a.number("max")))};
      },
      .flops_per_element = 2,
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

}  // namespace

const std::vector<OpDef>& all_ops() {
  static const std::vector<OpDef> table = make_table();
  return table;
}

const OpDef* find_op(std::string_view name) {
  for (const OpDef& op : all_ops()) {
    if (op.name == name) return &op;
  }
  return nullptr;
}

std::vector<std::string_view> op_names() {
  std::vector<std::string_view> names;
  for (const OpDef& op : all_ops()) names.push_back(op.name);
  return names;
}

}  // namespace jitfuse::ops
