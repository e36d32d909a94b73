#include "json_output.h"

#include <cstdio>
#include <filesystem>

namespace jitfuse::cli {

void add_format_flag(CLI::App* sub, std::string& format) {
  sub->add_option("--format", format, "text (default) or json: one JSON document on stdout, for scripts")
      ->check(CLI::IsMember({"text", "json"}));
}

ojson string_or_null(const std::string& s) { return s.empty() ? ojson(nullptr) : ojson(s); }

ojson error_json(const Error& e) {
  return {{"code", std::string(to_string(e.code))},
          {"message", e.message},
          {"pointer", string_or_null(e.pointer)},
          {"file", string_or_null(e.file)}};
}

ojson dims_json(const std::map<std::string, std::int64_t>& dims) {
  ojson out = ojson::object();
  for (const auto& [k, v] : dims) out[k] = v;
  return out;
}

ojson kernel_json(const KernelArtifact& k) {
  return {{"name", k.name},
          {"tier", k.cache_status},
          {"compile_ms", k.compile_ms},
          {"cache_key", k.cache_key},
          {"cache_file", string_or_null(k.cache_file)},
          {"stored", k.stored},
          {"store_error", string_or_null(k.store_error)},
          {"math", string_or_null(k.math)},
          // The source includes its template last (KernelSource::includes).
          {"template", k.headers.empty() ? ojson(nullptr)
                                         : ojson(std::filesystem::path(k.headers.back()).filename().string())},
          {"config", k.config},
          {"not_applied", k.not_applied},
          {"cubin_bytes", k.cubin.size()},
          {"ptx_bytes", k.ptx.size()}};
}

void print_json(const ojson& doc) {
  // Invalid UTF-8 (a file name's bytes in a message) is replaced, never thrown over.
  std::fputs(doc.dump(2, ' ', false, ojson::error_handler_t::replace).c_str(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace jitfuse::cli
