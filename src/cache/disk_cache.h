// The on-disk kernel cache: one self-checking file per key, shared by any number of processes.
// Writes go to a temporary file in the same directory and are renamed into place, so a reader
// never sees a torn entry; a per-key lock (cache/key_lock.h) lets one process compile while the
// others wait.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "cache/entry.h"
#include "cache/key.h"
#include "cache/key_lock.h"

namespace jitfuse {

// The result of a lookup: a hit, a miss, or an entry that failed its checks (and why).
struct CacheLookup {
  std::optional<CacheEntry> entry;
  std::string corrupt;  // non-empty: why the file on disk was rejected
};

// The cache directory chosen by the environment: $JITFUSE_CACHE_DIR, $XDG_CACHE_HOME/jitfuse,
// ~/.cache/jitfuse, a variable set but empty counting as unset (logged at debug level); nullopt
// when JITFUSE_CACHE is off/0/false/no, or nothing is set.
std::optional<std::filesystem::path> default_cache_dir();
// The size bound: $JITFUSE_CACHE_MAX_BYTES (a byte count, or with a K, M or G suffix), else 2 GiB.
std::uint64_t default_max_bytes();

// A cache directory. Safe to use from several threads and processes at once.
class DiskCache {
 public:
  explicit DiskCache(std::filesystem::path dir, std::uint64_t max_bytes = default_max_bytes());

  // The entry for `key`, checked (magic, version, key, sizes, checksum). A hit stamps the
  // entry's last use (its mtime, set explicitly: atime is unreliable on noatime mounts).
  CacheLookup load(const CacheKey& key) const;
  // Writes the entry atomically (temp file, fsync, rename), then sweeps temporaries of dead
  // writers and evicts least-recently-used entries beyond the size bound.
  Status store(const CacheKey& key, const CacheEntry& entry) const;

  // The lock on `key`'s entry (locks/<entry>.lock) to compile `kernel`; waits for another
  // process compiling it while that one lives (cache/key_lock.h). Unheld when it cannot be had,
  // in which case the caller compiles without it.
  KeyLock lock(const CacheKey& key, std::string_view kernel, const LockWait& wait = {}) const;

  // The path of `key`'s entry.
  std::filesystem::path path(const CacheKey& key) const;
  const std::filesystem::path& dir() const { return dir_; }
  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
};

// For tests: makes every cache write fail with errno `err` (ENOSPC, EROFS, ...); 0 stops it.
void inject_cache_write_fault(int err);

}  // namespace jitfuse
