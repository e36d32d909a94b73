// Keeping a cache directory in shape: listing and verifying entries, sweeping temporaries of
// dead writers, LRU eviction, clearing, and the cross-process stats journal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cache/entry.h"
#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

// "123", "64K", "512M", "2G" -> bytes; nullopt for anything else.
std::optional<std::uint64_t> parse_byte_count(std::string_view text);
// Marks `entry` as used now (sets its mtime; failures are ignored: a read-only cache still works).
void stamp_used(const std::filesystem::path& entry);
// A unique temporary path next to `target`, named so that sweeping can tell whose it is.
std::filesystem::path temp_path(const std::filesystem::path& target);
// Renames `from` over `to`. A directory in the way (someone else's: we only write files) is
// removed first if it is empty and left alone if not. Returns 0, or the errno of the failure.
int rename_over(const std::filesystem::path& from, const std::filesystem::path& to);

// One entry file, as `jitfuse cache ls` and `verify` show it.
struct ListedEntry {
  std::filesystem::path path;
  std::uint64_t size = 0;
  std::int64_t last_used = 0;  // unix seconds (the mtime jitfuse stamps)
  EntryInfo info;
  std::string problem;         // non-empty: why the entry fails its checks
};
// Every entry in `dir`, by name, whatever sits at an entry's path (a directory or a FIFO there is
// listed with its problem). With `verify`, each is read whole and checked (checksum, and the
// digest in the name); without, only its header and metadata are read.
std::vector<ListedEntry> list_entries(const std::filesystem::path& dir, bool verify = true);

// What a prune did.
struct PruneResult {
  int evicted = 0;
  std::uint64_t freed = 0;
  std::uint64_t remaining = 0;   // bytes of entries left
  int temporaries = 0;           // dead writers' temporary files removed
  int locks = 0;                 // unused lock files removed
};
// Removes temporaries of dead writers (or older than an hour), stale lock files, and
// least-recently-used entries until the entries fit in 90% of `max_bytes` (never `keep`).
// Skips the work when another process is pruning the same directory.
Expected<PruneResult> prune(const std::filesystem::path& dir, std::uint64_t max_bytes,
                            const std::filesystem::path& keep = {});
// Removes every entry, temporary, lock, tuning record and the stats journal (nothing else in
// the directory; a directory at an entry's path only if it is empty).
Expected<int> clear(const std::filesystem::path& dir);

// Counters summed over every process that used the directory.
struct CacheTotals {
  std::uint64_t processes = 0, memory_hits = 0, disk_hits = 0, misses = 0, corrupt = 0;
  double compile_ms = 0;  // NVRTC time spent on misses
  double saved_ms = 0;    // NVRTC time the disk hits avoided (their entries' compile_ms)
};
// Appends one process's counters to the directory's stats journal (one O_APPEND write), and
// rotates a journal over 1 MiB to stats.log.1 (replacing the older one).
Status append_stats(const std::filesystem::path& dir, const EngineStats& stats);
// Sums the journal, stats.log.1 and stats.log; zeros when there is none.
CacheTotals read_stats(const std::filesystem::path& dir);

}  // namespace jitfuse
