#include "engine/tune.h"

#include <fmt/format.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cache/maintenance.h"
#include "common/file.h"

namespace jitfuse {
namespace {

constexpr int kTuneFormat = 1;
// A record is a few hundred bytes (a line per candidate); a larger file is not one.
constexpr std::uint64_t kMaxRecordBytes = std::uint64_t(1) << 20;

Error file_error(ErrorCode code, const std::filesystem::path& path, std::string message) {
  Error e = make_error(code, std::move(message));
  e.file = path.string();
  return e;
}

}  // namespace

std::string tune_key(const std::vector<std::string>& heuristic_sources) {
  std::string text = fmt::format("jitfuse-tune-format-{}\n", kTuneFormat);
  for (const auto& s : heuristic_sources) text += fmt::format("{}\n{}", s.size(), s);
  const XXH128_hash_t h = XXH3_128bits(text.data(), text.size());
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

std::filesystem::path tune_path(const std::filesystem::path& cache_dir, const std::string& key) {
  return cache_dir / "tune" / (key + ".json");
}

Expected<std::optional<TuneRecord>> load_tune_record(const std::filesystem::path& cache_dir,
                                                     const std::string& key) {
  const auto path = tune_path(cache_dir, key);
  // Whatever is at the path: a directory, a FIFO or a huge file is a bad record, not a read.
  auto text = read_file(path, {.max_bytes = kMaxRecordBytes});
  if (!text.ok()) {
    return file_error(ErrorCode::cache, path, "not a usable tuning record (" + text.error().message +
                                                  "); delete it or run `jitfuse tune` again");
  }
  if (!*text) return std::optional<TuneRecord>();
  const auto j = nlohmann::json::parse(**text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("gemm") || !j["gemm"].is_string() ||
      j.value("format", 0) != kTuneFormat || j.value("key", "") != key) {
    return file_error(ErrorCode::cache, path,
                      "not a jitfuse tuning record of this format and key; delete it or run "
                      "`jitfuse tune` again");
  }
  TuneRecord r;
  r.key = key;
  r.gemm = j["gemm"].get<std::string>();
  r.graph = j.value("graph", "");
  r.arch = j.value("arch", "");
  r.math = j.value("math", "");
  r.date = j.value("date", "");
  r.card = j.value("card", "");
  return std::optional(std::move(r));
}

Expected<std::filesystem::path> save_tune_record(const std::filesystem::path& cache_dir,
                                                 const TuneRecord& record) {
  const auto path = tune_path(cache_dir, record.key);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return file_error(ErrorCode::io, path.parent_path(), "cannot create the directory: " + ec.message());
  nlohmann::json j = {{"format", kTuneFormat}, {"key", record.key},   {"graph", record.graph},
                      {"arch", record.arch},   {"math", record.math}, {"gemm", record.gemm},
                      {"date", record.date},   {"card", record.card}};
  for (const auto& c : record.candidates) {
    j["candidates"].push_back({{"gemm", c.gemm}, {"config", c.config}, {"median_us", c.median_us},
                               {"note", c.note}});
  }
  const auto tmp = temp_path(path);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.close();
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return file_error(ErrorCode::io, path, "cannot write the tuning record");
    }
  }
  if (const int err = rename_over(tmp, path); err != 0) {
    std::filesystem::remove(tmp, ec);
    return file_error(ErrorCode::io, path, fmt::format("cannot rename the tuning record into place: {}",
                                                       err == EISDIR ? "a directory that is not empty is in the way"
                                                                     : std::strerror(err)));
  }
  return path;
}

}  // namespace jitfuse
