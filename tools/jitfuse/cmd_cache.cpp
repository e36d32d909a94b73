// jitfuse cache ls | stats | verify [--delete] | prune [--max-bytes N] | clear
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <ctime>

#include "cache/disk_cache.h"
#include "cache/maintenance.h"
#include "commands.h"
#include "json_output.h"

namespace jitfuse::cli {
namespace {

struct Flags {
  bool remove_bad = false;
  std::string max_bytes;
  std::string ls_format = "text";
  std::string stats_format = "text";
};

std::string when(std::int64_t t) {
  if (t <= 0) return "-";
  std::tm tm{};
  const std::time_t tt = std::time_t(t);
  ::gmtime_r(&tt, &tm);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}", tm);
}

std::string bytes_text(std::uint64_t b) {
  if (b >= (1u << 30)) return fmt::format("{:.1f} GB", double(b) / double(1u << 30));
  if (b >= (1u << 20)) return fmt::format("{:.1f} MB", double(b) / double(1u << 20));
  return fmt::format("{:.1f} KB", double(b) / 1024.0);
}

Expected<std::filesystem::path> cache_dir(const GlobalFlags& g) {
  if (!g.cache_dir.empty()) return std::filesystem::path(g.cache_dir);
  if (auto d = default_cache_dir()) return *d;
  return make_error(ErrorCode::bad_option,
                    "no cache directory: JITFUSE_CACHE is off and none is set; pass --cache-dir DIR");
}

// Rows as columns as wide as their widest cell, two spaces apart; `right` columns (numbers)
// are aligned right. The last column is not padded.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool last = c + 1 == row.size();
      if (c < right.size() && right[c]) out += fmt::format("{:>{}}", row[c], width[c]);
      else out += last ? row[c] : fmt::format("{:<{}}", row[c], width[c]);
      if (!last) out += "  ";
    }
    out += "\n";
  }
  return out;
}

std::string dims_text(const std::map<std::string, std::int64_t>& dims) {
  std::string out;
  for (const auto& [k, v] : dims) out += fmt::format("{}{}={}", out.empty() ? "" : ",", k, v);
  return out.empty() ? "-" : out;
}

// The digest an entry's file name ends with ("<kernel>.<arch>.<nvrtc>.<digest>.jfk").
std::string entry_key(const std::filesystem::path& entry) {
  const std::string digest = entry.stem().extension().string();
  return digest.empty() ? "" : digest.substr(1);
}

ojson ls_json(const std::filesystem::path& dir, const std::vector<ListedEntry>& entries) {
  ojson list = ojson::array(), unreadable = ojson::array();
  std::uint64_t total = 0;
  for (const ListedEntry& e : entries) {
    total += e.size;
    if (!e.problem.empty()) {
      unreadable.push_back({{"file", e.path.filename().string()}, {"bytes", e.size}, {"problem", e.problem}});
      continue;
    }
    list.push_back({{"file", e.path.filename().string()},
                    {"graph", e.info.graph},
                    {"kernel", e.info.kernel},
                    {"arch", e.info.arch},
                    {"nvrtc", e.info.nvrtc},
                    {"math", string_or_null(e.info.math)},
                    {"dims", dims_json(e.info.dims)},
                    {"key", entry_key(e.path)},
                    {"bytes", e.size},
                    {"created", e.info.created},
                    {"last_used", e.last_used},
                    {"compile_ms", e.info.compile_ms}});
  }
  return {{"cache_dir", dir.string()},
          {"total_bytes", total},
          {"limit_bytes", default_max_bytes()},
          {"entries", std::move(list)},
          {"unreadable", std::move(unreadable)}};
}

int ls(const std::filesystem::path& dir, const std::string& format) {
  const auto entries = list_entries(dir, false);
  if (format == "json") {
    print_json(ls_json(dir, entries));
    return kExitOk;
  }
  std::uint64_t total = 0;
  std::vector<std::vector<std::string>> rows = {
      {"GRAPH", "KERNEL", "ARCH", "MATH", "DIMS", "SIZE", "CREATED (UTC)", "LAST USED (UTC)", "KEY"}};
  std::vector<std::string> unreadable;
  for (const ListedEntry& e : entries) {
    total += e.size;
    if (!e.problem.empty()) {
      unreadable.push_back(fmt::format("unreadable: {} ({}; `jitfuse cache verify` checks every entry)",
                                       e.path.filename().string(), e.problem));
      continue;
    }
    rows.push_back({e.info.graph, e.info.kernel, e.info.arch, e.info.math.empty() ? "-" : e.info.math,
                    dims_text(e.info.dims), bytes_text(e.size), when(e.info.created), when(e.last_used),
                    entry_key(e.path)});
  }
  std::fputs(table(rows, {false, false, false, false, false, true}).c_str(), stdout);
  for (const std::string& line : unreadable) std::printf("%s\n", line.c_str());
  std::printf("%zu entr%s, %s (limit %s) in %s\n", entries.size(), entries.size() == 1 ? "y" : "ies",
              bytes_text(total).c_str(), bytes_text(default_max_bytes()).c_str(), dir.string().c_str());
  return kExitOk;
}

