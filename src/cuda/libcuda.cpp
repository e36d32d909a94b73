#include "cuda/libcuda.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <mutex>

namespace jitfuse::cu {
namespace {

#define JF_STR_INNER(x) #x
#define JF_STR(x) JF_STR_INNER(x)

Error describe(const Api* a, const char* call, CUresult result, const char* file, int line) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (a) {
    a->cuGetErrorName(result, &name);
    a->cuGetErrorString(result, &text);
  }
  std::string where = file;
  if (auto p = where.rfind("/src/"); p != std::string::npos) where = where.substr(p + 1);
  return make_error(ErrorCode::cuda,
                    fmt::format("{} failed: {} ({}) at {}:{}", call, name ? name : "CUDA error",
                                text ? text : fmt::format("code {}", int(result)), where, line));
}

Expected<const Api*> load() {
  void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    return make_error(ErrorCode::no_driver,
                      fmt::format("no CUDA driver: cannot load libcuda.so.1 ({}). Compiling "
                                  "works without one; running kernels needs an NVIDIA GPU and "
                                  "its driver", why ? why : "not found"));
  }
  static Api table;
  Api& a = table;
  // JF_STR expands cuda.h's macros first, so dlsym asks for e.g. "cuMemAlloc_v2".
#define JF_CU_RESOLVE(name)                                                            \
  a.name = reinterpret_cast<decltype(a.name)>(::dlsym(lib, JF_STR(name)));             \
  if (!a.name) {                                                                       \
    return make_error(ErrorCode::no_driver,                                            \
                      fmt::format("the CUDA driver is too old: libcuda.so.1 lacks {}; " \
                                  "jitfuse needs a driver for CUDA 12.4 or later",     \
                                  JF_STR(name)));                                      \
  }
  JF_CU_FUNCTIONS(JF_CU_RESOLVE)
#undef JF_CU_RESOLVE
  if (const CUresult r = a.cuInit(0); r != CUDA_SUCCESS) {
    Error e = describe(&table, "cuInit(0)", r, __FILE__, __LINE__);
    e.code = r == CUDA_ERROR_NO_DEVICE ? ErrorCode::no_device : ErrorCode::no_driver;
    return e;
  }
  return &table;
}

}  // namespace

Expected<const Api*> api() {
  static const Expected<const Api*> loaded = load();
  return loaded;
}

Error call_error(const char* call, CUresult result, const char* file, int line) {
  auto a = api();
  return describe(a.ok() ? *a : nullptr, call, result, file, line);
}

}  // namespace jitfuse::cu
