// The rules a run is judged by. Each is one README or docs/graph-format.md promise.
#include "oracle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace jitfuse::fuzz {
namespace {

// The length of the UTF-8 sequence at s[i], or 0 where the bytes are not UTF-8 (overlong forms
// and surrogates included).
std::size_t utf8_length(const std::string& s, std::size_t i) {
  const auto b = [&](std::size_t k) { return k < s.size() ? unsigned(static_cast<unsigned char>(s[k])) : 0u; };
  const unsigned c = b(i);
  if (c < 0x80) return 1;
  const auto cont = [&](std::size_t k) { return (b(k) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const unsigned c1 = b(i + 1);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 >= 0xa0)) return 0;
    return cont(i + 1) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const unsigned c1 = b(i + 1);
    if ((c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 >= 0x90)) return 0;
    return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// The first thing in `text` a terminal would act on or choke on: a control character other
// than newline and tab (C0, DEL, C1 such as the one-byte CSI), or bytes that are not UTF-8.
std::string terminal_hazard(const std::string& text, const char* stream) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return fmt::format("{} holds byte 0x{:02x} at offset {}, which is not UTF-8", stream, c, i);
    const bool c1 = n == 2 && c == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0;
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f || c1) {
      return fmt::format("{} holds the raw control character {} at offset {}", stream,
                         c1 ? fmt::format("U+{:04X}", static_cast<unsigned char>(text[i + 1])) : fmt::format("0x{:02x}", c), i);
    }
    i += n;
  }
  return "";
}

}  // namespace

std::string judge(const Case& c, const Outcome& o) {
  if (o.timed_out) return fmt::format("timed out after {:.1f} s", o.seconds);
  if (o.signal != 0) return fmt::format("killed by signal {} ({})", o.signal, ::strsignal(o.signal));
  if (o.exit_code != 0 && o.exit_code != 1 && o.exit_code != 2) return fmt::format("exit code {}", o.exit_code);
  // Every error is one "jitfuse: error: ..." line on stderr (README, "The command line").
  std::size_t error_lines = 0, longest = 0, line_start = 0;
  for (std::size_t i = 0; i <= o.err.size(); ++i) {
    if (i < o.err.size() && o.err[i] != '\n') continue;
    longest = std::max(longest, i - line_start);
    if (o.err.compare(line_start, 16, "jitfuse: error: ") == 0) ++error_lines;
    line_start = i + 1;
  }
  if (o.exit_code != 0 && error_lines != 1) {
    return fmt::format("exit {} with {} `jitfuse: error:` lines on stderr (want 1)", o.exit_code, error_lines);
  }
  if (o.exit_code == 0 && error_lines != 0) return "exit 0 with a `jitfuse: error:` line";
  if (longest > kMaxLine) return fmt::format("a stderr line of {} bytes (at most {})", longest, kMaxLine);
  if (auto hazard = terminal_hazard(o.err, "stderr"); !hazard.empty()) return hazard;
  if (auto hazard = terminal_hazard(o.out, "stdout"); !hazard.empty()) return hazard;
  if (c.expect_ok && o.exit_code != 0) return fmt::format("a valid graph with valid flags failed (exit {})", o.exit_code);
  if (o.exit_code == 0 && o.out.empty()) return "exit 0 without output";
  // --format json promises one JSON document on stdout, for scripts (README).
  const auto format = std::find(c.args.begin(), c.args.end(), "--format");
  if (o.exit_code == 0 && format != c.args.end() && std::next(format) != c.args.end() &&
      *std::next(format) == "json" && !json::accept(o.out)) {
    return "--format json printed something that is not one JSON document";
  }
  return "";
}

}  // namespace jitfuse::fuzz
