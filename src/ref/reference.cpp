// The float64 reference executor: the truth GPU results are checked against. Simple by
// design; only the GEMM is blocked and threaded, so that M=2048, N=K=8192 takes seconds.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "common/shape.h"
#include "graph/typed_graph.h"
#include "jitfuse/reference.hpp"

namespace jitfuse {
namespace {

using Shape64 = std::vector<std::int64_t>;

// C[M,N] = A[M,K] * Bt[N,K]^T, accumulating exact f32 products in double.
void gemm(const std::vector<float>& a, const std::vector<float>& bt, std::vector<double>& c,
          std::int64_t M, std::int64_t N, std::int64_t K, unsigned threads) {
  constexpr std::int64_t TM = 64, TN = 64, TK = 256;
  const std::int64_t tiles_m = (M + TM - 1) / TM, tiles_n = (N + TN - 1) / TN;
  std::atomic<std::int64_t> next{0};
  auto worker = [&] {
    std::vector<double> acc(TM * TN);
    for (std::int64_t t; (t = next++) < tiles_m * tiles_n;) {
      const std::int64_t m0 = (t / tiles_n) * TM, n0 = (t % tiles_n) * TN;
      const std::int64_t m1 = std::min(M, m0 + TM), n1 = std::min(N, n0 + TN);
      std::fill(acc.begin(), acc.end(), 0.0);
      for (std::int64_t k0 = 0; k0 < K; k0 += TK) {
        const std::int64_t k1 = std::min(K, k0 + TK);
        for (std::int64_t m = m0; m < m1; ++m) {
          const float* ar = a.data() + m * K;
          for (std::int64_t n = n0; n < n1; ++n) {
            const float* br = bt.data() + n * K;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains for ILP and SLP vectorizing
            std::int64_t k = k0;
            for (; k + 4 <= k1; k += 4) {
              s0 += double(ar[k]) * br[k];
              s1 += double(ar[k + 1]) * br[k + 1];
              s2 += double(ar[k + 2]) * br[k + 2];
              s3 += double(ar[k + 3]) * br[k + 3];
            }
            for (; k < k1; ++k) s0 += double(ar[k]) * br[k];
            acc[(m - m0) * TN + (n - n0)] += (s0 + s1) + (s2 + s3);
          }
        }
      }
      for (std::int64_t m = m0; m < m1; ++m) {
        for (std::int64_t n = n0; n < n1; ++n) c[m * N + n] = acc[(m - m0) * TN + (n - n0)];
      }
    }
  };
  threads = std::max(1u, std::min<unsigned>(threads, unsigned(tiles_m * tiles_n)));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
}

std::vector<float> to_float(const std::vector<double>& d) { return {d.begin(), d.end()}; }

// op(a, b) with NumPy broadcasting; returns the result's shape.
Shape64 broadcast_binary(const ops::OpDef& op, const ops::Attrs& attrs, const Shape64& as,
                         const std::vector<double>& a, const Shape64& bs, const std::vector<double>& b,
                         std::vector<double>& out) {
  const std::size_t r = std::max(as.size(), bs.size());
  Shape64 shape(r);
  // Strides of each operand over the result's dims: 0 where it is stretched or missing.
  std::vector<std::int64_t> sa(r, 0), sb(r, 0);
  std::int64_t ta = 1, tb = 1;
  for (std::size_t k = 0; k < r; ++k) {
    const std::size_t d = r - 1 - k;
    const std::int64_t da = k < as.size() ? as[as.size() - 1 - k] : 1;
    const std::int64_t db = k < bs.size() ? bs[bs.size() - 1 - k] : 1;
    shape[d] = da == 1 ? db : da;
    if (da == shape[d] && k < as.size()) sa[d] = ta;
    if (db == shape[d] && k < bs.size()) sb[d] = tb;
    if (shape[d] == 1) sa[d] = sb[d] = 0;
    ta *= da;
    tb *= db;
  }
  out.assign(std::size_t(numel(shape)), 0.0);
  std::vector<std::int64_t> idx(r, 0);
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::int64_t ia = 0, ib = 0;
    for (std::size_t d = 0; d < r; ++d) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    const double x[2] = {a[std::size_t(ia)], b[std::size_t(ib)]};
    out[i] = op.reference(x, attrs);
    for (std::size_t d = r; d-- > 0;) {  // odometer increment
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return shape;
}

}  // namespace

Expected<std::map<std::string, HostArray>> reference_run(
    const Graph& graph, const std::map<std::string, HostArray>& inputs, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  JF_ASSIGN_OR_RETURN(TypedGraph g, validate(graph));
  std::map<std::string, std::int64_t> dims;
  std::vector<Shape64> shapes(g.values.size());
  std::vector<std::vector<double>> data(g.values.size());
  for (int v : g.inputs) {
    const Value& val = g.values[v];
    auto it = inputs.find(val.name);
    if (it == inputs.end()) {
      return make_error(ErrorCode::bad_launch, fmt::format("reference: no input '{}'", val.name));
    }
    const HostArray& h = it->second;
    if (h.shape.size() != val.shape.size() || std::int64_t(h.data.size()) != numel(h.shape)) {
      return make_error(ErrorCode::bad_launch,
                        fmt::format("reference: input '{}' must be {} with matching data",
                                    val.name, to_string(val.shape)));
    }
    for (std::size_t i = 0; i < h.shape.size(); ++i) {
      const Dim& d = val.shape[i];
      const bool ok = d.is_symbolic() ? dims.emplace(d.symbol, h.shape[i]).first->second == h.shape[i]
                                      : d.size == h.shape[i];
      if (!ok) {
        return make_error(ErrorCode::bad_launch,
                          fmt::format("reference: input '{}' dim {} is {}, which disagrees with "
                                      "the graph or another input", val.name, i, h.shape[i]));
      }
    }
    shapes[v] = h.shape;
    data[v] = h.data;
  }
  for (std::size_t v = 0; v < g.values.size(); ++v) {
    if (!g.values[v].constant) continue;
    data[v] = {double(float(*g.values[v].constant))};  // the kernel sees the f32 literal
  }
  for (const TypedNode& n : g.nodes) {
    std::vector<double>& out = data[n.output];
    if (n.op->kind == ops::OpKind::gemm) {
      const Shape64& as = shapes[n.inputs[0]];
      const Shape64& bs = shapes[n.inputs[1]];
      const bool kn = n.attrs.choice("b_layout") == "kn";
      const std::int64_t M = as[0], K = as[1], N = kn ? bs[1] : bs[0];
      std::vector<float> bt = to_float(data[n.inputs[1]]);
      if (kn) {  // transpose to [N,K] so that both operands stream along K
        std::vector<float> t(bt.size());
        for (std::int64_t k = 0; k < K; ++k)
          for (std::int64_t j = 0; j < N; ++j) t[j * K + k] = bt[k * N + j];
        bt.swap(t);
      }
      out.assign(std::size_t(M * N), 0.0);
      gemm(to_float(data[n.inputs[0]]), bt, out, M, N, K, threads);
      if (n.inputs.size() == 3) {
        const auto& bias = data[n.inputs[2]];
        for (std::int64_t m = 0; m < M; ++m)
          for (std::int64_t j = 0; j < N; ++j) out[m * N + j] += bias[j];
      }
      shapes[n.output] = {M, N};
    } else if (n.op->kind == ops::OpKind::unary) {
      const auto& in = data[n.inputs[0]];
      out.resize(in.size());
      for (std::size_t i = 0; i < in.size(); ++i) out[i] = n.op->reference(&in[i], n.attrs);
      shapes[n.output] = shapes[n.inputs[0]];
    } else {
      shapes[n.output] = broadcast_binary(*n.op, n.attrs, shapes[n.inputs[0]], data[n.inputs[0]],
                                          shapes[n.inputs[1]], data[n.inputs[1]], out);
    }
  }
  std::map<std::string, HostArray> result;
  for (int v : g.outputs) result[g.values[v].name] = HostArray{shapes[v], std::move(data[v])};
  return result;
}

Comparison compare(const std::vector<double>& got, const std::vector<double>& want, double atol,
                   double rtol) {
  Comparison c;
  double diff2 = 0, want2 = 0;
  const std::size_t n = std::min(got.size(), want.size());
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::fabs(got[i] - want[i]);
    const bool bad = !(d <= atol + rtol * std::fabs(want[i]));  // NaN fails
    if (bad) {
      if (c.first_bad < 0) c.first_bad = std::int64_t(i);
      ++c.bad;
    }
    if (std::isnan(d)) {
      c.max_abs = c.max_rel = NAN;
      continue;
    }
    c.max_abs = std::max(c.max_abs, d);
    if (want[i] != 0) c.max_rel = std::max(c.max_rel, d / std::fabs(want[i]));
    diff2 += d * d;
    want2 += want[i] * want[i];
  }
  c.bad += std::int64_t(std::max(got.size(), want.size()) - n);
  c.rel_norm = want2 > 0 ? std::sqrt(diff2 / want2) : std::sqrt(diff2);
  return c;
}

}  // namespace jitfuse
