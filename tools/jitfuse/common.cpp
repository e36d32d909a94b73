#include "common.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <fstream>

#include "common/log.h"
#include "common/text.h"

namespace jitfuse::cli {

void add_compile_flags(CLI::App* sub, CompileFlags& f) {
  sub->add_option("GRAPH", f.graph, "the graph JSON file")->required();
  sub->add_option("--arch", f.arch,
                  "target, e.g. sm_90a or sm_80 (default: the current GPU's; see `jitfuse archs`)");
  sub->add_option("--math", f.math,
                  "f32 GEMM arithmetic: auto (default: bf16x3, or tf32x3 for small problems, where "
                  "the sm_90a wgmma kernel runs them, else ieee), ieee, tf32, tf32x3, bf16x3");
  sub->add_option("--dims", f.dims, "bind symbolic dims and bake them in, e.g. --dims M=2048")
      ->delimiter(',');
  sub->add_flag("--no-fuse", f.no_fuse, "one kernel per node, for bisecting fusion bugs");
  sub->add_option("--gemm", f.gemm,
                  "GEMM template: auto (default), wgmma (sm_90a; comma-separated settings cluster=1|2|2n|2x2, "
                  "tile=128x256|256x128, persistent=0|1, sum=1|2|4|8, split=1|2|4|8, bn=32|64, pingpong=0|1, "
                  "handoff=0|half|full, streamk=0|1, e.g. wgmma,tile=256x128,cluster=2n), mma (sm_80+) or simt");
}

Expected<std::map<std::string, std::int64_t>> parse_dims(const std::vector<std::string>& items) {
  std::map<std::string, std::int64_t> dims;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    std::int64_t value = 0;
    const char* begin = item.data() + (eq == std::string::npos ? 0 : eq + 1);
    const char* end = item.data() + item.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (eq == std::string::npos || eq == 0 || ec != std::errc() || ptr != end) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("--dims \"{}\" is not NAME=SIZE, e.g. M=2048", item));
    }
    const std::string name = item.substr(0, eq);
    if (auto [it, fresh] = dims.emplace(name, value); !fresh) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("--dims gives {} twice ({}={} and {}); give each dim once",
                                    name, name, it->second, item));
    }
  }
  return dims;
}

Expected<CompileOptions> compile_options(const CompileFlags& f) {
  CompileOptions o;
  o.arch = f.arch;
  const auto math = parse_math_mode(f.math);
  if (!math) {
    return make_error(ErrorCode::bad_option,
                      fmt::format("--math must be auto, ieee, tf32, tf32x3 or bf16x3; got \"{}\"", f.math));
  }
  o.math = *math;
  JF_ASSIGN_OR_RETURN(o.dims, parse_dims(f.dims));
  o.fusion = !f.no_fuse;
  o.gemm = f.gemm;
  return o;
}

EngineOptions engine_options(const GlobalFlags& f) {
  EngineOptions o;
  if (!f.cache_dir.empty()) o.cache_dir = f.cache_dir;
  o.disk_cache = !f.no_cache;
  return o;
}

int report(const Error& e) {
  // The last guard before the terminal: whatever an error quotes (a path, a name, a compiler
  // log), no control sequence gets through and no line runs to megabytes.
  std::fprintf(stderr, "jitfuse: error: %s\n", terminal_text(e.to_string(true)).c_str());
  return is_user_error(e.code) ? kExitBadInput : kExitFailed;
}

std::string cache_outcome(const KernelArtifact& k) {
  return k.cache_status == "compiled" ? fmt::format("compiled by NVRTC in {:.1f} ms", k.compile_ms)
                                      : fmt::format("{} cache hit", k.cache_status);
}

std::string cache_entry_status(const KernelArtifact& k) {
  if (k.cache_file.empty()) return "disk cache off";
  if (k.cache_status == "disk") return "read from " + k.cache_file;
  if (k.cache_status != "compiled") return "";
  return k.stored ? "stored in " + k.cache_file : "not stored: " + k.store_error;
}

void warn_not_applied(const Build& build) {
  for (const KernelArtifact& k : build.kernels) {
    for (const std::string& why : k.not_applied) log::warn(fmt::format("{}: {}", k.name, why));
  }
}

Status write_file(const std::filesystem::path& path, std::string_view bytes) {
  const auto tmp = path.parent_path() / fmt::format(".{}.tmp.{}", path.filename().string(), ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    out.close();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      Error e = make_error(ErrorCode::io, "cannot write the file");
      e.file = path.string();
      return e;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    Error e = make_error(ErrorCode::io, "cannot move the file into place: " + ec.message());
    e.file = path.string();
    return e;
  }
  return {};
}

}  // namespace jitfuse::cli
