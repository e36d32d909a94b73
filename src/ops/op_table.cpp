#include "ops/op_table.h"

#include <fmt/format.h>

#include <limits>

namespace jitfuse::ops {

double Attrs::number(std::string_view name) const { return numbers.find(name)->second; }
const std::string& Attrs::choice(std::string_view name) const {
  return choices.find(name)->second;
}

OpDef unary_op(std::string_view name, std::string_view doc, const char* pattern, double (*ref)(double),
               double flops, std::string_view header, bool straight_line) {
  return OpDef{
      .name = name,
      .kind = OpKind::unary,
      .min_inputs = 1,
      .max_inputs = 1,
      .attrs = {},
      .doc = doc,
      .header = header,
      .device = [pattern](const auto& x, const Attrs&) { return fmt::format(fmt::runtime(pattern), x[0]); },
      .reference = [ref](const double* x, const Attrs&) { return ref(x[0]); },
      .flops_per_element = flops,
      .straight_line = straight_line,
  };
}

std::optional<Range> monotone_range(const std::optional<Range>& in, double (*f)(double, const Attrs&),
                                    const Attrs& a) {
  const double inf = std::numeric_limits<double>::infinity();
  const Range x = in ? *in : Range{-inf, inf};
  return Range{f(x.lo, a), f(x.hi, a)};
}

const std::vector<OpDef>& all_ops() {
  // Adding an op means adding one entry to its family's file (and a device function in
  // kernels/ if it needs more than an expression).
  static const std::vector<OpDef> table = [] {
    std::vector<OpDef> t;
    for (auto family : {gemm_ops, activation_ops, math_ops, binary_ops}) {
      for (OpDef& op : family()) t.push_back(std::move(op));
    }
    return t;
  }();
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
