#include "jitfuse/error.hpp"

#include <fmt/format.h>

namespace jitfuse {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::json_syntax: return "json_syntax";
    case ErrorCode::json_duplicate_key: return "json_duplicate_key";
    case ErrorCode::schema: return "schema";
    case ErrorCode::unknown_op: return "unknown_op";
    case ErrorCode::unknown_attribute: return "unknown_attribute";
    case ErrorCode::bad_attribute: return "bad_attribute";
    case ErrorCode::bad_name: return "bad_name";
    case ErrorCode::duplicate_name: return "duplicate_name";
    case ErrorCode::unknown_name: return "unknown_name";
    case ErrorCode::arity: return "arity";
    case ErrorCode::cycle: return "cycle";
    case ErrorCode::unused: return "unused";
    case ErrorCode::shape_mismatch: return "shape_mismatch";
    case ErrorCode::dtype_mismatch: return "dtype_mismatch";
    case ErrorCode::unbound_dim: return "unbound_dim";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::bad_option: return "bad_option";
    case ErrorCode::bad_launch: return "bad_launch";
    case ErrorCode::io: return "io";
    case ErrorCode::bad_file: return "bad_file";
    case ErrorCode::no_driver: return "no_driver";
    case ErrorCode::no_device: return "no_device";
    case ErrorCode::cuda: return "cuda";
    case ErrorCode::nvrtc: return "nvrtc";
    case ErrorCode::compile: return "compile";
    case ErrorCode::cache: return "cache";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

bool is_user_error(ErrorCode code) { return code <= ErrorCode::bad_file; }

Error make_error(ErrorCode code, std::string message, std::string pointer) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  e.pointer = std::move(pointer);
  return e;
}

std::string Error::to_string(bool detailed) const {
  std::string out;
  if (!file.empty()) out += file + ": ";
  if (!pointer.empty()) out += pointer + ": ";
  out += message;
  if (code == ErrorCode::internal) out += " (internal error: please report it)";
  if (detailed) {
    for (const auto& [k, v] : info) out += fmt::format("\n--- {} ---\n{}", k, v);
  }
  return out;
}

}  // namespace jitfuse
