// The .npy format: a magic string, a version, a little-endian header length, a Python dict
// literal describing the array, then the raw data. See numpy/lib/_format_impl.py.
#include "io/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/text.h"
#include "io/npy_header.h"

namespace jitfuse::io {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic{"\x93NUMPY", 6};
// NumPy aligns the data to 64 bytes so that readers may mmap it for any dtype.
constexpr std::size_t kAlign = 64;
// NumPy leaves room for the first axis to grow to this many digits, so a file can be appended
// to without rewriting it. Matching it keeps our files byte-identical to np.save's.
constexpr std::size_t kGrowthDigits = 21;
// Real headers are a few hundred bytes. The cap stops a hostile length field from making us
// allocate whatever the file size allows before anything has been validated.
constexpr std::uint64_t kMaxHeaderBytes = 1u << 20;
constexpr std::uint64_t kMaxBytes = std::numeric_limits<std::int64_t>::max();

// `what` is a view so that building it cannot disturb errno in the caller's argument list.
Error io_error(std::string_view what, int err) {
  return make_error(
      ErrorCode::io,
      fmt::format("{}: {}", what, std::error_code(err, std::generic_category()).message()));
}

Error bad_file(std::string message) { return make_error(ErrorCode::bad_file, std::move(message)); }

// Python's repr of a shape tuple: "()", "(5,)", "(2, 3)".
std::string shape_repr(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += fmt::format("{}{}", i ? ", " : "", shape[i]);
  return out + ")";
}

// The data size in bytes. As NumPy does, zero dims are skipped in the overflow check, so a
// (0, 2**62) shape is as corrupt as a (1, 2**62) one.
Expected<std::uint64_t> data_bytes(const std::vector<std::int64_t>& shape, std::size_t itemsize) {
  std::uint64_t bytes = itemsize;
  bool empty = false;
  for (std::int64_t d : shape) {
    if (d < 0)
      return bad_file(
          fmt::format("shape {} has a negative dimension", user_text(shape_repr(shape), 120)));
    if (d == 0) {
      empty = true;
      continue;
    }
    const auto ud = static_cast<std::uint64_t>(d);
    if (bytes > kMaxBytes / ud)
      return bad_file(fmt::format("shape {} of {}-byte elements overflows a 64-bit byte count",
                                  user_text(shape_repr(shape), 120), itemsize));
    bytes *= ud;
  }
  return empty ? 0 : bytes;
}

// Owns a file descriptor, so that every early return closes it.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly n bytes at `offset`. Callers have checked n against the file size, so a short
// read means the file changed under us.
Status pread_exact(int fd, void* buf, std::size_t n, std::uint64_t offset) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
    const int err = errno;
    if (got < 0 && err == EINTR) continue;
    if (got < 0) return io_error("cannot read it", err);
    if (got == 0) return make_error(ErrorCode::io, "the file shrank while it was being read");
    p += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return {};
}

// Where the header dict lies, from the magic string, version and length field.
struct Preamble {
  std::uint64_t header_offset = 0;
  std::uint64_t header_len = 0;
};

Expected<Preamble> read_preamble(int fd, std::uint64_t file_size) {
  unsigned char buf[12] = {};
  const std::size_t n = file_size < sizeof buf ? static_cast<std::size_t>(file_size) : sizeof buf;
  JF_RETURN_IF_ERROR(pread_exact(fd, buf, n, 0));
  const std::string_view head(reinterpret_cast<const char*>(buf), n);
  if (head.starts_with("PK\x03\x04"))
    return bad_file(
        "not a .npy file but a zip archive (an .npz?); extract the arrays and np.save each one");
  if (head.substr(0, 6) != kMagic.substr(0, n < 6 ? n : 6))
    return bad_file(
        fmt::format("not a .npy file: it starts with '{}', not the magic string '\\x93NUMPY'",
                    user_text(head.substr(0, 8))));
  if (n < 10)
    return bad_file(
        fmt::format("the file is {} bytes long, too short for the 10-byte .npy preamble", n));
  const int major = buf[6], minor = buf[7];
  if (minor != 0 || major < 1 || major > 3)
    return bad_file(fmt::format("unsupported .npy format version {}.{}; expected 1.0, 2.0 or 3.0",
                                major, minor));
  // 2.0 widened the length field for huge structured dtypes.
  const std::size_t len_size = major == 1 ? 2 : 4;
  if (n < 8 + len_size) return bad_file("the file ends inside the header length field");
  Preamble p{8 + len_size, 0};
  for (std::size_t i = 0; i < len_size; ++i) p.header_len |= std::uint64_t{buf[8 + i]} << (8 * i);
  if (p.header_len > file_size - p.header_offset)
    return bad_file(
        fmt::format("the header is truncated: its length field says {} bytes, but only {} follow",
                    p.header_len, file_size - p.header_offset));
  if (p.header_len > kMaxHeaderBytes)
    return bad_file(
        fmt::format("the header is {} bytes long; more than {} is not a plausible array header",
                    p.header_len, kMaxHeaderBytes));
  return p;
}

