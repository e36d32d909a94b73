// A GPU, its primary context, loaded modules and device memory: RAII over the Driver API.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cuda/libcuda.h"

namespace jitfuse::cu {

// A GPU and its retained primary context (the one the CUDA runtime and PyTorch share).
class Device {
 public:
  // Retains device `ordinal`'s primary context and reads its properties.
  static Expected<std::shared_ptr<Device>> open(int ordinal);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  CUcontext context() const { return ctx_; }
  // Makes the primary context current on the calling thread, for the caller's own allocations
  // and copies (jitfuse's own calls push and pop it as needed).
  Status make_current() const;
  int ordinal() const { return ordinal_; }
  int cc_major() const { return major_; }
  int cc_minor() const { return minor_; }
  int sm_count() const { return sms_; }
  int max_smem_optin() const { return smem_optin_; }
  const std::string& name() const { return name_; }

 private:
  Device() = default;
  CUdevice dev_ = 0;
  CUcontext ctx_ = nullptr;
  int ordinal_ = 0, major_ = 0, minor_ = 0, sms_ = 0, smem_optin_ = 0;
  std::string name_;
};

// Makes `ctx` current on this thread for the scope, unless it already is.
class ScopedContext {
 public:
  ScopedContext(const Api* cu, CUcontext ctx);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;
  // The push's outcome; check before using the context.
  const Status& status() const { return status_; }

 private:
  const Api* cu_;
  bool pushed_ = false;
  Status status_;
};

// A loaded cubin and its one kernel. Unloads on destruction.
class Module {
 public:
  // Loads `cubin` on `device`, finds `kernel`, and allows it `smem_bytes` of dynamic shared memory.
  static Expected<std::shared_ptr<Module>> load(std::shared_ptr<Device> device,
                                                const std::string& cubin, const std::string& kernel,
                                                int smem_bytes);
  ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  CUfunction function() const { return fn_; }
  const Device& device() const { return *device_; }
  int registers() const { return regs_; }
  // How many clusters of `cluster` CTAs of `threads` threads (and the module's shared memory) can
  // be resident at once on the device: the grid a persistent kernel fills. Asked of the driver
  // once, then remembered.
  Expected<int> resident_clusters(int cluster, int threads) const;

 private:
  Module() = default;
  std::shared_ptr<Device> device_;
  CUmodule mod_ = nullptr;
  CUfunction fn_ = nullptr;
  int regs_ = 0;
  int smem_bytes_ = 0;
  mutable std::atomic<int> resident_clusters_{0};
};

// A stream on the current context, destroyed with the object. Move-only.
class Stream {
 public:
  Stream() = default;
  // Creates a non-blocking stream (CUDA-graph capture needs a stream other than the legacy one).
  static Expected<Stream> create();
  ~Stream();
  Stream(Stream&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stream& operator=(Stream&&) = delete;
  CUstream get() const { return s_; }

 private:
  CUstream s_ = nullptr;
};

// Device memory, freed on destruction. Move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  // Allocates `bytes` on the current context (at least 1 byte).
  static Expected<DeviceBuffer> alloc(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;

  CUdeviceptr ptr() const { return ptr_; }
  void* data() const { return reinterpret_cast<void*>(ptr_); }
  std::size_t size() const { return size_; }

 private:
  CUdeviceptr ptr_ = 0;
  std::size_t size_ = 0;
};

}  // namespace jitfuse::cu

namespace jitfuse::cu {

// Copies `bytes` from host memory to device address `dst` (synchronous).
Status copy_to_device(CUdeviceptr dst, const void* src, std::size_t bytes);
// Copies `bytes` from device address `src` to host memory (synchronous).
Status copy_to_host(void* dst, CUdeviceptr src, std::size_t bytes);
// Sets `bytes` bytes at `dst` to `value` (synchronous).
Status fill_bytes(CUdeviceptr dst, unsigned char value, std::size_t bytes);
// Waits for all work on the current context, reporting any error a kernel raised.
Status synchronize();

}  // namespace jitfuse::cu
