#include "cache/disk_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace jitfuse {
namespace {

// The entry layout. Bump kCacheFormatVersion (cache/key.h) if you change it.
//   0  char[8]  magic "JFKCACHE"
//   8  u32      format version
//  12  u32      reserved (0)
//  16  u8[16]   key digest
//  32  u64      cubin bytes
//  40  u64      ptx bytes
//  48  u64      created (unix seconds)
//  56  cubin, then ptx
//  end u64      XXH3-64 of every byte before it
constexpr char kMagic[8] = {'J', 'F', 'K', 'C', 'A', 'C', 'H', 'E'};
constexpr std::size_t kHeader = 56;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get(const std::string& in, std::size_t at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  return v;
}

std::string errno_text() { return std::strerror(errno); }

Status write_all(int fd, const std::string& bytes, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error e = make_error(ErrorCode::cache, "cannot write a cache entry: " + errno_text());
      e.file = path.string();
      return e;
    }
    done += std::size_t(n);
  }
  return {};
}

}  // namespace

std::optional<std::filesystem::path> default_cache_dir() {
  if (const char* c = std::getenv("JITFUSE_CACHE")) {
    const std::string v = c;
    if (v == "off" || v == "0" || v == "false" || v == "no") return std::nullopt;
  }
  if (const char* d = std::getenv("JITFUSE_CACHE_DIR"); d && *d) return std::filesystem::path(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    return std::filesystem::path(x) / "jitfuse";
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return std::filesystem::path(h) / ".cache" / "jitfuse";
  }
  return std::nullopt;
}

DiskCache::DiskCache(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::filesystem::path DiskCache::path(const CacheKey& key) const { return dir_ / key.file_name; }

CacheLookup DiskCache::load(const CacheKey& key) const {
  CacheLookup result;
  std::ifstream in(path(key), std::ios::binary | std::ios::ate);
  if (!in) return result;  // a miss
  const std::streamoff size = in.tellg();
  std::string bytes(size > 0 ? std::size_t(size) : 0, '\0');
  in.seekg(0);
  if (size < 0 || !in.read(bytes.data(), std::streamsize(bytes.size()))) {
    result.corrupt = "read failed";
    return result;
  }
  if (bytes.size() < kHeader + 8) {
    result.corrupt = fmt::format("{} bytes, shorter than any entry (truncated?)", bytes.size());
    return result;
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    result.corrupt = "not a jitfuse cache entry (bad magic)";
    return result;
  }
  if (const auto v = get<std::uint32_t>(bytes, 8); v != kCacheFormatVersion) {
    result.corrupt = fmt::format("format version {}, expected {}", v, kCacheFormatVersion);
    return result;
  }
  if (std::memcmp(bytes.data() + 16, key.raw, sizeof key.raw) != 0) {
    result.corrupt = "the entry belongs to another key";
    return result;
  }
  const auto cubin = get<std::uint64_t>(bytes, 32);
  const auto ptx = get<std::uint64_t>(bytes, 40);
  if (cubin > bytes.size() || ptx > bytes.size() || kHeader + cubin + ptx + 8 != bytes.size()) {
    result.corrupt = fmt::format("sizes do not add up ({} + {} payload bytes in a {}-byte file)",
                                 cubin, ptx, bytes.size());
    return result;
  }
  const std::size_t body = bytes.size() - 8;
  if (XXH3_64bits(bytes.data(), body) != get<std::uint64_t>(bytes, body)) {
    result.corrupt = "checksum mismatch";
    return result;
  }
  result.entry = CacheEntry{bytes.substr(kHeader, cubin), bytes.substr(kHeader + cubin, ptx)};
  return result;
}

Status DiskCache::store(const CacheKey& key, const CacheEntry& entry) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    Error e = make_error(ErrorCode::cache, "cannot create the cache directory: " + ec.message());
    e.file = dir_.string();
    return e;
  }
  std::string bytes(kMagic, sizeof kMagic);
  put<std::uint32_t>(bytes, kCacheFormatVersion);
  put<std::uint32_t>(bytes, 0);
  bytes.append(reinterpret_cast<const char*>(key.raw), sizeof key.raw);
  put<std::uint64_t>(bytes, entry.cubin.size());
  put<std::uint64_t>(bytes, entry.ptx.size());
  put<std::uint64_t>(bytes, std::uint64_t(std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count()));
  bytes += entry.cubin;
  bytes += entry.ptx;
  put<std::uint64_t>(bytes, XXH3_64bits(bytes.data(), bytes.size()));

  // A unique temporary name in the same directory, so that rename() is atomic.
  static std::atomic<unsigned> counter{0};
  const auto tmp = dir_ / fmt::format(".{}.tmp.{}.{}", key.file_name, ::getpid(), counter++);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    Error e = make_error(ErrorCode::cache, "cannot create a cache entry: " + errno_text());
    e.file = tmp.string();
    return e;
  }
  Status s = write_all(fd, bytes, tmp);
  if (s.ok() && ::fsync(fd) != 0) {
    s = make_error(ErrorCode::cache, "cannot flush a cache entry: " + errno_text());
  }
  if (::close(fd) != 0 && s.ok()) {
    s = make_error(ErrorCode::cache, "cannot close a cache entry: " + errno_text());
  }
  if (s.ok() && ::rename(tmp.c_str(), path(key).c_str()) != 0) {
    s = make_error(ErrorCode::cache, "cannot rename a cache entry into place: " + errno_text());
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    if (s.error().file.empty()) s.error().file = path(key).string();
  }
  return s;
}

}  // namespace jitfuse