Error size_mismatch(const NpyArray& a, std::uint64_t expected, std::uint64_t found) {
  const std::string need = fmt::format("shape {} of '{}' needs {} data bytes, found {}",
                                       shape_repr(a.shape), a.descr, expected, found);
  Error e = bad_file(found < expected
                         ? fmt::format("the data is truncated: {}", need)
                         : fmt::format("the file has {} unexpected byte(s) after the data: {}",
                                       found - expected, need));
  e.info["expected_bytes"] = std::to_string(expected);
  e.info["found_bytes"] = std::to_string(found);
  return e;
}

Expected<NpyArray> read_impl(const fs::path& path) {
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return io_error("cannot open it for reading", errno);
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return io_error("cannot stat it", errno);
  if (!S_ISREG(st.st_mode))
    return make_error(ErrorCode::io, S_ISDIR(st.st_mode) ? "it is a directory, not a .npy file"
                                                         : "it is not a regular file");
  const auto file_size = static_cast<std::uint64_t>(st.st_size);
  JF_ASSIGN_OR_RETURN(const Preamble pre, read_preamble(fd.fd, file_size));
  std::string text(pre.header_len, '\0');
  JF_RETURN_IF_ERROR(pread_exact(fd.fd, text.data(), text.size(), pre.header_offset));
  JF_ASSIGN_OR_RETURN(NpyHeader header, parse_npy_header(text));
  if (header.fortran_order)
    return bad_file(
        "the array is stored in Fortran order (fortran_order: True); only C order is supported: "
        "save it with np.save(path, np.ascontiguousarray(a))");
  NpyArray array;
  JF_ASSIGN_OR_RETURN(array.descr, normalize_descr(header.descr));
  array.shape = std::move(header.shape);
  // Checked against the file size before allocating, so a lying shape costs nothing.
  JF_ASSIGN_OR_RETURN(const std::uint64_t expected, data_bytes(array.shape, array.itemsize()));
  const std::uint64_t found = file_size - pre.header_offset - pre.header_len;
  if (found != expected) return size_mismatch(array, expected, found);
  array.data.resize(static_cast<std::size_t>(expected));
  JF_RETURN_IF_ERROR(pread_exact(fd.fd, array.data.data(), array.data.size(), file_size - found));
  return array;
}

// The array must already be in the form read_npy returns; anything else is our own bug.
Status check_writable(const NpyArray& a) {
  const auto descr = normalize_descr(a.descr);
  if (!descr.ok() || *descr != a.descr)
    return make_error(
        ErrorCode::internal,
        fmt::format("write_npy: descr '{}' is not a normalized dtype{}", user_text(a.descr),
                    descr.ok() ? fmt::format(" (expected '{}')", *descr) : ""));
  const auto bytes = data_bytes(a.shape, a.itemsize());
  if (!bytes.ok()) return make_error(ErrorCode::internal, "write_npy: " + bytes.error().message);
  if (*bytes != a.data.size())
    return make_error(
        ErrorCode::internal,
        fmt::format("write_npy: shape {} of '{}' needs {} data bytes, but the array holds {}",
                    shape_repr(a.shape), a.descr, *bytes, a.data.size()));
  return {};
}

// The preamble and header exactly as np.save writes them: the dict repr with sorted keys,
// growth room, then spaces and '\n' up to a 64-byte boundary.
std::string make_header(const NpyArray& a) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 a.descr, shape_repr(a.shape));
  if (!a.shape.empty()) dict.append(kGrowthDigits - std::to_string(a.shape[0]).size(), ' ');
  // Like NumPy, this pads a full block when the header already ends on a boundary.
  const auto padded_len = [&](std::size_t len_size) {
    const std::size_t used = kMagic.size() + 2 + len_size + dict.size() + 1;
    return dict.size() + 1 + (kAlign - used % kAlign);
  };
  // 2.0 only when 1.0's 16-bit length field cannot hold the header, so old readers keep working.
  const int major = padded_len(2) <= 0xFFFF ? 1 : 2;
  const std::size_t len_size = major == 1 ? 2 : 4;
  const std::size_t len = padded_len(len_size);
  std::string out(kMagic);
  out += static_cast<char>(major);
  out += '\0';
  for (std::size_t i = 0; i < len_size; ++i) out += static_cast<char>((len >> (8 * i)) & 0xFF);
  out += dict;
  out.append(len - dict.size() - 1, ' ');
  return out + '\n';
}

