#include "cache/entry.h"

#include <fmt/format.h>

#include <cstring>
#include <sstream>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "cache/key.h"

namespace jitfuse {
namespace {

// The entry layout. Bump kCacheFormatVersion (cache/key.h) if you change it.
//   0  char[8]  magic "JFKCACHE"
//   8  u32      format version
//  12  u32      metadata bytes (m)
//  16  u8[16]   key digest
//  32  u64      cubin bytes
//  40  u64      ptx bytes
//  48  u64      created (unix seconds)
//  56  metadata: "key=value\n" lines (graph, kernel, arch, nvrtc, compile_ms, dims as
//      "M=2048,N=64", math)
//      then the cubin, then the PTX
//  end u64      XXH3-64 of every byte before it
constexpr char kMagic[8] = {'J', 'F', 'K', 'C', 'A', 'C', 'H', 'E'};
constexpr std::size_t kHeader = 56;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get(std::string_view in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

Error corrupt(std::string why) { return make_error(ErrorCode::cache, std::move(why)); }

std::string metadata(const EntryInfo& i) {
  std::string dims;
  for (const auto& [k, v] : i.dims) dims += fmt::format("{}{}={}", dims.empty() ? "" : ",", k, v);
  return fmt::format("graph={}\nkernel={}\narch={}\nnvrtc={}\ncompile_ms={:.1f}\ndims={}\nmath={}\n",
                     i.graph, i.kernel, i.arch, i.nvrtc, i.compile_ms, dims, i.math);
}

// "M=2048,N=64" -> {M: 2048, N: 64}; items that do not parse are skipped (metadata is advisory).
std::map<std::string, std::int64_t> parse_dims(const std::string& text) {
  std::map<std::string, std::int64_t> dims;
  std::istringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    dims[item.substr(0, eq)] = std::atoll(item.c_str() + eq + 1);
  }
  return dims;
}

void read_metadata(std::string_view text, EntryInfo& info) {
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "graph") info.graph = value;
    else if (key == "kernel") info.kernel = value;
    else if (key == "arch") info.arch = value;
    else if (key == "nvrtc") info.nvrtc = value;
    else if (key == "compile_ms") info.compile_ms = std::atof(value.c_str());
    else if (key == "dims") info.dims = parse_dims(value);
    else if (key == "math") info.math = value;
  }
}

}  // namespace

std::string serialize_entry(const unsigned char (&digest)[16], const CacheEntry& e) {
  const std::string meta = metadata(e.info);
  std::string bytes(kMagic, sizeof kMagic);
  put<std::uint32_t>(bytes, kCacheFormatVersion);
  put<std::uint32_t>(bytes, std::uint32_t(meta.size()));
  bytes.append(reinterpret_cast<const char*>(digest), 16);
  put<std::uint64_t>(bytes, e.cubin.size());
  put<std::uint64_t>(bytes, e.ptx.size());
  put<std::uint64_t>(bytes, std::uint64_t(e.info.created));
  bytes += meta;
  bytes += e.cubin;
  bytes += e.ptx;
  put<std::uint64_t>(bytes, XXH3_64bits(bytes.data(), bytes.size()));
  return bytes;
}

Expected<EntryInfo> parse_entry_info(std::string_view prefix) {
  if (prefix.size() < kHeader || std::memcmp(prefix.data(), kMagic, sizeof kMagic) != 0) {
    return corrupt("not a jitfuse cache entry (bad magic or truncated)");
  }
  if (const auto v = get<std::uint32_t>(prefix, 8); v != kCacheFormatVersion) {
    return corrupt(fmt::format("format version {}, expected {}", v, kCacheFormatVersion));
  }
  const std::size_t meta = get<std::uint32_t>(prefix, 12);
  if (kHeader + meta > prefix.size()) return corrupt("metadata too long or truncated");
  EntryInfo info;
  info.created = std::int64_t(get<std::uint64_t>(prefix, 48));
  read_metadata(prefix.substr(kHeader, meta), info);
  return info;
}

Expected<ParsedEntry> parse_entry(std::string_view bytes) {
  if (bytes.size() < kHeader + 8) {
    return corrupt(fmt::format("{} bytes, shorter than any entry (truncated?)", bytes.size()));
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return corrupt("not a jitfuse cache entry (bad magic)");
  }
  if (const auto v = get<std::uint32_t>(bytes, 8); v != kCacheFormatVersion) {
    return corrupt(fmt::format("format version {}, expected {}", v, kCacheFormatVersion));
  }
  const std::uint64_t meta = get<std::uint32_t>(bytes, 12);
  const auto cubin = get<std::uint64_t>(bytes, 32);
  const auto ptx = get<std::uint64_t>(bytes, 40);
  if (cubin > bytes.size() || ptx > bytes.size() || kHeader + meta + cubin + ptx + 8 != bytes.size()) {
    return corrupt(fmt::format("sizes do not add up ({} + {} + {} payload bytes in a {}-byte file)",
                               meta, cubin, ptx, bytes.size()));
  }
  const std::size_t body = bytes.size() - 8;
  if (XXH3_64bits(bytes.data(), body) != get<std::uint64_t>(bytes, body)) {
    return corrupt("checksum mismatch");
  }
  ParsedEntry p;
  std::memcpy(p.digest, bytes.data() + 16, 16);
  p.entry.info.created = std::int64_t(get<std::uint64_t>(bytes, 48));
  read_metadata(bytes.substr(kHeader, meta), p.entry.info);
  p.entry.cubin = std::string(bytes.substr(kHeader + meta, cubin));
  p.entry.ptx = std::string(bytes.substr(kHeader + meta + cubin, ptx));
  return p;
}

}  // namespace jitfuse
