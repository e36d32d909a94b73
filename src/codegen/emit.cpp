#include "codegen/emit.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "codegen/epilogue_form.h"
#include "common/text.h"

namespace jitfuse {
namespace {

std::string elem_type(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float";
    case DType::f16: return "jf_f16";
    case DType::bf16: return "jf_bf16";
  }
  return "float";
}

std::string dtype_header(DType dtype) {
  switch (dtype) {
    case DType::f16: return "jitfuse/kernels/f16.cuh";
    case DType::bf16: return "jitfuse/kernels/bf16.cuh";
    default: return "";
  }
}

// A dim as a JF_X(p) macro body: the literal when fixed, else the struct member.
std::string dim_macro(const char* name, const Dim& d, const char* member) {
  return d.is_symbolic() ? fmt::format("#define {}(p) ((p).{})  // {}\n", name, member, d.symbol)
                         : fmt::format("#define {}(p) {}\n", name, d.size);
}

std::string var(const Value& v) { return "v_" + v.name; }

// The math a kernel is generated with: "auto" not resolved by the caller (resolve_math) is ieee.
MathMode effective_math(MathMode m) { return m == MathMode::automatic ? MathMode::ieee : m; }

// The interval each value of the graph lies in, where the ops tell (OpDef::range): literals are
// their f32 value, graph inputs and GEMM results unknown. Graph-wide, so that every kernel of a
// plan, fused or not, emits the same expression for a node.
ops::Ranges value_ranges(const TypedGraph& g) {
  ops::Ranges r(g.values.size());
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    if (g.values[v].constant) {
      const double c = static_cast<float>(*g.values[v].constant);
      r[v] = ops::Range{c, c};
    }
  }
  for (const TypedNode& n : g.nodes) {  // topological order
    if (!n.op->range) continue;
    ops::Ranges in;
    for (int i : n.inputs) in.push_back(r[i]);
    r[n.output] = n.op->range(in, n.attrs);
  }
  return r;
}

// The source's parts, assembled in a fixed order.
struct Builder {
  const TypedGraph& g;
  const KernelPlan& k;
  bool gemm_kernel = false;
  KernelSource out;
  std::string defines;
  std::string fields;
  std::string body;
  std::set<std::string> taken;  // fields already in jf_params
  ops::Ranges ranges = value_ranges(g);
  double flops = 0;            // of the fused ops, an element
  bool straight_line = true;   // every fused op's expression as emitted (OpDef::straight_line)

  void pointer(std::string field, int value, bool writes, int align, std::string note) {
    if (!taken.insert(field).second) return;
    const std::string type = elem_type(g.dtype);
    fields += fmt::format("  {}{}* __restrict__ {};  // {}\n", writes ? "" : "const ", type, field,
                          note);
    out.params.push_back(Param{std::move(field), Param::Kind::pointer, value, writes, align, {}});
  }
  void tensor_map(std::string field, int value, int box_rows, int box_cols, std::string note,
                  std::string x3_part = {}) {
    if (!taken.insert(field).second) return;
    fields += fmt::format("  jf_tensor_map {};  // {}\n", field, note);
    Param param{std::move(field), Param::Kind::tensor_map, value, false, 16, std::move(x3_part)};
    param.box_rows = box_rows;
    param.box_cols = box_cols;
    out.params.push_back(std::move(param));
  }
  void scratch(std::string field, std::string type, std::string part, std::string note) {
    if (!taken.insert(field).second) return;
    fields += fmt::format("  {}* __restrict__ {};  // {}\n", type, field, note);
    out.params.push_back(Param{std::move(field), Param::Kind::scratch, -1, true, 16, std::move(part)});
  }
  void scalar(Param::Kind kind, std::string field, std::string dim) {
    if (!taken.insert(field).second) return;
    fields += fmt::format("  {} {};\n", kind == Param::Kind::i32 ? "int" : "long long", field);
    out.params.push_back(Param{field, kind, -1, false, 0, std::move(dim)});
  }
  // A dim as an expression: a literal, or a run-time field for a symbol.
  std::string dim(const Dim& d) {
    if (!d.is_symbolic()) return fmt::format("{}LL", d.size);
    scalar(Param::Kind::i64, "dim_" + d.symbol, "sym:" + d.symbol);
    return "p.dim_" + d.symbol;
  }
  // The index of the current element in a full-shape tensor.
  std::string full_index() const { return gemm_kernel ? "(long long)row * JF_N(p) + col" : "i"; }
  // The index into `op` broadcast over the kernel's iteration space `space` (NumPy rules).
  std::string broadcast_index(const Shape& op, const Shape& space) {
    if (op == space) return full_index();
    const std::size_t r = space.size(), q = op.size();
    std::vector<std::string> coord(r);
    if (gemm_kernel) {
      coord = {"(long long)row", "(long long)col"};
    } else {
      std::string inner;  // product of the dims to the right
      for (std::size_t d = r; d-- > 0;) {
        const std::string base = inner.empty() ? "i" : fmt::format("(i / ({}))", inner);
        if (d == 0) {
          coord[d] = base;
          break;
        }
        coord[d] = fmt::format("({} % {})", base, dim(space[d]));
        inner = inner.empty() ? dim(space[d]) : fmt::format("{} * {}", inner, dim(space[d]));
      }
    }
    std::vector<std::string> terms;
    std::string stride;  // product of the operand's dims to the right (size-1 dims left out)
    for (std::size_t j = q; j-- > 0;) {
      const std::size_t d = r - q + j;
      const bool stretched = !op[j].is_symbolic() && op[j].size == 1 && space[d] != op[j];
      if (!stretched) terms.push_back(stride.empty() ? coord[d] : fmt::format("{} * {}", coord[d], stride));
      const bool one = !op[j].is_symbolic() && op[j].size == 1;
      if (j > 0 && !one) stride = stride.empty() ? dim(op[j]) : fmt::format("{} * {}", stride, dim(op[j]));
    }
    if (terms.empty()) return "0";
    std::reverse(terms.begin(), terms.end());
    std::string sum;
    for (const auto& t : terms) sum += (sum.empty() ? "" : " + ") + t;
    return sum;
  }

