#include "engine/trace.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "common/text.h"

namespace jitfuse {

Expected<std::vector<std::string>> parse_dump_steps(std::string_view list) {
  if (list == "all") return std::vector<std::string>(kTraceSteps.begin(), kTraceSteps.end());
  std::vector<std::string> steps, known(kTraceSteps.begin(), kTraceSteps.end());
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string step(list.substr(start, end - start));
    if (std::find(known.begin(), known.end(), step) == known.end()) {
      return make_error(ErrorCode::bad_option,
                        fmt::format("\"{}\" is not a pipeline step{}; the steps are {}, "
                                    "or all", step, did_you_mean(step, known), join(known, ", ")));
    }
    steps.push_back(step);
    start = end + 1;
  }
  return steps;
}

Trace::Trace() : last_(std::chrono::steady_clock::now()) {
  const char* d = std::getenv("JITFUSE_DUMP_AFTER");
  if (!d || !*d) return;
  auto steps = parse_dump_steps(d);
  if (steps) {
    dump_ = std::move(*steps);
    return;
  }
  static std::atomic<bool> reported{false};
  if (!reported.exchange(true)) log::warn("JITFUSE_DUMP_AFTER: " + steps.error().message);
}

bool Trace::wants(std::string_view step) const {
  return std::find(dump_.begin(), dump_.end(), step) != dump_.end();
}

void Trace::after(std::string_view step, const std::function<std::string()>& describe) {
  assert(std::find(kTraceSteps.begin(), kTraceSteps.end(), step) != kTraceSteps.end());
  const auto now = std::chrono::steady_clock::now();
  const double ms = std::chrono::duration<double, std::milli>(now - last_).count();
  last_ = now;
  if (log::verbose()) log::debug(fmt::format("{:<10} {:8.3f} ms", step, ms));
  if (wants(step)) {
    std::fprintf(stderr, "=== after %.*s (%.3f ms) ===\n%s\n", int(step.size()), step.data(), ms,
                 describe().c_str());
  }
}

}  // namespace jitfuse
