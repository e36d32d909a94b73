#include "nvrtc/nvrtc.h"

#include <fmt/format.h>
#include <nvrtc.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

#include "codegen/embedded.h"
#include "common/text.h"

namespace jitfuse {
namespace {

Error nvrtc_error(const char* call, nvrtcResult r) {
  return make_error(ErrorCode::nvrtc, fmt::format("{} failed: {}", call, nvrtcGetErrorString(r)));
}

#define JF_NVRTC(call)                                         \
  do {                                                         \
    if (nvrtcResult jf_r_ = (call); jf_r_ != NVRTC_SUCCESS) {  \
      return nvrtc_error(#call, jf_r_);                        \
    }                                                          \
  } while (0)

// Owns an nvrtcProgram.
struct Program {
  nvrtcProgram p = nullptr;
  ~Program() {
    if (p) nvrtcDestroyProgram(&p);
  }
};

std::string dump_failed_source(const KernelSource& source) {
  std::error_code ec;
  const auto dir = std::filesystem::temp_directory_path(ec) / "jitfuse-failed";
  std::filesystem::create_directories(dir, ec);
  const auto path = dir / (source.name + ".cu");
  std::ofstream out(path, std::ios::binary);
  out << source.code;
  return out ? path.string() : std::string("(could not write the source to ") + path.string() + ")";
}

}  // namespace

std::string NvrtcVersion::tag() const { return fmt::format("nvrtc{}-{}", major, minor); }

Expected<NvrtcVersion> nvrtc_version() {
  NvrtcVersion v;
  JF_NVRTC(nvrtcVersion(&v.major, &v.minor));
  return v;
}

Expected<std::vector<Arch>> nvrtc_archs() {
  int n = 0;
  JF_NVRTC(nvrtcGetNumSupportedArchs(&n));
  std::vector<int> sms(std::max(n, 0));
  if (n > 0) JF_NVRTC(nvrtcGetSupportedArchs(sms.data()));
  std::vector<Arch> archs;
  for (int sm : sms) {
    archs.push_back(Arch{sm, false});
    if (sm >= 90) archs.push_back(Arch{sm, true});
  }
  return archs;
}

Status check_arch(const Arch& arch) {
  JF_ASSIGN_OR_RETURN(auto archs, nvrtc_archs());
  for (const Arch& a : archs) {
    if (a.sm == arch.sm && a.specific == arch.specific) return {};
  }
  std::vector<std::string> names;
  for (const Arch& a : archs) names.push_back(a.name());
  JF_ASSIGN_OR_RETURN(auto v, nvrtc_version());
  return make_error(ErrorCode::bad_option,
                    fmt::format("NVRTC {}.{} cannot compile for {}{}; it supports: {}", v.major,
                                v.minor, arch.name(), did_you_mean(arch.name(), names),
                                join(names, ", ")));
}

std::vector<std::string> nvrtc_options(const Arch& arch) {
  return {"--gpu-architecture=" + arch.name(), "-std=c++17"};
}

Expected<Compiled> nvrtc_compile(const KernelSource& source, const std::vector<std::string>& options) {
  // Embedded texts and names are NUL-terminated (cmake/embed.cmake, string literals).
  const auto& files = embedded::files();
  std::vector<const char*> text_ptrs, name_ptrs, opt_ptrs;
  for (const auto& f : files) {
    text_ptrs.push_back(f.text.data());
    name_ptrs.push_back(f.name.data());
  }
  for (const auto& o : options) opt_ptrs.push_back(o.c_str());

  Program prog;
  const std::string file_name = source.name + ".cu";
  JF_NVRTC(nvrtcCreateProgram(&prog.p, source.code.c_str(), file_name.c_str(), int(files.size()),
                              text_ptrs.data(), name_ptrs.data()));
  const auto t0 = std::chrono::steady_clock::now();
  const nvrtcResult rc = nvrtcCompileProgram(prog.p, int(opt_ptrs.size()), opt_ptrs.data());
  Compiled out;
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::size_t log_size = 0;
  JF_NVRTC(nvrtcGetProgramLogSize(prog.p, &log_size));
  out.log.resize(log_size);
  if (log_size) JF_NVRTC(nvrtcGetProgramLog(prog.p, out.log.data()));
  while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();

  if (rc != NVRTC_SUCCESS) {
    Error e = make_error(ErrorCode::compile,
                         fmt::format("NVRTC could not compile kernel {} ({}): {}. The generated "
                                     "source should always compile, so this is a jitfuse bug; "
                                     "please report it with the source and log below.",
                                     source.name, source.config, nvrtcGetErrorString(rc)));
    e.info["log"] = out.log;
    e.info["options"] = join(options, " ");
    e.info["source"] = dump_failed_source(source);
    return e;
  }
  std::size_t size = 0;
  JF_NVRTC(nvrtcGetCUBINSize(prog.p, &size));
  out.cubin.resize(size);
  JF_NVRTC(nvrtcGetCUBIN(prog.p, out.cubin.data()));
  JF_NVRTC(nvrtcGetPTXSize(prog.p, &size));
  out.ptx.resize(size);
  JF_NVRTC(nvrtcGetPTX(prog.p, out.ptx.data()));
  while (!out.ptx.empty() && out.ptx.back() == '\0') out.ptx.pop_back();
  return out;
}

}  // namespace jitfuse
