// The text part of a .npy header: the Python dict literal that describes the array, and the
// NumPy dtype strings it names. Internal to src/io; npy.cpp does the file I/O around it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jitfuse/error.hpp"

namespace jitfuse::io {

// The header dict's values as written, before any validation of them.
struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

// Parses a header dict of exactly 'descr' (a string), 'fortran_order' (a bool) and 'shape' (a
// tuple of non-negative ints that fit int64), in any order and spacing; else bad_file.
Expected<NpyHeader> parse_npy_header(std::string_view text);

// The spelling np.save writes ("<f4", "|u1") for any spelling NumPy accepts of a bool, integer
// or float dtype; bad_file for other dtypes and for big-endian data.
Expected<std::string> normalize_descr(std::string_view descr);

}  // namespace jitfuse::io
