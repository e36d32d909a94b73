#include "cuda/device.h"

#include <fmt/format.h>

namespace jitfuse::cu {

Expected<std::shared_ptr<Device>> Device::open(int ordinal) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  int count = 0;
  JF_CU(cuDeviceGetCount(&count));
  if (ordinal < 0 || ordinal >= count) {
    return make_error(ErrorCode::no_device,
                      fmt::format("no CUDA device {}: the driver sees {} device{}", ordinal,
                                  count, count == 1 ? "" : "s"));
  }
  std::shared_ptr<Device> d(new Device());
  d->ordinal_ = ordinal;
  JF_CU(cuDeviceGet(&d->dev_, ordinal));
  JF_CU(cuDeviceGetAttribute(&d->major_, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d->dev_));
  JF_CU(cuDeviceGetAttribute(&d->minor_, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d->dev_));
  JF_CU(cuDeviceGetAttribute(&d->sms_, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d->dev_));
  JF_CU(cuDeviceGetAttribute(&d->smem_optin_,
                             CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, d->dev_));
  char name[256] = {};
  JF_CU(cuDeviceGetName(name, sizeof name, d->dev_));
  d->name_ = name;
  JF_CU(cuDevicePrimaryCtxRetain(&d->ctx_, d->dev_));
  return d;
}

Status Device::make_current() const {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  JF_CU(cuCtxSetCurrent(ctx_));
  return {};
}

Device::~Device() {
  if (ctx_) {
    if (auto cu = api(); cu.ok()) (*cu)->cuDevicePrimaryCtxRelease(dev_);
  }
}

ScopedContext::ScopedContext(const Api* cu, CUcontext ctx) : cu_(cu) {
  CUcontext current = nullptr;
  if (cu->cuCtxGetCurrent(&current) == CUDA_SUCCESS && current == ctx) return;
  if (const CUresult r = cu->cuCtxPushCurrent(ctx); r != CUDA_SUCCESS) {
    status_ = call_error("cuCtxPushCurrent(ctx)", r, __FILE__, __LINE__);
    return;
  }
  pushed_ = true;
}

ScopedContext::~ScopedContext() {
  CUcontext popped = nullptr;
  if (pushed_) cu_->cuCtxPopCurrent(&popped);
}

Expected<std::shared_ptr<Module>> Module::load(std::shared_ptr<Device> device,
                                               const std::string& cubin, const std::string& kernel,
                                               int smem_bytes) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  ScopedContext scope(cu, device->context());
  JF_RETURN_IF_ERROR(scope.status());
  if (smem_bytes > device->max_smem_optin()) {
    return make_error(ErrorCode::unsupported,
                      fmt::format("kernel {} needs {} bytes of shared memory; {} allows {}", kernel,
                                  smem_bytes, device->name(), device->max_smem_optin()));
  }
  std::shared_ptr<Module> m(new Module());
  m->device_ = std::move(device);
  JF_CU(cuModuleLoadData(&m->mod_, cubin.data()));
  JF_CU(cuModuleGetFunction(&m->fn_, m->mod_, kernel.c_str()));
  if (smem_bytes > 48 * 1024) {
    JF_CU(cuFuncSetAttribute(m->fn_, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem_bytes));
  }
  JF_CU(cuFuncGetAttribute(&m->regs_, CU_FUNC_ATTRIBUTE_NUM_REGS, m->fn_));
  m->smem_bytes_ = smem_bytes;
  return m;
}

Expected<int> Module::resident_clusters(int cluster, int threads) const {
  if (const int known = resident_clusters_.load(std::memory_order_relaxed)) return known;
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  ScopedContext scope(cu, device_->context());
  JF_RETURN_IF_ERROR(scope.status());
  int clusters = 0;
  if (cluster == 1) {  // no cluster dims compiled in: CTAs an SM, times the SMs
    JF_CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&clusters, fn_, threads, std::size_t(smem_bytes_)));
    clusters *= device_->sm_count();
  } else {
    CUlaunchConfig config{};
    // The cluster size comes from the kernel's __cluster_dims__; the grid only has to be a
    // multiple of it.
    config.gridDimX = unsigned(cluster);
    config.gridDimY = config.gridDimZ = 1;
    config.blockDimX = unsigned(threads);
    config.blockDimY = config.blockDimZ = 1;
    config.sharedMemBytes = unsigned(smem_bytes_);
    JF_CU(cuOccupancyMaxActiveClusters(&clusters, fn_, &config));
  }
  if (clusters <= 0) {
    return make_error(ErrorCode::bad_launch,
                      fmt::format("no cluster of {} CTAs of {} threads and {} B of shared memory "
                                  "fits on {}", cluster, threads, smem_bytes_, device_->name()));
  }
  resident_clusters_.store(clusters, std::memory_order_relaxed);
  return clusters;
}

Module::~Module() {
  if (!mod_) return;
  auto cu = api();
  if (!cu.ok()) return;
  ScopedContext scope(*cu, device_->context());
  if (scope.status().ok()) (*cu)->cuModuleUnload(mod_);
}

Expected<Stream> Stream::create() {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  Stream s;
  JF_CU(cuStreamCreate(&s.s_, CU_STREAM_NON_BLOCKING));
  return s;
}

Stream::~Stream() {
  if (!s_) return;
  if (auto cu = api(); cu.ok()) (*cu)->cuStreamDestroy(s_);
}

Expected<DeviceBuffer> DeviceBuffer::alloc(std::size_t bytes) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  DeviceBuffer b;
  b.size_ = bytes;
  JF_CU(cuMemAlloc(&b.ptr_, bytes ? bytes : 1));
  return b;
}

DeviceBuffer::~DeviceBuffer() {
  if (!ptr_) return;
  if (auto cu = api(); cu.ok()) (*cu)->cuMemFree(ptr_);
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), size_(o.size_) {
  o.ptr_ = 0;
  o.size_ = 0;
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    this->~DeviceBuffer();
    ptr_ = o.ptr_;
    size_ = o.size_;
    o.ptr_ = 0;
    o.size_ = 0;
  }
  return *this;
}

}  // namespace jitfuse::cu

namespace jitfuse::cu {

Status copy_to_device(CUdeviceptr dst, const void* src, std::size_t bytes) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  if (bytes) JF_CU(cuMemcpyHtoD(dst, src, bytes));
  return {};
}

Status copy_to_host(void* dst, CUdeviceptr src, std::size_t bytes) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  if (bytes) JF_CU(cuMemcpyDtoH(dst, src, bytes));
  return {};
}

Status fill_bytes(CUdeviceptr dst, unsigned char value, std::size_t bytes) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  if (bytes) JF_CU(cuMemsetD8(dst, value, bytes));
  return {};
}

Status synchronize() {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  JF_CU(cuCtxSynchronize());
  return {};
}

}  // namespace jitfuse::cu