// A temporary file next to the target; removed on destruction unless renamed into place.
struct TempFile {
  fs::path path;
  int fd = -1;
  bool created = false;
  bool renamed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (created && !renamed) ::unlink(path.c_str());
  }
};

Status create_temp(const fs::path& target, TempFile& tmp) {
  static std::atomic<unsigned> counter{0};
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  // A hidden name that does not end in .npy, so that globs never pick up a half-written file.
  // The name is cut short so that the suffix cannot push it past NAME_MAX.
  const std::string stem = target.filename().string().substr(0, 128);
  for (int attempt = 0; attempt < 100; ++attempt) {
    tmp.path = dir / fmt::format(".{}.{}.{}.tmp", stem, ::getpid(), counter++);
    // 0666 lets the umask decide the final mode, as for any other new file.
    tmp.fd = ::open(tmp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (tmp.fd >= 0) {
      tmp.created = true;
      return {};
    }
    const int err = errno;
    if (err != EEXIST)
      return io_error(fmt::format("cannot create a temporary file in '{}'", dir.string()), err);
  }
  return make_error(ErrorCode::io,
                    fmt::format("cannot find an unused temporary file name in '{}'", dir.string()));
}

Status write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n);
    const int err = errno;
    if (put < 0 && err == EINTR) continue;
    if (put < 0) return io_error("cannot write the temporary file", err);
    if (put == 0)
      return make_error(ErrorCode::io,
                        "cannot write the temporary file: the write made no progress");
    p += put;
    n -= static_cast<std::size_t>(put);
  }
  return {};
}

// Makes the rename itself durable. Failure is ignored: the file is already in place, and
// reporting an error for it would make the caller think the write did not happen.
void sync_directory(const fs::path& target) {
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  Fd fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (fd.fd >= 0) ::fsync(fd.fd);
}

Status write_impl(const fs::path& path, const NpyArray& array) {
  JF_RETURN_IF_ERROR(check_writable(array));
  if (!path.has_filename())
    return make_error(ErrorCode::io, "the path names a directory, not a file");
  const std::string header = make_header(array);
  TempFile tmp;
  JF_RETURN_IF_ERROR(create_temp(path, tmp));
  JF_RETURN_IF_ERROR(write_all(tmp.fd, header.data(), header.size()));
  JF_RETURN_IF_ERROR(write_all(tmp.fd, array.data.data(), array.data.size()));
  if (::fsync(tmp.fd) != 0) return io_error("cannot fsync the temporary file", errno);
  if (::close(std::exchange(tmp.fd, -1)) != 0)
    return io_error("cannot close the temporary file", errno);
  if (::rename(tmp.path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    return io_error(fmt::format("cannot rename the temporary file '{}' into place",
                                tmp.path.filename().string()),
                    err);
  }
  tmp.renamed = true;
  sync_directory(path);
  return {};
}

// Runs `body`, turning escaped exceptions into Errors and naming `path` in any Error.
template <class F>
auto at_boundary(const fs::path& path, F body) -> decltype(body()) {
  using R = decltype(body());
  R result = [&]() -> R {
    try {
      return body();
    } catch (const std::bad_alloc&) {
      return make_error(ErrorCode::io, "not enough memory for the array");
    } catch (const std::exception& e) {
      return make_error(ErrorCode::internal, fmt::format("unexpected exception: {}", e.what()));
    }
  }();
  if (!result.ok() && result.error().file.empty()) result.error().file = path.string();
  return result;
}

}  // namespace

std::size_t NpyArray::itemsize() const {
  const auto normalized = normalize_descr(descr);
  return normalized.ok() ? static_cast<std::size_t>(normalized->back() - '0') : 0;
}

std::int64_t NpyArray::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

Expected<NpyArray> read_npy(const fs::path& path) {
  return at_boundary(path, [&] { return read_impl(path); });
}

Status write_npy(const fs::path& path, const NpyArray& array) {
  return at_boundary(path, [&] { return write_impl(path, array); });
}

}  // namespace jitfuse::io