  // Reads each value the fused ops need from memory (graph inputs, earlier kernels' results).
  void loads() {
    const Shape& space = g.values[k.space].shape;
    for (int v : k.loads) {
      const Value& val = g.values[v];
      pointer("in_" + val.name, v, false, 0, fmt::format("{} {}", val.name, to_string(val.shape)));
      body += fmt::format("  const float {} = jf_ld(p.in_{}, {});\n", var(val), val.name,
                          broadcast_index(val.shape, space));
    }
  }
  // The fused elementwise ops, one SSA line each, and the stores of what leaves the kernel.
  void ops() {
    for (int op : k.ops) {
      const TypedNode& n = g.nodes[op];
      std::vector<std::string> args;
      ops::Ranges in;
      for (int i : n.inputs) {
        const Value& v = g.values[i];
        args.push_back(v.constant ? f32_literal(*v.constant) : var(v));
        in.push_back(ranges[i]);
      }
      std::optional<std::string> cheap;
      if (n.op->device_in_range) cheap = n.op->device_in_range(args, n.attrs, in);
      flops += n.op->flops_per_element;
      straight_line = straight_line && (cheap || n.op->straight_line);
      body += fmt::format("  const float {} = {};\n", var(g.values[n.output]),
                          cheap ? *cheap : n.op->device(args, n.attrs));
      store_if_needed(n.output);
    }
  }
  void store_if_needed(int value) {
    const auto slot = std::find(k.stores.begin(), k.stores.end(), value);
    if (slot == k.stores.end()) return;
    // The template stores out[] (the elementwise one as vectors where it can, the GEMM ones
    // through kernels/epilogue.cuh).
    body += fmt::format("  out[{}] = {};\n", slot - k.stores.begin(), var(g.values[value]));
  }
  // The outputs' pointer fields; returns their names, in out[] (JF_STORE_PTRS) order.
  std::vector<std::string> store_params() {
    std::vector<std::string> names;
    for (int v : k.stores) {
      pointer("out_" + g.values[v].name, v, true, 0,
              fmt::format("{} {}", g.values[v].name, to_string(g.values[v].shape)));
      names.push_back(g.values[v].name);
    }
    return names;
  }
};

std::vector<std::string> op_headers(const TypedGraph& g, const KernelPlan& k) {
  std::set<std::string> set;
  for (int op : k.ops) {
    if (!g.nodes[op].op->header.empty()) set.insert(std::string(g.nodes[op].op->header));
  }
  return {set.begin(), set.end()};
}

bool vector_rows(const Dim& row_length, DType dtype) {
  return !row_length.is_symbolic() && (row_length.size * std::int64_t(dtype_size(dtype))) % 16 == 0;
}

