#include "ops/op_table.h"


namespace jitfuse::ops {

double Attrs::number(std::string_view name) const { return numbers.find(name)->second; }
const std::string& Attrs::choice(std::string_view name) const {
  return choices.find(name)->second;
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
