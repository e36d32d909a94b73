// GPU architecture names: "sm_90a" is sm 90 with arch-specific features (wgmma, setmaxnreg).
#pragma once

#include <string>
#include <string_view>

#include "jitfuse/error.hpp"

namespace jitfuse {

// A compile target.
struct Arch {
  int sm = 0;             // 80, 86, 90, ...
  bool specific = false;  // the "a" suffix: runs only on exactly this sm

  // "sm_90a".
  std::string name() const;
  // "sm90a", for cache file names.
  std::string short_name() const;
};

// Parses "sm_80", "sm_90a"; a bad_option error otherwise (membership in NVRTC's list is
// checked by the nvrtc stage).
Expected<Arch> parse_arch(std::string_view text);

}  // namespace jitfuse