// What a GEMM kernel's config depends on besides the options.
struct GemmProblem {
  bool kn = false, vec_a = false, vec_b = false;
  GemmShape shape;
};

GemmProblem gemm_problem(const TypedGraph& g, const TypedNode& gemm) {
  const Value& a = g.values[gemm.inputs[0]];
  const Dim M = a.shape[0], K = a.shape[1], N = g.values[gemm.output].shape[1];
  auto known = [](const Dim& d) { return d.is_symbolic() ? std::nullopt : std::optional(d.size); };
  GemmProblem p;
  p.kn = gemm.attrs.choice("b_layout") == "kn";
  p.vec_a = vector_rows(K, g.dtype);
  p.vec_b = vector_rows(p.kn ? N : K, g.dtype);
  p.shape = {known(M), known(N), known(K)};
  return p;
}

// "#define JF_LOAD_PTRS(p) (p).in_x, (p).in_y": the members `prefix` + `names`, as a list macro.
std::string list_macro(const char* macro, const std::vector<std::string>& names, const char* prefix) {
  std::string out = fmt::format("#define {}(p)", macro);
  for (std::size_t i = 0; i < names.size(); ++i) {
    out += fmt::format("{} (p).{}{}", i ? "," : "", prefix, names[i]);
  }
  return out + "\n";
}

// JF_STORES and JF_STORE_PTRS(p): how many outputs the template stores out[] to, and where.
std::string store_macros(const std::vector<std::string>& stores) {
  return fmt::format("#define JF_STORES {}\n", stores.size()) + list_macro("JF_STORE_PTRS", stores, "out_");
}

