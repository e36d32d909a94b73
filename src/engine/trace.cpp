#include "engine/trace.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include "common/log.h"

namespace jitfuse {

Trace::Trace() : last_(std::chrono::steady_clock::now()) {
  if (const char* d = std::getenv("JITFUSE_DUMP_AFTER")) dump_ = d;
}

bool Trace::wants(std::string_view step) const {
  if (dump_.empty()) return false;
  if (dump_ == "all") return true;
  std::size_t start = 0;
  while (start <= dump_.size()) {
    const std::size_t end = std::min(dump_.find(',', start), dump_.size());
    if (std::string_view(dump_).substr(start, end - start) == step) return true;
    start = end + 1;
  }
  return false;
}

void Trace::after(std::string_view step, const std::function<std::string()>& describe) {
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