int stats(const std::filesystem::path& dir, const std::string& format) {
  const auto entries = list_entries(dir, false);
  std::uint64_t total = 0;
  double rebuild_ms = 0;
  for (const auto& e : entries) {
    total += e.size;
    rebuild_ms += e.info.compile_ms;
  }
  const CacheTotals t = read_stats(dir);
  if (format == "json") {
    print_json({{"cache_dir", dir.string()},
                {"entries", entries.size()},
                {"total_bytes", total},
                {"limit_bytes", default_max_bytes()},
                {"rebuild_ms", rebuild_ms},
                {"journal", {{"processes", t.processes},
                             {"memory_hits", t.memory_hits},
                             {"disk_hits", t.disk_hits},
                             {"misses", t.misses},
                             {"corrupt", t.corrupt},
                             {"compile_ms", t.compile_ms},
                             {"saved_ms", t.saved_ms}}}});
    return kExitOk;
  }
  std::printf("%s: %zu entries, %s of %s; recompiling them all would take %.1f s of NVRTC\n",
              dir.string().c_str(), entries.size(), bytes_text(total).c_str(),
              bytes_text(default_max_bytes()).c_str(), rebuild_ms / 1e3);
  std::printf("journal of %llu processes: %llu memory hits, %llu disk hits, %llu misses, %llu corrupt "
              "entries; NVRTC time spent %.1f s, saved by disk hits %.1f s\n",
              static_cast<unsigned long long>(t.processes), static_cast<unsigned long long>(t.memory_hits),
              static_cast<unsigned long long>(t.disk_hits), static_cast<unsigned long long>(t.misses),
              static_cast<unsigned long long>(t.corrupt), t.compile_ms / 1e3, t.saved_ms / 1e3);
  return kExitOk;
}

int verify(const std::filesystem::path& dir, bool remove_bad) {
  int bad = 0, good = 0;
  for (const ListedEntry& e : list_entries(dir)) {
    if (e.problem.empty()) {
      ++good;
      continue;
    }
    ++bad;
    std::error_code ec;
    const bool removed = remove_bad && std::filesystem::remove(e.path, ec);
    std::printf("bad: %s: %s%s\n", e.path.string().c_str(), e.problem.c_str(), removed ? " (removed)" : "");
  }
  std::printf("verify: %d good, %d bad\n", good, bad);
  return bad && !remove_bad ? kExitFailed : kExitOk;
}

int prune_cmd(const std::filesystem::path& dir, const std::string& max_text) {
  std::uint64_t max = default_max_bytes();
  if (!max_text.empty()) {
    const auto parsed = parse_byte_count(max_text);
    if (!parsed) {
      return report(make_error(ErrorCode::bad_option,
                               fmt::format("--max-bytes \"{}\" is not a byte count (e.g. 512M, 2G)", max_text)));
    }
    max = *parsed;
  }
  auto r = prune(dir, max);
  if (!r) return report(r.error());
  std::printf("prune: evicted %d entr%s (%s), %s left (limit %s); removed %d abandoned temporar%s and %d "
              "stale lock%s\n", r->evicted, r->evicted == 1 ? "y" : "ies", bytes_text(r->freed).c_str(),
              bytes_text(r->remaining).c_str(), bytes_text(max).c_str(), r->temporaries,
              r->temporaries == 1 ? "y" : "ies", r->locks, r->locks == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace

Command add_cache(CLI::App& app, const GlobalFlags& global) {
  auto flags = std::make_shared<Flags>();
  CLI::App* sub = app.add_subcommand("cache", "inspect and maintain the kernel cache");
  sub->require_subcommand(1);
  CLI::App* ls_cmd = sub->add_subcommand(
      "ls", "list entries: graph, kernel, arch, math, dims, size, created, last used, key");
  add_format_flag(ls_cmd, flags->ls_format);
  CLI::App* stats_cmd = sub->add_subcommand("stats", "size, and hits, misses and compile time saved");
  add_format_flag(stats_cmd, flags->stats_format);
  CLI::App* verify_cmd = sub->add_subcommand("verify", "re-check every entry's checksum and key");
  verify_cmd->add_flag("--delete", flags->remove_bad, "remove the bad entries");
  CLI::App* prune_sub = sub->add_subcommand("prune", "evict least-recently-used entries beyond the size limit");
  prune_sub->add_option("--max-bytes", flags->max_bytes, "the limit (default: JITFUSE_CACHE_MAX_BYTES or 2G)");
  sub->add_subcommand("clear", "remove every entry, temporary, lock, tuning record and the stats journal");
  return {sub, [&global, flags, ls_cmd, stats_cmd, verify_cmd, prune_sub] {
            auto dir = cache_dir(global);
            if (!dir) return report(dir.error());
            if (ls_cmd->parsed()) return ls(*dir, flags->ls_format);
            if (stats_cmd->parsed()) return stats(*dir, flags->stats_format);
            if (verify_cmd->parsed()) return verify(*dir, flags->remove_bad);
            if (prune_sub->parsed()) return prune_cmd(*dir, flags->max_bytes);
            auto n = clear(*dir);
            if (!n) return report(n.error());
            std::printf("clear: removed %d file%s from %s\n", *n, *n == 1 ? "" : "s", dir->string().c_str());
            return kExitOk;
          }};
}

}  // namespace jitfuse::cli
