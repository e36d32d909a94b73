// Reading files whose kind and size nobody promised: a graph the user names, a cache entry that
// someone may have replaced with a directory, a FIFO or an 8 GB sparse file. One place decides
// what is read, so that no such path can hang, exhaust memory or crash a caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

#include "jitfuse/error.hpp"

namespace jitfuse {

// What read_file accepts.
struct ReadLimits {
  // A file larger than this is rejected without being read (what its contents may be at most).
  std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max();
  // Reads only the first this many bytes (a header), after the checks above.
  std::uint64_t read_bytes = std::numeric_limits<std::uint64_t>::max();
  // Only a regular file: anything else is rejected unread, and a FIFO is opened without
  // blocking. Off for a path the user names, which may be a pipe such as `<(gen_graph)`.
  bool regular_only = true;
};

// The bytes of `path`, or nullopt when nothing is there (ENOENT, ENOTDIR). An io error naming
// the file when it is a directory, not a regular file (with regular_only), over max_bytes, or
// cannot be opened or read; the message reads after the path ("it is a directory, not a file").
Expected<std::optional<std::string>> read_file(const std::filesystem::path& path,
                                               const ReadLimits& limits);

}  // namespace jitfuse
