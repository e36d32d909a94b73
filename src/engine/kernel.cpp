// Kernel::launch: bind the caller's tensors, pack each kernel's parameter struct, launch.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "engine/bind.h"
#include "engine/engine_impl.h"

namespace jitfuse {
namespace {

constexpr std::size_t kWorkspaceAlign = 256;

std::size_t align_up(std::size_t x, std::size_t a) { return (x + a - 1) / a * a; }

// Byte offsets of each intermediate in the workspace, and the total size.
std::pair<std::vector<std::size_t>, std::size_t> workspace_layout(const Built& k, const Binding& b) {
  std::vector<std::size_t> offsets(k.graph.values.size(), 0);
  std::size_t total = 0;
  for (int v : k.plan.intermediates) {
    offsets[v] = total;
    total = align_up(total + std::size_t(numel(b.shapes[v])) * dtype_size(k.graph.dtype),
                     kWorkspaceAlign);
  }
  return {offsets, total};
}

// The parameter struct, laid out as the generated `struct jf_params` (natural alignment).
class ParamBlob {
 public:
  template <class T>
  bool add(const T& v) {
    return add_bytes(&v, sizeof v, alignof(T));
  }
  bool add_bytes(const void* p, std::size_t n, std::size_t align) {
    const std::size_t at = align_up(size_, align);
    if (at + n > bytes_.size()) return false;
    std::memcpy(bytes_.data() + at, p, n);
    size_ = at + n;
    return true;
  }
  void* data() { return bytes_.data(); }

