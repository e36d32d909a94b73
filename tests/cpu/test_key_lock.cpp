// The disk cache's per-key compile lock (cache/key_lock.h): a waiter waits while the holder
// lives and says whom it waits for; it stops waiting for a holder that stopped beating, and
// never longer than its bound. flock conflicts between two opens of one file even in one
// process, so holder and waiter can both be here.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "cache/key_lock.h"
#include "support.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `f` with this process's stderr going to a file; returns what was written there.
template <class F>
std::string capture_stderr(const std::filesystem::path& file, F f) {
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 2);
  ::close(fd);
  f();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  return read_text(file);
}

}  // namespace

TEST_CASE("key lock: the holder says who it is; a waiter waits for it, says whom for, and then gets the lock") {
  jf_test::TempDir tmp;
  const auto file = tmp.path / "k.lock";
  jitfuse::KeyLock holder = jitfuse::acquire_key_lock(file, "jf_slow_0");
  REQUIRE(holder.held());
  const auto who = jitfuse::parse_lock_holder(read_text(file));
  REQUIRE(who);
  CHECK(who->pid == long(::getpid()));
  CHECK(who->kernel == "jf_slow_0");

  jitfuse::LockWait wait;
  wait.announce = 200ms;
  const auto t0 = Clock::now();
  std::string log;
  bool held = false;
  double waited = 0;
  log = capture_stderr(tmp.path / "stderr.txt", [&] {
    auto waiter = std::async(std::launch::async, [&] {
      jitfuse::KeyLock l = jitfuse::acquire_key_lock(file, "jf_slow_0", wait);
      waited = seconds_since(t0);
      return l.held();
    });
    std::this_thread::sleep_for(1500ms);  // longer than the heartbeat: it keeps the holder fresh
    holder = jitfuse::KeyLock();          // released
    held = waiter.get();
  });
  CHECK(held);
  CHECK(waited >= 1.4);
  CHECK(waited < 5.0);
  CHECK(log.find(fmt::format("waiting for pid {}", ::getpid())) != std::string::npos);
  CHECK(log.find("jf_slow_0") != std::string::npos);
}

TEST_CASE("key lock: a holder that stopped touching its file is given up on; the wait has a bound") {
  jf_test::TempDir tmp;
  const auto file = tmp.path / "k.lock";
  SUBCASE("stale holder") {
    // A holder without a heartbeat (a stopped process, or one from an older jitfuse): a raw flock
    // on a file last touched a minute ago.
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);
    const struct timespec old[2] = {{::time(nullptr) - 60, 0}, {::time(nullptr) - 60, 0}};
    REQUIRE(::futimens(fd, old) == 0);
    jitfuse::LockWait wait;
    wait.stale = 5s;
    const auto t0 = Clock::now();
    CHECK_FALSE(jitfuse::acquire_key_lock(file, "k", wait).held());
    CHECK(seconds_since(t0) < 2.0);
    ::close(fd);
  }
  SUBCASE("live holder, bounded wait") {
    jitfuse::KeyLock holder = jitfuse::acquire_key_lock(file, "k");
    REQUIRE(holder.held());
    jitfuse::LockWait wait;
    wait.most = 1500ms;
    const auto t0 = Clock::now();
    CHECK_FALSE(jitfuse::acquire_key_lock(file, "k", wait).held());
    CHECK(seconds_since(t0) >= 1.4);
    CHECK(seconds_since(t0) < 4.0);
  }
  SUBCASE("a FIFO at the lock's path: no lock, and no hang") {
    REQUIRE(::mkfifo(file.c_str(), 0644) == 0);
    const auto t0 = Clock::now();
    CHECK_FALSE(jitfuse::acquire_key_lock(file, "k").held());
    CHECK(seconds_since(t0) < 1.0);
  }
}

TEST_CASE("key lock: the holder's line round-trips, and junk is no holder") {
  const jitfuse::LockHolder h{1234, 1700000000, "build-7", "jf_example_0"};
  const auto back = jitfuse::parse_lock_holder(jitfuse::format_lock_holder(h));
  REQUIRE(back);
  CHECK(back->pid == 1234);
  CHECK(back->since == 1700000000);
  CHECK(back->host == "build-7");
  CHECK(back->kernel == "jf_example_0");
  CHECK_FALSE(jitfuse::parse_lock_holder(""));
  CHECK_FALSE(jitfuse::parse_lock_holder("garbage"));
  CHECK_FALSE(jitfuse::parse_lock_holder("-5 0 h k"));
}
