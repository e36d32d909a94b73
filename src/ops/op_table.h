// The one op table: for every op, its arity, attributes and defaults, the header and f32
// device expression the code generator emits, and the float64 CPU reference.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jitfuse::ops {

enum class OpKind {
  gemm,    // A[M,K] x B (+ bias[N]): starts a kernel, its epilogue takes what follows
  unary,   // one tensor in, same shape out, applied per element in f32
  binary,  // two operands (tensors or number literals), broadcast NumPy-style, per element
};

// A node's attribute values, defaults filled in.
struct Attrs {
  std::map<std::string, double, std::less<>> numbers;
  std::map<std::string, std::string, std::less<>> choices;

  // The number attribute `name` (validated to exist, or defaulted).
  double number(std::string_view name) const;
  // Whether the optional number attribute `name` was given.
  bool has(std::string_view name) const { return numbers.count(name) != 0; }
  // The choice attribute `name` (validated to exist).
  const std::string& choice(std::string_view name) const;
};

// One attribute an op accepts.
struct AttrSpec {
  std::string_view name;
  std::vector<std::string_view> choices = {};  // non-empty: a string attribute with these values
  std::optional<double> default_number = {};  // a number attribute's default; nullopt: required
  bool optional = false;                     // a number attribute that may be absent (clamp)
  std::string_view default_choice = {};     // a string attribute's default
  std::string_view doc = {};

  bool is_choice() const { return !choices.empty(); }
};

// A violated constraint between attributes: the attribute to point at, and why.
struct AttrProblem {
  std::string attr;
  std::string message;
};

// An interval an f32 value is known to lie in (NaN aside: the ops let NaN through); bounds may
// be infinite.
struct Range {
  double lo, hi;
};
// Per input (or per value): its interval, or nullopt where nothing is known.
using Ranges = std::vector<std::optional<Range>>;

// Everything jitfuse knows about one op.
struct OpDef {
  std::string_view name;
  OpKind kind;
  int min_inputs;
  int max_inputs;
  std::vector<AttrSpec> attrs;
  std::string_view doc;     // one line, for docs and explain
  std::string_view header = {};  // the kernels/ header the device code needs ("" for none)
  // The f32 device expression of the op applied to the C++ expressions `x`.
  std::function<std::string(const std::vector<std::string>& x, const Attrs& a)> device = {};
  // A cheaper device expression that is exact enough where the inputs lie in `in`, or nullopt;
  // straight-line arithmetic (see straight_line).
  // Every kernel of a graph, fused or not, sees the same graph-wide ranges, so all emit the same
  // expression for a node: fused and unfused results stay identical.
  std::function<std::optional<std::string>(const std::vector<std::string>& x, const Attrs& a, const Ranges& in)>
      device_in_range = {};
  // The op on one element, in float64.
  std::function<double(const double* x, const Attrs& a)> reference = {};
  // The interval the output lies in, given the inputs' (`in`); nullopt (or no function) where
  // nothing is known. The code generator propagates these over the whole graph.
  std::function<std::optional<Range>(const Ranges& in, const Attrs& a)> range = {};
  // Constraints between attributes; nullopt when they hold.
  std::function<std::optional<AttrProblem>(const Attrs& a)> check = {};
  // FLOPs per element, for explain's roofline estimate.
  double flops_per_element = 1;
  // Its device expression is straight-line arithmetic (adds, multiplies, min/max, expf, tanhf):
  // no IEEE division, square root or libm call with a slow path. Only such ops (and cheap
  // device_in_range forms, straight-line by contract) go into a GEMM's inline epilogue, which
  // copies them into every accumulator's store: one division there took NVRTC 3 s, an rsqrt 17 s,
  // against 1.1 s with none (bench/NOTES.md v10).
  bool straight_line = false;
};

// The interval of f(x) for x in `in` when f is non-decreasing (unknown input: the whole line).
std::optional<Range> monotone_range(const std::optional<Range>& in, double (*f)(double, const Attrs&),
                                    const Attrs& a);

// An elementwise op of one input and no attributes: device expression `pattern` with {} for the
// input (e.g. "jf_relu({})"), float64 reference `ref`, the header the pattern needs, and whether
// it is straight-line (OpDef::straight_line).
OpDef unary_op(std::string_view name, std::string_view doc, const char* pattern, double (*ref)(double),
               double flops, std::string_view header = {}, bool straight_line = false);

// Each family of ops, in its own file (ops/*.cpp); all_ops() is their concatenation.
std::vector<OpDef> gemm_ops();
std::vector<OpDef> activation_ops();
std::vector<OpDef> math_ops();
std::vector<OpDef> binary_ops();

// The op named `name`, or nullptr.
const OpDef* find_op(std::string_view name);
// Every op, in table order.
const std::vector<OpDef>& all_ops();
// Every op name, for suggestions in errors.
std::vector<std::string_view> op_names();

}  // namespace jitfuse::ops