 private:
  // Kernel parameters may take 4 KB; the launch passes the struct as its one parameter, and the
  // driver copies only the struct's size (left uninitialized: no 4 KB memset per launch).
  alignas(64) std::array<unsigned char, 4096> bytes_;
  std::size_t size_ = 0;
};

// The TMA descriptor of the row-major 2-D tensor at `ptr` (rows x cols), as the gemm_wgmma
// template expects: a box of box_rows x box_cols elements, swizzled by the box's row bytes (128
// or 64), zeros outside.
Status encode_tensor_map(const cu::Api* cu, const Param& p, DType dtype, std::uintptr_t ptr,
                         const std::vector<std::int64_t>& shape, CUtensorMap& map) {
  const std::size_t elem = dtype_size(dtype);
  const CUtensorMapDataType type = dtype == DType::f32   ? CU_TENSOR_MAP_DATA_TYPE_FLOAT32
                                   : dtype == DType::f16 ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16
                                                         : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  const cuuint64_t dims[2] = {cuuint64_t(shape[1]), cuuint64_t(shape[0])};
  const cuuint64_t strides[1] = {cuuint64_t(shape[1]) * elem};
  const cuuint32_t box[2] = {cuuint32_t(p.box_cols), cuuint32_t(p.box_rows)};
  const cuuint32_t steps[2] = {1, 1};
  const CUresult r = cu->cuTensorMapEncodeTiled(
      &map, type, 2, reinterpret_cast<void*>(ptr), dims, strides, box, steps,
      CU_TENSOR_MAP_INTERLEAVE_NONE,
      p.box_cols * elem == 128 ? CU_TENSOR_MAP_SWIZZLE_128B : CU_TENSOR_MAP_SWIZZLE_64B,
      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) {
    Error e = cu::call_error("cuTensorMapEncodeTiled", r, __FILE__, __LINE__);
    e.info["tensor"] = fmt::format("{}x{} at {:#x}, box {}x{}", shape[0], shape[1], ptr,
                                   p.box_rows, p.box_cols);
    return e;
  }
  return {};
}

// Makes `buf` hold at least `bytes` (the old contents are not kept); `grown` says whether it
// was reallocated. Not during stream capture: `what` then names the scratch in the error.
Status grow_scratch(const cu::Api* cu, cu::DeviceBuffer& buf, std::size_t bytes, CUstream stream,
                    std::string_view what, bool& grown) {
  grown = false;
  if (buf.size() >= bytes) return {};
  CUstreamCaptureStatus capturing = CU_STREAM_CAPTURE_STATUS_NONE;
  JF_CU(cuStreamIsCapturing(stream, &capturing));
  if (capturing != CU_STREAM_CAPTURE_STATUS_NONE) {
    return make_error(ErrorCode::bad_launch,
                      fmt::format("{} needs {} bytes of scratch memory, which cannot be allocated "
                                  "during stream capture; launch once before capturing", what, bytes));
  }
  buf = cu::DeviceBuffer();  // the old one first: the two need not fit together
  JF_ASSIGN_OR_RETURN(buf, cu::DeviceBuffer::alloc(bytes));
  grown = true;
  return {};
}

// A scalar parameter's value at the bound shapes. bind_tensors checked them against what the
// kernel addresses (graph/limits.h): a GEMM's M, N and K fit its 32-bit ints.
std::int64_t dim_value(const Built& k, const KernelPlan& plan, const Binding& b, const std::string& dim) {
  if (dim == "numel") return numel(b.shapes[plan.space]);
  if (dim.starts_with("sym:")) return b.dims.at(dim.substr(4));
  const TypedNode& gemm = k.graph.nodes[plan.gemm];
  const auto& a = b.shapes[gemm.inputs[0]];
  return dim == "M" ? a[0] : dim == "K" ? a[1] : b.shapes[gemm.output][1];
}

// bf16x3's scratch layout for kernel `plan` at the bound shapes.
X3Layout x3_layout_of(const Built& k, const KernelPlan& plan, const Binding& b) {
  return x3_layout(dim_value(k, plan, b, "M"), dim_value(k, plan, b, "N"), dim_value(k, plan, b, "K"));
}

}  // namespace

Kernel::Kernel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

const Build& Kernel::build() const { return impl_->built.build; }

Expected<std::size_t> Kernel::workspace_bytes(const TensorMap& tensors) const {
  const Built& k = impl_->built;
  JF_ASSIGN_OR_RETURN(Binding b, bind_tensors(k.graph, k.sources, tensors));
  std::size_t total = workspace_layout(k, b).second;
  for (std::size_t i = 0; i < k.sources.size(); ++i) {
    if (!k.sources[i].launch.x3) continue;
    total += x3_layout_of(k, k.plan.kernels[i], b).bytes;
  }
  return total;
}

Status Kernel::launch(const TensorMap& tensors, Stream stream) const {
  return launch_kernels(tensors, stream, -1);
}

Status Kernel::launch_one(std::size_t index, const TensorMap& tensors, Stream stream) const {
  if (index >= impl_->built.sources.size()) {
    return make_error(ErrorCode::bad_launch, fmt::format("launch_one: no kernel {}; the plan has {}",
                                                         index, impl_->built.sources.size()));
  }
  return launch_kernels(tensors, stream, int(index));
}

Status Kernel::launch_kernels(const TensorMap& tensors, Stream stream, int only) const {
  const Built& k = impl_->built;
  JF_ASSIGN_OR_RETURN(Binding b, bind_tensors(k.graph, k.sources, tensors));
  JF_ASSIGN_OR_RETURN(const cu::Api* cu, cu::api());
  cu::ScopedContext scope(cu, impl_->device->context());
  JF_RETURN_IF_ERROR(scope.status());

  std::unique_lock<std::mutex> ws_lock;
  if (!k.plan.intermediates.empty()) {
    const auto [offsets, total] = workspace_layout(k, b);
    ws_lock = std::unique_lock(impl_->workspace_mu);
    bool grown = false;
    JF_RETURN_IF_ERROR(grow_scratch(cu, impl_->workspace, total, stream, "this unfused plan", grown));
    for (int v : k.plan.intermediates) b.ptrs[v] = impl_->workspace.ptr() + offsets[v];
  }

  for (std::size_t i = 0; i < k.sources.size(); ++i) {
    if (only >= 0 && int(i) != only) continue;
    const KernelSource& src = k.sources[i];
    const KernelPlan& plan = k.plan.kernels[i];
    if (numel(b.shapes[plan.space]) == 0) continue;  // an empty output: nothing to do
    ParamBlob blob;
    std::int64_t m = 0, n = 0, count = 0;
    bool fits = true;
    // bf16x3: the kernel's scratch for A's and B's bf16 halves, grown to this launch's shapes.
    X3Layout x3;
    if (src.launch.x3) {
      x3 = x3_layout_of(k, plan, b);
      if (!ws_lock.owns_lock()) ws_lock = std::unique_lock(impl_->workspace_mu);
      cu::DeviceBuffer& buf = impl_->x3[i];
      bool grown = false;
      JF_RETURN_IF_ERROR(grow_scratch(cu, buf, x3.bytes, stream, "math bf16x3 at these shapes", grown));
      if (grown) JF_RETURN_IF_ERROR(cu::fill_bytes(buf.ptr(), 0, 256));  // the barrier's counters
    }
    for (const Param& p : src.params) {
      if (p.kind == Param::Kind::pointer) {
        fits = fits && blob.add<std::uint64_t>(b.ptrs[p.value]);
        continue;
      }
      if (p.kind == Param::Kind::scratch) {
        CUdeviceptr at = 0;
        if (p.dim.starts_with("x3_")) {
          at = impl_->x3[i].ptr() + (p.dim == "x3_a" ? x3.a_offset : p.dim == "x3_b" ? x3.b_offset : 0);
        } else {
          at = impl_->stream_k[i].ptr() + (p.dim == "sk_part" ? impl_->stream_k_part[i] : 0);
        }
        fits = fits && blob.add<std::uint64_t>(at);
        continue;
      }
      if (p.kind == Param::Kind::tensor_map && p.dim.starts_with("x3:")) {
        // A bf16 half in the scratch: [rows, Kp], hi first, then lo.
        const bool is_a = p.dim.starts_with("x3:a"), lo = p.dim.ends_with("_lo");
        const std::int64_t rows = b.shapes[p.value][0];
        const CUdeviceptr base = impl_->x3[i].ptr() + (is_a ? x3.a_offset : x3.b_offset) +
                                 (lo ? std::size_t(rows) * std::size_t(x3.kp) * 2 : 0);
        CUtensorMap map{};
        JF_RETURN_IF_ERROR(encode_tensor_map(cu, p, DType::bf16, base, {rows, x3.kp}, map));
        fits = fits && blob.add(map);
        continue;
      }
      if (p.kind == Param::Kind::tensor_map) {
        CUtensorMap map{};
        JF_RETURN_IF_ERROR(
            encode_tensor_map(cu, p, k.graph.dtype, b.ptrs[p.value], b.shapes[p.value], map));
        fits = fits && blob.add(map);
        continue;
      }
      const std::int64_t v = dim_value(k, plan, b, p.dim);
      if (p.dim == "M") m = v;
      if (p.dim == "N") n = v;
      if (p.dim == "numel") count = v;
      if (p.dim == "K" && v == 0) {
        return make_error(ErrorCode::bad_launch, "gemm with K = 0 is not supported");
      }
      if (p.kind == Param::Kind::i32) fits = fits && blob.add<std::int32_t>(std::int32_t(v));
      else fits = fits && blob.add<std::int64_t>(v);
    }
    if (!fits) {
      return make_error(ErrorCode::bad_launch,
                        fmt::format("kernel {} has more parameters than the 4 KB a launch can pass",
                                    src.name));
    }
    std::uint64_t grid = 0;
    if (src.launch.kind == KernelKind::gemm) {
      const std::int64_t cm = std::max(1, src.launch.cluster_m), cn = std::max(1, src.launch.cluster_n);
      const int ctas = src.launch.cluster_ctas();
      const std::int64_t tiles_m = (m + src.launch.tile_m - 1) / src.launch.tile_m;
      const std::int64_t tiles_n = (n + src.launch.tile_n - 1) / src.launch.tile_n;
      grid = std::uint64_t((tiles_m + cm - 1) / cm * cm) * std::uint64_t((tiles_n + cn - 1) / cn * cn) *
             std::uint64_t(std::max(1, src.launch.split_k));
      // Persistent: one CTA an SM at most (whole clusters), each looping over its tiles.
      if (src.launch.persistent) {
        JF_ASSIGN_OR_RETURN(const int resident,
                            impl_->modules[i]->resident_clusters(ctas, src.launch.threads));
        grid = std::min<std::uint64_t>(grid, std::uint64_t(resident) * std::uint64_t(ctas));
      }
    } else {
      const std::int64_t per_block = std::int64_t(src.launch.threads) * src.launch.items_per_thread;
      // One resident wave at most: every block then loops over an equal share, no tail wave.
      grid = std::uint64_t(std::min<std::int64_t>(
          (count + per_block - 1) / per_block,
          std::int64_t(impl_->device->sm_count()) * src.launch.blocks_per_sm));
    }
    if (grid > 0x7fffffffULL) {
      return make_error(ErrorCode::bad_launch, fmt::format("kernel {} would need {} blocks", src.name, grid));
    }
    void* args[] = {blob.data()};
    // With pdl, programmatic dependent launch: the kernel's prologue may overlap the previous
    // kernel in the stream (it waits before touching memory), so back-to-back launches lose a gap.
    CUlaunchAttribute attr{};
    attr.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attr.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{};
    config.gridDimX = unsigned(grid);
    config.gridDimY = config.gridDimZ = 1;
    config.blockDimX = unsigned(src.launch.threads);
    config.blockDimY = config.blockDimZ = 1;
    config.sharedMemBytes = unsigned(src.launch.smem_bytes);
    config.hStream = stream;
    config.attrs = &attr;
    config.numAttrs = src.launch.pdl ? 1 : 0;
    JF_CU(cuLaunchKernelEx(&config, impl_->modules[i]->function(), args, nullptr));
  }
  return {};
}

}  // namespace jitfuse