void emit_gemm(Builder& b, const EmitOptions& options) {
  const TypedGraph& g = b.g;
  const TypedNode& gemm = g.nodes[b.k.gemm];
  const Value& a = g.values[gemm.inputs[0]];
  const Value& bv = g.values[gemm.inputs[1]];
  const Dim M = a.shape[0], K = a.shape[1], N = g.values[gemm.output].shape[1];
  const GemmProblem problem = gemm_problem(g, gemm);
  const bool kn = problem.kn, vec_a = problem.vec_a, vec_b = problem.vec_b;
  const MathMode math = effective_math(options.math);
  const GemmConfig c = choose_gemm_config(g.dtype, math, kn, vec_a && vec_b, options.arch,
                                          problem.shape, options.gemm);

  b.defines += fmt::format("typedef {} jf_elem_t;\n", elem_type(g.dtype));
  if (!c.mma_macro.empty()) b.defines += fmt::format("#define {} 1\n", c.mma_macro);
  b.defines += fmt::format("#define JF_B_KN {}\n#define JF_VEC_A {}\n#define JF_VEC_B {}\n", kn ? 1 : 0,
                           vec_a ? 1 : 0, vec_b ? 1 : 0);
  b.defines += fmt::format("#define JF_BM {}\n#define JF_BN {}\n#define JF_BK {}\n", c.bm, c.bn, c.bk);
  if (c.tmpl == GemmTemplate::mma) {
    b.defines += fmt::format("#define JF_WM {}\n#define JF_WN {}\n#define JF_STAGES {}\n", c.wm,
                             c.wn, c.stages);
  } else if (c.tmpl == GemmTemplate::wgmma) {
    b.defines += fmt::format("#define JF_CONSUMERS {}\n#define JF_STAGES {}\n#define JF_CLUSTER_M {}\n",
                             c.consumers, c.stages, c.cluster_m);
    if (c.cluster_n > 1) b.defines += fmt::format("#define JF_CLUSTER_N {}\n", c.cluster_n);
    if (c.sum_ktiles) b.defines += fmt::format("#define JF_SUM_KTILES {}\n", c.sum_ktiles);
    if (c.split_k > 1) b.defines += fmt::format("#define JF_SPLIT_K {}\n", c.split_k);
    if (c.pingpong) b.defines += "#define JF_PINGPONG 1\n";
    if (c.handoff) b.defines += fmt::format("#define JF_HANDOFF {}\n", c.handoff);
    if (c.stream_k) b.defines += "#define JF_STREAM_K 1\n";
  } else {
    b.defines += fmt::format("#define JF_TM {}\n#define JF_TN {}\n", c.tm, c.tn);
  }
  b.defines += fmt::format("#define JF_THREADS {}\n#define JF_SMEM_BYTES {}\n", c.threads,
                           c.smem_bytes);
  b.defines += dim_macro("JF_M", M, "M") + dim_macro("JF_N", N, "N") + dim_macro("JF_K", K, "K");

  if (c.tmpl == GemmTemplate::wgmma) {  // first: the struct's 64-byte-aligned members
    // Each CTA of a cluster loads its share of the rows; bf16x3's maps describe the bf16 halves
    // in the kernel's scratch instead of A and B.
    const int a_rows = c.bm / c.cluster_n, b_rows = c.bn / c.cluster_m;
    const char* hi = c.x3 ? "'s hi half (bf16)" : "";
    b.tensor_map("tma_a", gemm.inputs[0], a_rows, c.bk,
                 fmt::format("A = {}{}, box {}x{}", a.name, hi, a_rows, c.bk), c.x3 ? "x3:a_hi" : "");
    b.tensor_map("tma_b", gemm.inputs[1], b_rows, c.bk,
                 fmt::format("B = {}{}, box {}x{}", bv.name, hi, b_rows, c.bk), c.x3 ? "x3:b_hi" : "");
    if (c.x3) {
      b.tensor_map("tma_a_lo", gemm.inputs[0], a_rows, c.bk,
                   fmt::format("A's lo half, box {}x{}", a_rows, c.bk), "x3:a_lo");
      b.tensor_map("tma_b_lo", gemm.inputs[1], b_rows, c.bk,
                   fmt::format("B's lo half, box {}x{}", b_rows, c.bk), "x3:b_lo");
    }
  }
  b.pointer("a", gemm.inputs[0], false, vec_a ? 16 : 0,
            fmt::format("A = {} {}", a.name, to_string(a.shape)));
  b.pointer("b", gemm.inputs[1], false, vec_b ? 16 : 0,
            fmt::format("B = {} {} ({})", bv.name, to_string(bv.shape), kn ? "kn" : "nk"));
  const Value& y = g.values[gemm.output];
  if (gemm.inputs.size() == 3) {
    const Value& bias = g.values[gemm.inputs[2]];
    b.pointer("in_" + bias.name, gemm.inputs[2], false, 0,
              fmt::format("{} {}", bias.name, to_string(bias.shape)));
    b.body += fmt::format("  const float {} = acc + jf_ld(p.in_{}, col);\n", var(y), bias.name);
  } else {
    b.body += fmt::format("  const float {} = acc;\n", var(y));
  }
  b.defines += store_macros(b.store_params());
  b.scalar(Param::Kind::i32, "M", "M");
  b.scalar(Param::Kind::i32, "N", "N");
  b.scalar(Param::Kind::i32, "K", "K");
  if (c.stream_k) {
    b.scratch("sk_flags", "unsigned", "sk_flags", "stream-K: a counter a consumer warp of each CTA");
    b.scratch("sk_part", "float", "sk_part", "stream-K: a partial tile a CTA");
  }
  if (c.x3) {
    b.scratch("x3_sync", "unsigned", "x3_sync", "bf16x3: the grid barrier's count and generation");
    b.scratch("x3_a", "unsigned short", "x3_a", "bf16x3: A's halves, hi then lo, [M, Kp] bf16 each");
    b.scratch("x3_b", "unsigned short", "x3_b", "bf16x3: B's halves, hi then lo, [N, Kp] bf16 each");
  }
  b.store_if_needed(gemm.output);
  b.loads();
  b.ops();
  const EpilogueForm form = epilogue_form(b.flops, b.straight_line, c);
  b.defines += fmt::format("#define JF_EPILOGUE_INLINE {}\n", form.inline_interior ? 1 : 0);

  b.out.config = c.describe() + (c.note.empty() ? "" : "; " + c.note) + "; " + form.note;
  b.out.not_applied = c.not_applied;
  if (g.dtype == DType::f32) b.out.math = std::string(to_string(c.math));
  b.out.launch = LaunchConfig{.kind = KernelKind::gemm, .threads = c.threads, .smem_bytes = c.smem_bytes,
                              .tile_m = c.bm, .tile_n = c.bn, .cluster_m = c.cluster_m, .cluster_n = c.cluster_n,
                              .persistent = c.persistent, .split_k = c.split_k, .stream_k = c.stream_k,
                              .x3 = c.x3,
                              .pdl = c.tmpl == GemmTemplate::wgmma};
  if (c.tmpl == GemmTemplate::wgmma) b.out.includes.push_back("jitfuse/kernels/hopper.cuh");
  b.out.includes.push_back("jitfuse/templates/" + c.template_file());
}

