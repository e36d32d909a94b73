// Reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0), the exchange
// format for launch inputs and reference outputs. This layer only moves bytes; which dtypes
// a caller accepts is the caller's policy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "jitfuse/error.hpp"

namespace jitfuse::io {

// A dense, C-ordered array as stored in a .npy file.
struct NpyArray {
  std::string descr;  // NumPy dtype string, normalized: "<f4", "<f2", "<i8", "|u1", "|b1", ...
  std::vector<std::int64_t> shape;  // () for a scalar
  std::vector<std::byte> data;      // numel() * itemsize() bytes, little-endian, C order

  // Bytes per element, from descr; 0 if descr is not one of the forms read_npy accepts.
  std::size_t itemsize() const;
  // The product of shape (1 for a scalar); assumes a valid shape, as read_npy guarantees.
  std::int64_t numel() const;
};

// Reads a whole .npy file. Fails with io if the file cannot be read and bad_file if it is not
// a C-ordered, little-endian f2/f4/f8, i1-i8, u1-u8 or b1 array whose size matches its header.
Expected<NpyArray> read_npy(const std::filesystem::path& path);

// Writes `array` as NumPy would (version 1.0 header, 2.0 if it does not fit, data 64-aligned).
// Atomic: a temporary file in the same directory is fsync'd and renamed over `path`; on failure
// nothing is left at `path` (an existing file there is untouched) and the temporary is removed.
// An array whose descr, shape and data disagree is a caller bug and fails with internal.
Status write_npy(const std::filesystem::path& path, const NpyArray& array);

}  // namespace jitfuse::io
