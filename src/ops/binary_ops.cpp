// Binary elementwise ops. Operands are tensors or number literals, broadcast NumPy-style
// (validate.cpp); a fused kernel reads a broadcast operand per row, per column or once.
#include <fmt/format.h>

#include <cmath>

#include "ops/op_table.h"

namespace jitfuse::ops {
namespace {

double nan_max(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b); }
double nan_min(double a, double b) { return std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b); }

OpDef binary(std::string_view name, std::string_view doc, const char* pattern,
             double (*ref)(double, double), std::string_view header = {}, bool straight_line = true) {
  return OpDef{
      .name = name,
      .kind = OpKind::binary,
      .min_inputs = 2,
      .max_inputs = 2,
      .attrs = {},
      .doc = doc,
      .header = header,
      .device = [pattern](const auto& x, const Attrs&) {
        return fmt::format(fmt::runtime(pattern), x[0], x[1]);
      },
      .reference = [ref](const double* x, const Attrs&) { return ref(x[0], x[1]); },
      .straight_line = straight_line,
  };
}

double ref_add(double a, double b) { return a + b; }
double ref_sub(double a, double b) { return a - b; }
double ref_mul(double a, double b) { return a * b; }
double ref_div(double a, double b) { return a / b; }

}  // namespace

std::vector<OpDef> binary_ops() {
  std::vector<OpDef> t;
  t.push_back(binary("add", "a + b", "({} + {})", ref_add));
  t.push_back(binary("sub", "a - b", "({} - {})", ref_sub));
  t.push_back(binary("mul", "a * b", "({} * {})", ref_mul));
  t.push_back(binary("div", "a / b (IEEE: x/0 is inf or NaN)", "({} / {})", ref_div, {}, false));
  t.push_back(binary("maximum", "the larger; NaN if either is NaN, as torch.maximum", "jf_maximum({}, {})",
                     nan_max, "jitfuse/kernels/binary.cuh"));
  t.push_back(binary("minimum", "the smaller; NaN if either is NaN, as torch.minimum", "jf_minimum({}, {})",
                     nan_min, "jitfuse/kernels/binary.cuh"));
  return t;
}

}  // namespace jitfuse::ops
