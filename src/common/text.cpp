#include "common/text.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

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

}  // namespace

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  std::size_t best_d = word.size() / 3 + 1;  // a third of the word may be wrong, at least 1
  auto length_gap = [&](std::string_view c) { return c.size() > word.size() ? c.size() - word.size() : word.size() - c.size(); };
  for (std::string_view c : candidates) {
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
