// The per-key compile lock of the disk cache: one process compiles a key while the others wait
// for its entry. A kernel flock on locks/<entry>.lock, so a killed holder never blocks anyone; the
// holder writes who it is into the file and touches it every second (a heartbeat), so that a
// waiter can say whom it waits for, and waits as long as that compile lives, not a fixed time.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace jitfuse {

// Who holds a key's lock, as its lock file says.
struct LockHolder {
  long pid = 0;
  std::int64_t since = 0;  // when it took the lock, seconds since the epoch
  std::string host;
  std::string kernel;
};

// The holder's line in a lock file, and back: "<pid> <since> <host> <kernel>\n"; nullopt for
// anything else (an empty file, an older jitfuse's).
std::string format_lock_holder(const LockHolder& h);
std::optional<LockHolder> parse_lock_holder(std::string_view text);

// How long a waiter waits.
struct LockWait {
  // A holder whose heartbeat is older than this has stopped (stopped, or on a host whose
  // clock is off): the waiter compiles the key itself.
  std::chrono::milliseconds stale{10'000};
  // Never longer than this in all, whatever the holder does.
  std::chrono::milliseconds most{15 * 60'000};
  // The waiter says whom it waits for once it has waited this long, then every `repeat`.
  std::chrono::milliseconds announce{1'000};
  std::chrono::milliseconds repeat{30'000};
};

// An exclusive lock on one key, with the holder's heartbeat running; released (and the heartbeat
// stopped) on destruction, or when the process dies.
class KeyLock {
 public:
  KeyLock();
  KeyLock(KeyLock&&) noexcept;
  KeyLock& operator=(KeyLock&&) noexcept;
  ~KeyLock();
  // Whether this process holds the lock (false: it could not be had, and the caller compiles
  // without it).
  bool held() const;

  struct State;  // the lock file's descriptor and the heartbeat thread

 private:
  friend KeyLock acquire_key_lock(const std::filesystem::path&, std::string_view, const LockWait&);
  std::unique_ptr<State> state_;
};

// Takes the lock file `file` to compile `kernel`: at once when it is free, else after waiting
// for its holder (logged: who, since when), as long as the holder's heartbeat is fresh and at
// most `wait.most`. An unheld lock when the file cannot be opened or locked (a read-only
// directory, something other than a file there) or the wait ends without it.
KeyLock acquire_key_lock(const std::filesystem::path& file, std::string_view kernel,
                         const LockWait& wait = {});

}  // namespace jitfuse
