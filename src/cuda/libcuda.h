// All CUDA Driver API calls go through this table, loaded from libcuda.so.1 with dlopen on
// first use, so that everything else builds, runs and tests on machines with no GPU driver.
#pragma once

#include <cuda.h>

#include "jitfuse/error.hpp"

namespace jitfuse::cu {

// The entry points jitfuse uses. cuda.h maps some names to versioned symbols (cuMemAlloc ->
// cuMemAlloc_v2); the same macros apply to the member names and the dlsym strings below.
#define JF_CU_FUNCTIONS(X)                                                               \
  X(cuInit) X(cuDriverGetVersion) X(cuGetErrorName) X(cuGetErrorString) X(cuDeviceGet)   \
  X(cuDeviceGetCount) X(cuDeviceGetAttribute) X(cuDeviceGetName)                         \
  X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxGetCurrent)            \
  X(cuCtxSetCurrent) X(cuCtxPushCurrent) X(cuCtxPopCurrent) X(cuCtxSynchronize)          \
  X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuFuncSetAttribute)     \
  X(cuFuncGetAttribute) X(cuLaunchKernel) X(cuLaunchKernelEx) X(cuMemAlloc) X(cuMemFree) \
  X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemsetD8) X(cuMemsetD32) X(cuStreamCreate)         \
  X(cuStreamDestroy) X(cuStreamSynchronize) X(cuStreamIsCapturing) X(cuEventCreate)      \
  X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize) X(cuEventElapsedTime)         \
  X(cuStreamBeginCapture) X(cuStreamEndCapture) X(cuGraphInstantiate) X(cuGraphLaunch)   \
  X(cuGraphExecDestroy) X(cuGraphDestroy) X(cuMemGetInfo) X(cuTensorMapEncodeTiled)      \
  X(cuOccupancyMaxActiveClusters) X(cuOccupancyMaxActiveBlocksPerMultiprocessor)

struct Api {
#define JF_CU_MEMBER(name) decltype(&::name) name = nullptr;
  JF_CU_FUNCTIONS(JF_CU_MEMBER)
#undef JF_CU_MEMBER
};

// The loaded table; a no_driver error (the same one on every call) when libcuda.so.1 or one of
// its symbols is missing, or cuInit fails.
Expected<const Api*> api();

// An Error for a failed call: the call as text, the error's name and text, and file:line.
Error call_error(const char* call, CUresult result, const char* file, int line);

}  // namespace jitfuse::cu

// Checks a Driver API call made through an Api pointer named `cu`; returns the error on failure.
#define JF_CU(call)                                                                 \
  do {                                                                              \
    if (const CUresult jf_cu_r_ = (cu->call); jf_cu_r_ != CUDA_SUCCESS) {           \
      return ::jitfuse::cu::call_error(#call, jf_cu_r_, __FILE__, __LINE__);        \
    }                                                                               \
  } while (0)
