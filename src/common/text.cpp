#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace jitfuse {
namespace {

// Edits between a and b, a swap of neighbours counting as one (optimal string alignment):
// "gleu" is one edit from "gelu".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The length of the UTF-8 sequence at the start of `s`, or 0 if it is not a valid one (overlong,
// a surrogate, past U+10FFFF, cut short) or encodes a C1 control character (U+0080-U+009F).
std::size_t utf8_length(std::string_view s) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  char32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f;
  else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f;
  else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07;
  else return 0;
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3f);
  }
  const char32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) return 0;
  return n;
}

// Appends `text` with what a terminal would act on escaped as \xNN; `keep` lists the control
// characters left alone, `backslash` whether a backslash is doubled. Stops after `cap` bytes of
// `text`, or once it has appended `out_cap` bytes (an escape makes one byte four); returns how
// many bytes of `text` it took.
std::size_t append_escaped(std::string& out, std::string_view text, std::size_t cap,
                           std::string_view keep, bool backslash, std::size_t out_cap = SIZE_MAX) {
  const std::size_t start = out.size();
  std::size_t i = 0;
  while (i < text.size() && i < cap && out.size() - start < out_cap) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t n = utf8_length(text.substr(i));
      if (n > 0 && i + n <= cap) {
        out.append(text.substr(i, n));
        i += n;
        continue;
      }
      if (n > 0) break;  // a whole character does not fit under the cap
    }
    if (c == '\\' && backslash) out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += char(c);
    else if (keep.find(char(c)) != std::string_view::npos) out += char(c);
    else out += fmt::format("\\x{:02x}", c);
    ++i;
  }
  return i;
}

}  // namespace

std::string user_text(std::string_view text, std::size_t cap) {
  std::string out;
  if (append_escaped(out, text, cap, "", true) < text.size()) {
    out += fmt::format("...({} bytes)", text.size());
  }
  return out;
}

std::string terminal_text(std::string_view text, std::size_t line_cap) {
  std::string out;
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t nl = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, nl - at);
    // The cap bounds the printed line, escapes included: 4096 ESC bytes print as 16 KB.
    if (append_escaped(out, line, line_cap, "\t", false, line_cap) < line.size()) {
      out += fmt::format("...(a line of {} bytes)", line.size());
    }
    if (nl == text.size()) break;
    out += '\n';
    at = nl + 1;
  }
  return out;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_d = word.size() / 3 + 1;  // a third of the word may be wrong, at least 1
  auto length_gap = [&](std::string_view c) { return c.size() > word.size() ? c.size() - word.size() : word.size() - c.size(); };
  for (std::string_view c : candidates) {
    // The edits are at least the difference in length: skip the quadratic distance when that
    // alone rules c out (a 10 MB word costs nothing).
    if (length_gap(c) > best_d) continue;
    const std::size_t d = edit_distance(word, c);
    if (d == 0 || d > best_d) continue;
    // Closer wins; on a tie, the candidate of the word's length (a typo more than a missing letter).
    if (best.empty() || d < best_d || (d == best_d && length_gap(c) < length_gap(best))) {
      best = c;
      best_d = d;
    }
  }
  return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string_view> views(candidates.begin(), candidates.end());
  return did_you_mean(word, std::span<const std::string_view>(views));
}

std::string pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

bool is_identifier(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

std::string f32_literal(double value) {
  // fmt prints the shortest text that reads back as the same float.
  std::string s = fmt::format("{}", static_cast<float>(value));
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s + "f";
}

std::string number_text(double value) { return fmt::format("{}", value); }

}  // namespace jitfuse
