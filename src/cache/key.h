// key: everything that shapes a cubin -> a digest and a readable file name.
#pragma once

#include <string>
#include <vector>

#include "codegen/embedded.h"
#include "codegen/emit.h"
#include "nvrtc/nvrtc.h"

namespace jitfuse {

// Bump this when the disk entry layout (entry.cpp) or what make_key hashes changes:
// entries of another version are then treated as misses and replaced.
inline constexpr unsigned kCacheFormatVersion = 3;  // 3: the metadata records dims and math

// The identity of one compiled kernel.
struct CacheKey {
  std::string digest;     // XXH3-128, 32 hex characters
  std::string file_name;  // "<kernel>.<sm90a>.<nvrtc13-0>.<digest>.jfk"
  unsigned char raw[16];  // the digest's bytes, stored inside the entry
};

// Hashes the format version, the generated source, every embedded header (name and text), the
// NVRTC options, the arch and the NVRTC version. `headers` is the embedded set; tests pass others.
CacheKey make_key(const KernelSource& source, const Arch& arch,
                  const std::vector<std::string>& options, const NvrtcVersion& nvrtc,
                  const std::vector<embedded::File>& headers = embedded::files());

}  // namespace jitfuse
