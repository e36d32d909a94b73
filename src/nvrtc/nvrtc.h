// All NVRTC calls live here. NVRTC needs no GPU and no driver.
#pragma once

#include <string>
#include <vector>

#include "codegen/emit.h"
#include "common/arch.h"

namespace jitfuse {

// The NVRTC library version, e.g. 13.0.
struct NvrtcVersion {
  int major = 0, minor = 0;
  // "nvrtc13-0", for cache file names.
  std::string tag() const;
};

// The loaded NVRTC's version.
Expected<NvrtcVersion> nvrtc_version();
// Every target NVRTC accepts: each listed sm, plus its "a" variant for sm >= 90.
Expected<std::vector<Arch>> nvrtc_archs();
// An error naming the supported archs unless NVRTC can target `arch`.
Status check_arch(const Arch& arch);
// The exact options a kernel is compiled with (part of the cache key).
std::vector<std::string> nvrtc_options(const Arch& arch);

// NVRTC's output for one kernel.
struct Compiled {
  std::string cubin;
  std::string ptx;
  std::string log;
  double ms = 0;  // wall time of nvrtcCompileProgram
};

// Compiles `source` with every embedded header available in memory. A rejected source gives a
// `compile` error whose info holds the log, the options and the path of the dumped source.
Expected<Compiled> nvrtc_compile(const KernelSource& source, const std::vector<std::string>& options);

}  // namespace jitfuse
