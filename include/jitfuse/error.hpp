// Errors are values: every stage returns Expected<T>, and an Error says what went wrong,
// where (a JSON pointer or a file path), and what was expected.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace jitfuse {

// What kind of failure an Error reports. User errors are the caller's to fix; the rest are
// the system's (driver, compiler, disk) or ours (internal).
enum class ErrorCode {
  // --- user errors: bad input ---
  json_syntax,         // the text is not JSON
  json_duplicate_key,  // an object names the same key twice
  schema,              // a key is missing or holds the wrong JSON type
  unknown_op,          // "op" names no op in the op table
  unknown_attribute,   // a node or input has a key its op does not take
  bad_attribute,       // an attribute value is out of range, non-finite or not an allowed choice
  bad_name,            // a name is empty or not an identifier
  duplicate_name,      // two inputs/nodes share a name
  unknown_name,        // a reference names nothing (a dangling input or output)
  arity,               // an op got the wrong number of inputs
  cycle,               // the nodes form a cycle
  unused,              // an input or node never reaches an output
  shape_mismatch,      // shapes do not agree
  dtype_mismatch,      // dtypes do not agree
  unbound_dim,         // a symbolic dimension has no value where one is needed
  unsupported,         // valid, but not something jitfuse can plan yet
  bad_option,          // an option (arch, math mode, dims) is invalid
  bad_launch,          // launch buffers do not match the graph (missing, shape, dtype, alignment)
  io,                  // a file could not be read or written
  bad_file,            // a file's contents are not in the expected format (e.g. .npy)
  // --- system errors ---
  no_driver,           // libcuda.so.1 could not be loaded
  no_device,           // the driver is there but no usable GPU is
  cuda,                // a CUDA Driver API call failed
  nvrtc,               // NVRTC itself failed (not a compile error)
  compile,             // NVRTC rejected the generated source
  cache,               // the kernel cache could not be used
  // --- ours ---
  internal,            // a bug in jitfuse
};

// The stable snake_case name of a code, e.g. "unknown_op".
std::string_view to_string(ErrorCode code);
// True for the codes that mean "the caller's input is wrong".
bool is_user_error(ErrorCode code);

// One failure: a code, a message written for a human, and where it happened.
struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  std::string pointer;                       // JSON pointer ("/nodes/2/min"); may be empty
  std::string file;                          // the file involved, if any
  std::map<std::string, std::string> info;   // extra context: NVRTC log, options, dumped source

  // "file: /nodes/2/min: message", with the info map appended when `detailed`.
  std::string to_string(bool detailed = false) const;
};

// Builds an Error; the most common shape of a failure.
Error make_error(ErrorCode code, std::string message, std::string pointer = {});

// A value or the Error that prevented it (C++20 has no std::expected).
template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Expected(Error error) : v_(std::move(error)) {}       // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error.
template <>
class Expected<void> {
 public:
  Expected() = default;
  Expected(Error error) : e_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !e_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *e_; }
  Error& error() { return *e_; }

 private:
  std::optional<Error> e_;
};

using Status = Expected<void>;

}  // namespace jitfuse

// Evaluates `expr` (an Expected); on error returns it from the enclosing function,
// otherwise moves the value into `lhs` (a declaration such as `auto x`).
#define JF_CONCAT_INNER(a, b) a##b
#define JF_CONCAT(a, b) JF_CONCAT_INNER(a, b)
#define JF_ASSIGN_OR_RETURN(lhs, expr) JF_ASSIGN_OR_RETURN_IMPL(JF_CONCAT(jf_r_, __LINE__), lhs, expr)
#define JF_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp.error());  \
  lhs = std::move(tmp).value()
// Evaluates `expr` (a Status or Expected); on error returns it.
#define JF_RETURN_IF_ERROR(expr)                                          \
  do {                                                                    \
    auto jf_s_ = (expr);                                                  \
    if (!jf_s_.ok()) return std::move(jf_s_.error());                     \
  } while (0)
