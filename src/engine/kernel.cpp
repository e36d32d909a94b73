// Kernel::launch: bind the caller's tensors, pack each kernel's parameter struct, launch.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

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
  void add(T v) {
    size_ = align_up(size_, alignof(T));
    std::memcpy(bytes_.data() + size_, &v, sizeof v);
    size_ += sizeof v;
  }
  void* data() { return bytes_.data(); }
  bool fits(std::size_t fields) const { return fields * 8 <= bytes_.size(); }

 private:
  alignas(8) std::array<unsigned char, 512> bytes_{};
  std::size_t size_ = 0;
};

Expected<std::int64_t> dim_value(const Built& k, const KernelPlan& plan, const Binding& b,
                                 const std::string& dim) {
  if (dim == "numel") return numel(b.shapes[plan.space]);
  if (dim.starts_with("sym:")) return b.dims.at(dim.substr(4));
  const TypedNode& gemm = k.graph.nodes[plan.gemm];
  const auto& a = b.shapes[gemm.inputs[0]];
  const std::int64_t v = dim == "M" ? a[0] : dim == "K" ? a[1] : b.shapes[gemm.output][1];
  if (v > std::numeric_limits<std::int32_t>::max()) {
    return make_error(ErrorCode::bad_launch,
                      fmt::format("gemm '{}': {}={} exceeds the 2^31-1 this kernel supports",
                                  gemm.name, dim, v));
  }
  return v;
}

}  // namespace

Kernel::Kernel(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

const Build& Kernel::build() const { return impl_->built.build; }

Expected<std::size_t> Kernel::workspace_bytes(const TensorMap& tensors) const {
  JF_ASSIGN_OR_RETURN(Binding b, bind_tensors(impl_->built.graph, impl_->built.sources, tensors));
  return workspace_layout(impl_->built, b).second;
}

Status Kernel::launch(const TensorMap& tensors, Stream stream) const {
  const Built& k = impl_->built;
  JF_ASSIGN_OR_RETURN(Binding b, bind_tensors(k.graph, k.sources, tensors));
  JF_ASSIGN_OR_RETURN(const cu::Api* cu, cu::api());
  cu::ScopedContext scope(cu, impl_->device->context());
  JF_RETURN_IF_ERROR(scope.status());

  std::unique_lock<std::mutex> ws_lock;
  if (!k.plan.intermediates.empty()) {
    const auto [offsets, total] = workspace_layout(k, b);
    ws_lock = std::unique_lock(impl_->workspace_mu);
    if (impl_->workspace.size() < total) {
      CUstreamCaptureStatus capturing = CU_STREAM_CAPTURE_STATUS_NONE;
      JF_CU(cuStreamIsCapturing(stream, &capturing));
      if (capturing != CU_STREAM_CAPTURE_STATUS_NONE) {
        return make_error(ErrorCode::bad_launch,
                          fmt::format("this unfused plan needs {} bytes of scratch memory, which "
                                      "cannot be allocated during stream capture; launch once "
                                      "before capturing", total));
      }
      JF_ASSIGN_OR_RETURN(impl_->workspace, cu::DeviceBuffer::alloc(total));
    }
    for (int v : k.plan.intermediates) b.ptrs[v] = impl_->workspace.ptr() + offsets[v];
  }

  for (std::size_t i = 0; i < k.sources.size(); ++i) {
    const KernelSource& src = k.sources[i];
    const KernelPlan& plan = k.plan.kernels[i];
    if (numel(b.shapes[plan.space]) == 0) continue;  // an empty output: nothing to do
    ParamBlob blob;
    std::int64_t m = 0, n = 0, count = 0;
    for (const Param& p : src.params) {
      if (p.kind == Param::Kind::pointer) {
        blob.add<std::uint64_t>(b.ptrs[p.value]);
        continue;
      }
      JF_ASSIGN_OR_RETURN(std::int64_t v, dim_value(k, plan, b, p.dim));
      if (p.dim == "M") m = v;
      if (p.dim == "N") n = v;
      if (p.dim == "numel") count = v;
      if (p.dim == "K" && v == 0) {
        return make_error(ErrorCode::bad_launch, "gemm with K = 0 is not supported");
      }
      if (p.kind == Param::Kind::i32) blob.add<std::int32_t>(std::int32_t(v));
      else blob.add<std::int64_t>(v);
    }
    std::uint64_t grid = 0;
    if (src.launch.kind == KernelKind::gemm) {
      grid = std::uint64_t((m + src.launch.tile_m - 1) / src.launch.tile_m) *
             std::uint64_t((n + src.launch.tile_n - 1) / src.launch.tile_n);
    } else {
      const std::int64_t per_block = std::int64_t(src.launch.threads) * src.launch.items_per_thread;
      grid = std::uint64_t(std::min<std::int64_t>((count + per_block - 1) / per_block,
                                                  std::int64_t(impl_->device->sm_count()) * 32));
    }
    if (grid > 0x7fffffffULL) {
      return make_error(ErrorCode::bad_launch, fmt::format("kernel {} would need {} blocks", src.name, grid));
    }
    void* args[] = {blob.data()};
    JF_CU(cuLaunchKernel(impl_->modules[i]->function(), unsigned(grid), 1, 1,
                         unsigned(src.launch.threads), 1, 1, unsigned(src.launch.smem_bytes),
                         stream, args, nullptr));
  }
  return {};
}

}  // namespace jitfuse
