#include "cache/maintenance.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <sstream>

#include "common/file.h"

namespace jitfuse {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kStaleSeconds = 3600;  // a temporary or lock this old belongs to nobody
constexpr const char* kTmpTag = ".tmp.";
// The stats journal: stats.log, renamed to stats.log.1 (replacing the older one) once it passes
// kStatsRotateBytes, so the two hold the last 1-2 MiB of lines (~40 bytes a process).
constexpr const char* kStatsLog = "stats.log";
constexpr const char* kStatsOld = "stats.log.1";
constexpr std::uint64_t kStatsRotateBytes = std::uint64_t(1) << 20;
constexpr std::uint64_t kStatsReadBytes = 2 * kStatsRotateBytes;  // more only if someone else wrote it

std::int64_t now_seconds() { return std::int64_t(::time(nullptr)); }

std::int64_t mtime_seconds(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? std::int64_t(st.st_mtim.tv_sec) : 0;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "host";
  std::string h = buf;
  std::replace(h.begin(), h.end(), '.', '_');  // dots separate the name's fields
  return h;
}

bool is_entry(const fs::path& p) { return p.extension() == ".jfk" && p.filename().string()[0] != '.'; }
bool is_temporary(const std::string& name) { return name[0] == '.' && name.find(kTmpTag) != std::string::npos; }

// A temporary ".<entry>.tmp.<host>.<pid>.<n>" belongs to a dead writer when it names this host
// and a pid that no longer exists; any temporary an hour old is abandoned.
bool abandoned(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string tail = name.substr(name.rfind(kTmpTag) + std::strlen(kTmpTag));
  const auto dot1 = tail.find('.'), dot2 = tail.rfind('.');
  if (dot1 != std::string::npos && dot2 > dot1 && tail.substr(0, dot1) == host_name()) {
    const long pid = std::atol(tail.substr(dot1 + 1, dot2 - dot1 - 1).c_str());
    if (pid > 0 && ::kill(pid_t(pid), 0) != 0 && errno == ESRCH) return true;
  }
  return now_seconds() - mtime_seconds(p) > kStaleSeconds;
}

// Holds an exclusive flock on `path` for the scope, if it can be had at once.
class TryLock {
 public:
  explicit TryLock(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~TryLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Removes lock files whose entry is gone, that are old, and that nobody holds.
int sweep_locks(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "locks", ec)) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".jfk.lock")) continue;
    if (fs::exists(dir / name.substr(0, name.size() - 5))) continue;
    if (now_seconds() - mtime_seconds(e.path()) <= kStaleSeconds) continue;
    TryLock held(e.path());
    if (held.held() && ::unlink(e.path().c_str()) == 0) ++removed;
  }
  return removed;
}

}  // namespace

std::optional<std::uint64_t> parse_byte_count(std::string_view text) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  const std::string_view unit(ptr, std::size_t(text.data() + text.size() - ptr));
  if (unit.empty()) return value;
  if (unit == "K" || unit == "k") return value << 10;
  if (unit == "M" || unit == "m") return value << 20;
  if (unit == "G" || unit == "g") return value << 30;
  return std::nullopt;
}

void stamp_used(const fs::path& entry) {
  const struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
  (void)::utimensat(AT_FDCWD, entry.c_str(), times, 0);
}

fs::path temp_path(const fs::path& target) {
  static std::atomic<unsigned> counter{0};
  return target.parent_path() / fmt::format(".{}{}{}.{}.{}", target.filename().string(), kTmpTag,
                                            host_name(), ::getpid(), counter++);
}

