// The files of templates/ and kernels/, embedded at build time by cmake/embed.cmake.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace jitfuse::embedded {

// One embedded file: its include name ("jitfuse/kernels/gelu.cuh") and contents.
struct File {
  std::string_view name;
  std::string_view text;
};

// Every embedded file, sorted by name.
const std::vector<File>& files();

}  // namespace jitfuse::embedded