// The elementwise kernel's reads: a full-shape input comes from the template's in[] (which
// loads it, as 16-byte vectors where the pointers allow), a broadcast one is read here at its
// own index. Returns the full-shape inputs' names, in in[] order.
std::vector<std::string> elementwise_loads(Builder& b) {
  const Shape& space = b.g.values[b.k.space].shape;
  std::vector<std::string> full;
  for (int v : b.k.loads) {
    const Value& val = b.g.values[v];
    b.pointer("in_" + val.name, v, false, 0, fmt::format("{} {}", val.name, to_string(val.shape)));
    if (val.shape == space) {
      b.body += fmt::format("  const float {} = in[{}];\n", var(val), full.size());
      full.push_back(val.name);
    } else {
      b.body += fmt::format("  const float {} = jf_ld(p.in_{}, {});\n", var(val), val.name,
                            b.broadcast_index(val.shape, space));
    }
  }
  return full;
}

void emit_elementwise(Builder& b) {
  const TypedGraph& g = b.g;
  const Shape& shape = g.values[b.k.space].shape;
  const std::int64_t numel = static_numel(shape);
  constexpr int kThreads = 256;
  // Resident per SM on every arch (sm_75 runs 1024 threads an SM): up to 64 registers a thread.
  constexpr int kMinBlocks = 4;
  const int vec = 16 / int(dtype_size(g.dtype));
  const std::vector<std::string> loads = elementwise_loads(b);
  const std::vector<std::string> stores = b.store_params();
  b.scalar(Param::Kind::i64, "numel", "numel");
  b.ops();
  // 4 vectors a thread per pass: 64 bytes in flight per full-shape input, enough at 1024 threads
  // an SM to cover the latency of HBM. The body is copied once per element of them (16 or 32
  // times), so a long one (over kInlineEpilogueFlops) takes one vector a pass: such a kernel is
  // bound by its arithmetic, not by memory latency, and NVRTC's time stays short
  // (all_ops_elementwise, 96 FLOPs an element: 1.9 s -> 0.4 s; bench/NOTES.md v10).
  const int unroll = b.flops <= kInlineEpilogueFlops ? 4 : 1;

  b.defines += fmt::format("typedef {} jf_elem_t;\n", elem_type(g.dtype));
  b.defines += fmt::format("#define JF_THREADS {}\n#define JF_MIN_BLOCKS {}\n", kThreads, kMinBlocks);
  b.defines += numel < 0 ? "#define JF_NUMEL(p) ((p).numel)\n"
                         : fmt::format("#define JF_NUMEL(p) {}LL\n", numel);
  b.defines += fmt::format("#define JF_VEC {}\n#define JF_UNROLL {}\n", vec, unroll);
  b.defines += fmt::format("#define JF_LOADS {}\n", loads.size());
  b.defines += list_macro("JF_LOAD_PTRS", loads, "in_");
  b.defines += store_macros(stores);
  std::vector<std::string> vectorized = loads;
  vectorized.insert(vectorized.end(), stores.begin(), stores.end());
  b.out.config = fmt::format(
      "elementwise.cu, {} threads, {} vector{} of {} {} (16 bytes) a thread per pass for {} (element "
      "by element when one is not 16-byte aligned); {} elements",
      kThreads, unroll, unroll == 1 ? "" : "s", vec, to_string(g.dtype), join(vectorized, ", "),
      numel < 0 ? to_string(shape) : std::to_string(numel));
  b.out.launch = LaunchConfig{.kind = KernelKind::elementwise, .threads = kThreads,
                              .items_per_thread = vec * unroll, .blocks_per_sm = kMinBlocks};
  b.out.includes.push_back("jitfuse/templates/elementwise.cu");
}

std::string describe_ops(const TypedGraph& g, const KernelPlan& k) {
  std::vector<std::string> parts;
  if (k.gemm >= 0) parts.push_back(fmt::format("{} = gemm", g.nodes[k.gemm].name));
  for (int op : k.ops) parts.push_back(fmt::format("{} = {}", g.nodes[op].name, g.nodes[op].op->name));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

}  // namespace

X3Layout x3_layout(std::int64_t m, std::int64_t n, std::int64_t k) {
  X3Layout l;
  l.kp = (k + 7) / 8 * 8;
  auto up = [](std::size_t x) { return (x + 255) / 256 * 256; };
  l.a_offset = 256;
  l.b_offset = up(l.a_offset + 2 * std::size_t(m) * std::size_t(l.kp) * 2);
  l.bytes = up(l.b_offset + 2 * std::size_t(n) * std::size_t(l.kp) * 2);
  return l;
}

