// The on-disk kernel cache: one self-checking file per key. Writes go to a temporary file in
// the same directory and are renamed into place, so a reader never sees a torn entry.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "cache/key.h"

namespace jitfuse {

// What a cache entry holds.
struct CacheEntry {
  std::string cubin;
  std::string ptx;
};

// The result of a lookup: a hit, a miss, or an entry that failed its checks (and why).
struct CacheLookup {
  std::optional<CacheEntry> entry;
  std::string corrupt;  // non-empty: why the file on disk was rejected
};

// The cache directory chosen by the environment: $JITFUSE_CACHE_DIR, $XDG_CACHE_HOME/jitfuse,
// ~/.cache/jitfuse; nullopt when JITFUSE_CACHE is off/0/false/no, or nothing is set.
std::optional<std::filesystem::path> default_cache_dir();

// A cache directory. All methods are safe to call from several threads and processes.
class DiskCache {
 public:
  explicit DiskCache(std::filesystem::path dir);

  // The entry for `key`: checks magic, format version, key, sizes and checksum.
  CacheLookup load(const CacheKey& key) const;
  // Writes the entry atomically (temp file, fsync, rename). Creates the directory.
  Status store(const CacheKey& key, const CacheEntry& entry) const;
  // The path of `key`'s entry.
  std::filesystem::path path(const CacheKey& key) const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace jitfuse
