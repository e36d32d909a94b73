// The pipeline's logger: times each step, logs it at debug level, and prints the step's
// output when JITFUSE_DUMP_AFTER (or the CLI's --dump-after) names it ("plan", "emit,nvrtc",
// "all").
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "jitfuse/error.hpp"

namespace jitfuse {

// Every step the pipeline traces, in pipeline order: the names --dump-after and
// JITFUSE_DUMP_AFTER take (besides "all"), its help and its validation all come from here.
inline constexpr std::array<std::string_view, 11> kTraceSteps = {
    "validate", "specialize", "arch", "plan", "tune", "emit", "key", "cache", "nvrtc", "store", "load"};

// The steps a dump list names ("plan,emit"; "all" is every step); a bad_option error naming
// the first unknown or empty item and listing the valid names (the caller says which flag).
Expected<std::vector<std::string>> parse_dump_steps(std::string_view list);

class Trace {
 public:
  // Reads JITFUSE_DUMP_AFTER; a list naming an unknown step is reported once per process and
  // dumps nothing.
  Trace();
  // Marks the end of `step` (one of kTraceSteps): logs its time since the previous mark and,
  // if asked for, prints `describe()` to stderr.
  void after(std::string_view step, const std::function<std::string()>& describe);
  // Whether `step`'s output was asked for.
  bool wants(std::string_view step) const;

 private:
  std::vector<std::string> dump_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace jitfuse