StreamKLayout stream_k_layout(const LaunchConfig& launch, std::int64_t ctas) {
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(ctas, 0));
  const std::size_t warps = static_cast<std::size_t>(launch.threads / 32);  // >= the consumers'
  StreamKLayout l;
  l.part_offset = (n * warps * 4 + 255) / 256 * 256;
  l.bytes = l.part_offset + n * static_cast<std::size_t>(launch.tile_m) * launch.tile_n * 4;
  return l;
}

MathMode resolve_math(const TypedGraph& g, const Plan& plan, const Arch& arch, MathMode requested) {
  if (requested != MathMode::automatic) return requested;
  if (g.dtype != DType::f32) return MathMode::ieee;
  bool any = false, small = false;
  for (const KernelPlan& k : plan.kernels) {
    if (k.kind != KernelKind::gemm) continue;
    const GemmProblem p = gemm_problem(g, g.nodes[k.gemm]);
    if (!wgmma_tf32x3_applies(p.kn, p.vec_a && p.vec_b, arch, p.shape)) return MathMode::ieee;
    any = true;
    const bool known = p.shape.m && p.shape.n && p.shape.k;
    small = small || !known || wgmma_small_problem(p.shape);
  }
  // bf16x3 where every GEMM is known (dims baked in) to be large: its split and grid barrier cost
  // a few microseconds that a small, latency-bound problem would feel, and its scratch grows
  // with M; tf32x3 otherwise.
  if (!any) return MathMode::ieee;
  return small ? MathMode::tf32x3 : MathMode::bf16x3;
}

Expected<KernelSource> emit_source(const TypedGraph& g, const Plan& plan, int kernel,
                                   const EmitOptions& options) {
  if (kernel < 0 || kernel >= int(plan.kernels.size())) {
    return make_error(ErrorCode::internal, fmt::format("emit_source: no kernel {}", kernel));
  }
  const KernelPlan& k = plan.kernels[kernel];
  Builder b{g, k, k.kind == KernelKind::gemm, {}, {}, {}, {}, {}};
  b.out.name = k.name;
  b.out.dims = g.specialized;
  b.defines = fmt::format("#define JF_KERNEL_NAME {}\n", k.name);
  if (k.kind == KernelKind::gemm) emit_gemm(b, options);
  else emit_elementwise(b);

  std::vector<std::string> includes = {"jitfuse/kernels/types.cuh"};
  if (!dtype_header(g.dtype).empty()) includes.push_back(dtype_header(g.dtype));
  for (auto& h : op_headers(g, k)) includes.push_back(h);
  includes.insert(includes.end(), b.out.includes.begin(), b.out.includes.end());
  b.out.includes = includes;

  std::string code = fmt::format(
      "// Generated by jitfuse: graph '{}', kernel {} of {}: {}.\n"
      "// {}; dtype {}{}, {}.\n",
      g.name, kernel, plan.kernels.size(), describe_ops(g, k), b.out.config, to_string(g.dtype),
      g.dtype == DType::f32 && k.kind == KernelKind::gemm
          ? fmt::format(", math {}", to_string(effective_math(options.math)))
          : "",
      options.arch.name());
  for (std::size_t i = 0; i + 1 < includes.size(); ++i) code += fmt::format("#include \"{}\"\n", includes[i]);
  code += "\n" + b.defines + "\nstruct jf_params {\n" + b.fields + "};\n\n";
  if (k.kind == KernelKind::gemm) {
    code += "// The fused epilogue, once per output element (row, col), on the f32 accumulator: the\n"
            "// results leave in out[] (JF_STORE_PTRS order); the template stores them.\n"
            "__device__ __forceinline__ void jf_epilogue_values(const jf_params& p, int row, int col, "
            "float acc, float* out) {\n";
  } else {
    code += "// The fused elementwise body, once per element i: full-shape inputs arrive in in[] and results\n"
            "// leave in out[] (the template moves them, as 16-byte vectors where it can).\n"
            "__device__ __forceinline__ void jf_elementwise(const jf_params& p, long long i, "
            "const float* in, float* out) {\n";
  }
  code += b.body + "}\n\n" + fmt::format("#include \"{}\"\n", includes.back());
  b.out.code = std::move(code);
  return std::move(b.out);
}

}  // namespace jitfuse
