// A cache entry's bytes: what it holds, how it is laid out, and how it checks itself.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "jitfuse/error.hpp"

namespace jitfuse {

// What an entry says about itself, for `jitfuse cache ls` and stats.
// Serialized in the entry's metadata (entry.cpp): bump kCacheFormatVersion if this changes.
struct EntryInfo {
  std::string graph;      // the graph's name
  std::string kernel;     // the CUDA function name
  std::string arch;       // "sm_90a"
  std::string nvrtc;      // "nvrtc13-0"
  std::int64_t created = 0;  // unix seconds
  double compile_ms = 0;     // what NVRTC took: the time a hit saves
  std::map<std::string, std::int64_t> dims;  // symbols baked in (CompileOptions::dims)
  std::string math;       // an f32 GEMM's arithmetic ("tf32x3", ...); empty where none applies
};

// What a cache entry holds.
struct CacheEntry {
  std::string cubin;
  std::string ptx;
  EntryInfo info;
};

// The entry's file bytes: header, metadata, cubin, PTX, checksum (layout in entry.cpp).
std::string serialize_entry(const unsigned char (&digest)[16], const CacheEntry& entry);

// A parsed entry and the key digest stored in it.
struct ParsedEntry {
  CacheEntry entry;
  unsigned char digest[16];
};

// Reads what an entry says about itself from its first bytes (header and metadata), without
// the checksum: for listing. An error if the header is not a current-format entry's.
Expected<EntryInfo> parse_entry_info(std::string_view prefix);
// The bytes parse_entry_info needs at most (metadata is a few short lines).
inline constexpr std::size_t kEntryInfoBytes = 4096;
// The largest entry stored, and so the largest file read as one: a kernel's cubin and PTX are
// kilobytes to a few megabytes. A bigger file at an entry's path is corrupt, never read.
inline constexpr std::uint64_t kMaxEntryBytes = std::uint64_t(64) << 20;

// Parses and checks an entry's bytes: magic, format version, sizes and checksum. The error's
// message says what is wrong (truncated, garbage, another version, checksum mismatch).
Expected<ParsedEntry> parse_entry(std::string_view bytes);

}  // namespace jitfuse
