#include "common/file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace jitfuse {
namespace {

// Closes the descriptor with the scope.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "something other than a file";
}

Error io_error(const std::filesystem::path& path, std::string message) {
  Error e = make_error(ErrorCode::io, std::move(message));
  e.file = path.string();
  return e;
}

}  // namespace

Expected<std::optional<std::string>> read_file(const std::filesystem::path& path,
                                               const ReadLimits& limits) {
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, maybe forever.
  const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (limits.regular_only ? O_NONBLOCK : 0);
  int fd;
  do {
    fd = ::open(path.c_str(), flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return io_error(path, std::strerror(errno));  // "Permission denied"
  }
  const Fd guard{fd};
  // What was opened, not what the path named a moment before: no race with a rename.
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error(path, fmt::format("stat failed: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) return io_error(path, "it is a directory, not a file");
  if (limits.regular_only && !S_ISREG(st.st_mode)) {
    return io_error(path, fmt::format("it is {}, not a regular file", kind_of(st.st_mode)));
  }
  if (S_ISREG(st.st_mode) && std::uint64_t(st.st_size) > limits.max_bytes) {
    return io_error(path, fmt::format("it is {} bytes, more than the {} it may be", st.st_size,
                                      limits.max_bytes));
  }

  // Read up to read_bytes, or one byte past max_bytes to catch a file that grew or a pipe.
  const std::uint64_t past_max = limits.max_bytes == UINT64_MAX ? UINT64_MAX : limits.max_bytes + 1;
  const std::uint64_t stop = std::min(limits.read_bytes, past_max);
  std::string out;
  if (S_ISREG(st.st_mode)) out.reserve(std::size_t(std::min<std::uint64_t>(std::uint64_t(st.st_size), stop)));
  char buf[1 << 16];
  while (out.size() < stop) {
    const ssize_t n = ::read(fd, buf, std::size_t(std::min<std::uint64_t>(sizeof buf, stop - out.size())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, fmt::format("reading it failed: {}", std::strerror(errno)));
    if (n == 0) break;
    out.append(buf, std::size_t(n));
  }
  if (out.size() > limits.max_bytes) {
    return io_error(path, fmt::format("it holds more than the {} bytes it may", limits.max_bytes));
  }
  return std::optional(std::move(out));
}

}  // namespace jitfuse
