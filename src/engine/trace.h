// The pipeline's logger: times each step, logs it at debug level, and prints the step's
// output when JITFUSE_DUMP_AFTER (or the CLI's --dump-after) names it ("plan", "emit,nvrtc",
// "all").
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace jitfuse {

class Trace {
 public:
  Trace();
  // Marks the end of `step`: logs its time since the previous mark and, if asked for, prints
  // `describe()` to stderr.
  void after(std::string_view step, const std::function<std::string()>& describe);
  // Whether `step`'s output was asked for.
  bool wants(std::string_view step) const;

 private:
  std::string dump_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace jitfuse
