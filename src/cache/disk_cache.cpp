#include "cache/disk_cache.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "cache/maintenance.h"
#include "common/file.h"
#include "common/log.h"
#include "common/text.h"

namespace jitfuse {
namespace {

std::atomic<int> g_write_fault{0};

std::string errno_text(int err = errno) { return std::strerror(err); }

Error cache_error(std::string message, const std::filesystem::path& file) {
  Error e = make_error(ErrorCode::cache, std::move(message));
  e.file = file.string();
  return e;
}

Status write_all(int fd, const std::string& bytes, const std::filesystem::path& path) {
  if (const int fault = g_write_fault.load()) {
    return cache_error("cannot write a cache entry: " + errno_text(fault) + " (injected)", path);
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return cache_error("cannot write a cache entry: " + errno_text(), path);
    done += std::size_t(n);
  }
  return {};
}

}  // namespace

void inject_cache_write_fault(int err) { g_write_fault = err; }

std::optional<std::filesystem::path> default_cache_dir() {
  if (const char* c = std::getenv("JITFUSE_CACHE")) {
    const std::string v = c;
    if (v == "off" || v == "0" || v == "false" || v == "no") return std::nullopt;
  }
  // An empty variable counts as unset, as the XDG spec has it for XDG_CACHE_HOME: `X=$TYPO` in a
  // script is more likely than a wish for the current directory. -v says so.
  std::vector<std::string> empty;
  auto env = [&](const char* name) -> const char* {
    const char* v = std::getenv(name);
    if (v && !*v) empty.emplace_back(name);
    return v && *v ? v : nullptr;
  };
  std::optional<std::filesystem::path> dir;
  if (const char* d = env("JITFUSE_CACHE_DIR")) dir = std::filesystem::path(d);
  else if (const char* x = env("XDG_CACHE_HOME")) dir = std::filesystem::path(x) / "jitfuse";
  else if (const char* h = env("HOME")) dir = std::filesystem::path(h) / ".cache" / "jitfuse";
  if (!empty.empty()) {
    log::debug(fmt::format("cache: {} {} set but empty, which counts as unset; the cache directory "
                           "is {}", join(empty, " and "), empty.size() == 1 ? "is" : "are",
                           dir ? dir->string() : "none (no disk cache)"));
  }
  return dir;
}

std::uint64_t default_max_bytes() {
  constexpr std::uint64_t kDefault = std::uint64_t(2) << 30;
  const char* env = std::getenv("JITFUSE_CACHE_MAX_BYTES");
  if (!env || !*env) return kDefault;
  const auto parsed = parse_byte_count(env);
  if (!parsed) {
    log::warn(fmt::format("JITFUSE_CACHE_MAX_BYTES=\"{}\" is not a byte count (e.g. 1073741824, "
                          "512M, 2G); using 2G", user_text(env)));
  }
  return parsed ? *parsed : kDefault;
}

DiskCache::DiskCache(std::filesystem::path dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {}

std::filesystem::path DiskCache::path(const CacheKey& key) const { return dir_ / key.file_name; }

CacheLookup DiskCache::load(const CacheKey& key) const {
  CacheLookup result;
  const auto file = path(key);
  // Whatever is at the path: a directory, a FIFO or a file larger than an entry can be is
  // corrupt (store replaces it), not something to read or wait on.
  auto bytes = read_file(file, {.max_bytes = kMaxEntryBytes});
  if (!bytes.ok()) {
    result.corrupt = bytes.error().message;
    return result;
  }
  if (!*bytes) return result;  // a miss
  auto parsed = parse_entry(**bytes);
  if (!parsed) {
    result.corrupt = parsed.error().message;
    return result;
  }
  if (std::memcmp(parsed->digest, key.raw, sizeof key.raw) != 0) {
    result.corrupt = "the entry belongs to another key";
    return result;
  }
  stamp_used(file);
  result.entry = std::move(parsed->entry);
  return result;
}

Status DiskCache::store(const CacheKey& key, const CacheEntry& entry) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return cache_error("cannot create the cache directory: " + ec.message(), dir_);
  const std::string bytes = serialize_entry(key.raw, entry);
  const auto target = path(key);
  if (bytes.size() > kMaxEntryBytes) {
    return cache_error(fmt::format("the entry is {} bytes, more than the {} an entry may be; not cached",
                                   bytes.size(), kMaxEntryBytes), target);
  }
  const auto tmp = temp_path(target);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return cache_error("cannot create a cache entry: " + errno_text(), tmp);
  Status s = write_all(fd, bytes, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = cache_error("cannot flush a cache entry: " + errno_text(), tmp);
  if (::close(fd) != 0 && s.ok()) s = cache_error("cannot close a cache entry: " + errno_text(), tmp);
  if (s.ok()) {
    if (const int err = rename_over(tmp, target); err == EISDIR) {
      s = cache_error("a directory that is not empty is in the way at the entry's path; remove it", target);
    } else if (err != 0) {
      s = cache_error("cannot rename a cache entry into place: " + errno_text(err), target);
    }
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  // Housekeeping on the (rare, already slow) compile path: never fails the store.
  (void)prune(dir_, max_bytes_, target);
  return {};
}

KeyLock DiskCache::lock(const CacheKey& key, std::string_view kernel, const LockWait& wait) const {
  std::error_code ec;
  const auto dir = dir_ / "locks";
  std::filesystem::create_directories(dir, ec);
  return acquire_key_lock(dir / (key.file_name + ".lock"), kernel, wait);
}

}  // namespace jitfuse