int rename_over(const fs::path& from, const fs::path& to) {
  if (::rename(from.c_str(), to.c_str()) == 0) return 0;
  if (errno != EISDIR) return errno;
  // rename(2) cannot replace a directory with a file; rmdir removes only an empty one.
  if (::rmdir(to.c_str()) != 0) return errno == ENOTEMPTY || errno == EEXIST ? EISDIR : errno;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

std::vector<ListedEntry> list_entries(const fs::path& dir, bool verify) {
  std::vector<ListedEntry> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!is_entry(e.path())) continue;
    ListedEntry l;
    l.path = e.path();
    std::error_code size_ec;
    l.size = e.is_regular_file(size_ec) ? e.file_size(size_ec) : 0;
    l.last_used = mtime_seconds(e.path());
    // Whatever is at the path: a directory, a FIFO or an 8 GB file is a problem, not a read.
    auto bytes = read_file(e.path(), {.max_bytes = kMaxEntryBytes, .read_bytes = verify ? kMaxEntryBytes : kEntryInfoBytes});
    if (!bytes.ok() || !*bytes) {
      l.problem = bytes.ok() ? "it vanished while listed" : bytes.error().message;
      if (e.is_directory(size_ec) && !fs::is_empty(e.path(), size_ec)) {
        l.problem += "; it is not empty, so jitfuse leaves it: remove it yourself";
      }
      out.push_back(std::move(l));
      continue;
    }
    if (!verify) {
      auto info = parse_entry_info(**bytes);
      if (info) l.info = *info;
      else l.problem = info.error().message;
      out.push_back(std::move(l));
      continue;
    }
    auto parsed = parse_entry(**bytes);
    if (!parsed) {
      l.problem = parsed.error().message;
    } else {
      l.info = parsed->entry.info;
      std::string digest;
      for (unsigned char c : parsed->digest) digest += fmt::format("{:02x}", c);
      // The name ends "<digest>.jfk": an entry renamed into another key's place is caught here.
      if (l.path.stem().extension().string() != "." + digest) l.problem = "the entry belongs to another key";
    }
    out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

Expected<PruneResult> prune(const fs::path& dir, std::uint64_t max_bytes, const fs::path& keep) {
  PruneResult r;
  TryLock pruning(dir / "locks" / ".prune");
  if (!pruning.held()) return r;  // someone else is at it
  struct Item {
    fs::path path;
    std::uint64_t size;
    std::int64_t used;
  };
  std::vector<Item> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (is_temporary(name)) {
      if (abandoned(e.path()) && ::unlink(e.path().c_str()) == 0) ++r.temporaries;
    } else if (is_entry(e.path())) {
      entries.push_back({e.path(), e.file_size(ec), mtime_seconds(e.path())});
      r.remaining += entries.back().size;
    }
  }
  if (ec) {
    Error e = make_error(ErrorCode::cache, "cannot list the cache directory: " + ec.message());
    e.file = dir.string();
    return e;
  }
  if (r.remaining > max_bytes) {
    const std::uint64_t target = max_bytes / 10 * 9;  // some slack, so that not every store evicts
    std::sort(entries.begin(), entries.end(), [](const Item& a, const Item& b) { return a.used < b.used; });
    for (const Item& item : entries) {
      if (r.remaining <= target) break;
      if (item.path == keep || ::unlink(item.path.c_str()) != 0) continue;
      ++r.evicted;
      r.freed += item.size;
      r.remaining -= item.size;
    }
  }
  r.locks = sweep_locks(dir);
  return r;
}

Expected<int> clear(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!is_entry(e.path()) && !is_temporary(name) && name != kStatsLog && name != kStatsOld) continue;
    // unlink takes a file, FIFO or link; rmdir only an empty directory, never anyone's files.
    if (::unlink(e.path().c_str()) == 0 || (errno == EISDIR && ::rmdir(e.path().c_str()) == 0)) ++removed;
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    Error e = make_error(ErrorCode::cache, "cannot list the cache directory: " + ec.message());
    e.file = dir.string();
    return e;
  }
  fs::remove_all(dir / "locks", ec);
  // `jitfuse tune` records (src/engine/tune.cpp) and their temporaries.
  for (const auto& e : fs::directory_iterator(dir / "tune", ec)) {
    if (e.is_regular_file() && ::unlink(e.path().c_str()) == 0) ++removed;
  }
  fs::remove(dir / "tune", ec);
  return removed;
}

Status append_stats(const fs::path& dir, const EngineStats& s) {
  const std::string line = fmt::format("1 {} {} {} {} {} {:.1f} {:.1f}\n", now_seconds(), s.memory_hits,
                                       s.disk_hits, s.misses, s.corrupt_entries, s.compile_ms, s.saved_ms);
  // O_NONBLOCK: a FIFO at the path would otherwise block this (an Engine's destructor) for good.
  const fs::path log = dir / kStatsLog;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) return make_error(ErrorCode::cache, "cannot open the stats journal: " + std::string(std::strerror(errno)));
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const bool ok = regular && ::write(fd, line.data(), line.size()) == ssize_t(line.size());  // one write: atomic
  const bool full = ok && ::fstat(fd, &st) == 0 && std::uint64_t(st.st_size) > kStatsRotateBytes;
  ::close(fd);
  if (!ok) return make_error(ErrorCode::cache, "cannot append to the stats journal");
  if (full) {
    // One process rotates, and only a journal still over the bound: another may just have.
    // Appends racing the rename land in the renamed file, which is still read.
    TryLock rotating(dir / "locks" / ".stats");
    struct stat now {};
    if (rotating.held() && ::stat(log.c_str(), &now) == 0 && std::uint64_t(now.st_size) > kStatsRotateBytes) {
      (void)::rename(log.c_str(), (dir / kStatsOld).c_str());
    }
  }
  return {};
}

CacheTotals read_stats(const fs::path& dir) {
  CacheTotals t;
  std::string lines;
  for (const char* name : {kStatsOld, kStatsLog}) {
    auto text = read_file(dir / name, {.read_bytes = kStatsReadBytes});
    if (text.ok() && *text) lines += **text + "\n";  // a line cut by read_bytes stays apart
  }
  std::istringstream in(std::move(lines));
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    int version = 0;
    std::int64_t when = 0;
    std::uint64_t mh = 0, dh = 0, miss = 0, bad = 0;
    double compile = 0, saved = 0;
    if (!(ls >> version >> when >> mh >> dh >> miss >> bad >> compile >> saved) || version != 1) continue;
    ++t.processes;
    t.memory_hits += mh;
    t.disk_hits += dh;
    t.misses += miss;
    t.corrupt += bad;
    t.compile_ms += compile;
    t.saved_ms += saved;
  }
  return t;
}

}  // namespace jitfuse
