#include "cache/key_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/text.h"

namespace jitfuse {
namespace {

using Clock = std::chrono::steady_clock;

// How often the holder touches its lock file: well inside LockWait::stale.
constexpr std::chrono::milliseconds kHeartbeat{1'000};
// A compile still running after this long says so (NVRTC reports no progress), and again each
// time this much more has passed.
constexpr std::chrono::seconds kSlowCompile{20};

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || !name[0]) return "?";
  for (char* c = name; *c; ++c) {
    if (*c == ' ' || *c == '\n') *c = '_';
  }
  return name;
}

// The holder's line, read from the open lock file (at most 4 KB: a line is short).
std::optional<LockHolder> read_holder(int fd) {
  char buf[4096];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0) return std::nullopt;
  return parse_lock_holder(std::string_view(buf, std::size_t(n)));
}

// Seconds since the lock file was last touched, or -1 when fstat fails.
double heartbeat_age(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return -1;
  struct timespec now {};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return double(now.tv_sec - st.st_mtim.tv_sec) + 1e-9 * double(now.tv_nsec - st.st_mtim.tv_nsec);
}

std::string describe(const std::optional<LockHolder>& h) {
  if (!h) return "another process (one that does not say who it is)";
  return fmt::format("pid {} on {}, which has been compiling {} for {} s", h->pid, user_text(h->host),
                     user_text(h->kernel), std::max<std::int64_t>(0, std::int64_t(::time(nullptr)) - h->since));
}

}  // namespace

std::string format_lock_holder(const LockHolder& h) {
  return fmt::format("{} {} {} {}\n", h.pid, h.since, h.host, h.kernel);
}

std::optional<LockHolder> parse_lock_holder(std::string_view text) {
  std::istringstream in{std::string(text)};
  LockHolder h;
  if (!(in >> h.pid >> h.since >> h.host >> h.kernel) || h.pid <= 0) return std::nullopt;
  return h;
}

struct KeyLock::State {
  int fd = -1;
  std::mutex mu;
  std::condition_variable stop_cv;
  bool stop = false;
  std::thread beat;

  ~State() {
    if (beat.joinable()) {
      {
        std::lock_guard lock(mu);
        stop = true;
      }
      stop_cv.notify_all();
      beat.join();
    }
    if (fd >= 0) ::close(fd);  // closing releases the flock
  }
};

KeyLock::KeyLock() = default;
KeyLock::KeyLock(KeyLock&&) noexcept = default;
KeyLock& KeyLock::operator=(KeyLock&&) noexcept = default;
KeyLock::~KeyLock() = default;
bool KeyLock::held() const { return state_ != nullptr; }

KeyLock acquire_key_lock(const std::filesystem::path& file, std::string_view kernel, const LockWait& wait) {
  // O_NONBLOCK: a FIFO put at the path must not hang the open; anything but a file is refused.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) return {};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return {};
  }
  const auto start = Clock::now();
  auto next_note = start + wait.announce;
  auto pause = std::chrono::milliseconds(2);
  bool announced = false;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) break;
    if (errno != EWOULDBLOCK && errno != EINTR) {
      ::close(fd);
      return {};
    }
    const auto now = Clock::now();
    const double age = heartbeat_age(fd);
    const bool stale = age > std::chrono::duration<double>(wait.stale).count();
    if (stale || now - start >= wait.most) {
      log::warn(fmt::format("{} holds the compile lock {} but {}; compiling {} here too",
                            describe(read_holder(fd)), file.string(),
                            stale ? fmt::format("has not touched it for {:.0f} s", age)
                                  : fmt::format("this process has waited {:.0f} s for it",
                                                std::chrono::duration<double>(now - start).count()),
                            user_text(kernel)));
      ::close(fd);
      return {};
    }
    if (now >= next_note) {
      const std::string msg = fmt::format("{}waiting for {} (lock {})", announced ? "still " : "",
                                          describe(read_holder(fd)), file.string());
      if (announced) log::info(msg);
      else log::warn(msg);
      announced = true;
      next_note = now + wait.repeat;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  if (announced) log::info(fmt::format("the compile lock {} is free; reading the entry", file.string()));

  KeyLock lock;
  lock.state_ = std::make_unique<KeyLock::State>();
  KeyLock::State& s = *lock.state_;
  s.fd = fd;
  const std::string line = format_lock_holder(
      LockHolder{long(::getpid()), std::int64_t(::time(nullptr)), host_name(), std::string(kernel)});
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, line.data(), line.size(), 0);
  // The heartbeat: waiters take a lock file untouched for LockWait::stale as abandoned.
  s.beat = std::thread([&s, name = std::string(kernel), start = Clock::now()] {
    auto next_note = start + kSlowCompile;
    std::unique_lock guard(s.mu);
    while (!s.stop_cv.wait_for(guard, kHeartbeat, [&s] { return s.stop; })) {
      (void)::futimens(s.fd, nullptr);
      if (Clock::now() >= next_note) {
        log::warn(fmt::format("still compiling {} ({:.0f} s so far)", user_text(name),
                              std::chrono::duration<double>(Clock::now() - start).count()));
        next_note += kSlowCompile;
      }
    }
  });
  return lock;
}

}  // namespace jitfuse
