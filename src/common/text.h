// Small string helpers shared by the stages: suggestions, JSON pointers, literals, and user
// text made safe to print.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace jitfuse {

// " (did you mean 'x'?)" when one candidate is close to `word`, else "".
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);
// The same, for a list of owned strings.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);
// `text` (a name, key or value from a graph, the command line or an API caller) as a message may
// show it: control characters (C0, DEL, C1) and bytes that are not UTF-8 become \xNN, a backslash
// becomes \\, and past `cap` bytes it is cut with the full length noted ("aaaa...(10485760
// bytes)"), so that no input can fill a terminal or drive it. Adds no quotes.
std::string user_text(std::string_view text, std::size_t cap = 64);
// A composed message (an Error's text, NVRTC's log) made safe for a terminal, the last guard
// before printing: as user_text, but backslashes stay as they are and newlines and tabs too, and
// each line is cut at `line_cap` bytes.
std::string terminal_text(std::string_view text, std::size_t line_cap = 4096);
// Escapes one JSON pointer token ("a/b" -> "a~1b").
std::string pointer_token(std::string_view token);
// Joins items with a separator.
std::string join(const std::vector<std::string>& items, std::string_view sep);
// True for [A-Za-z_][A-Za-z0-9_]*, at most 64 characters.
bool is_identifier(std::string_view name);
// A C++ float literal that reads back as exactly (float)value, e.g. "0.5f", "-2.0f", "1e-05f".
std::string f32_literal(double value);
// A number as short as it round-trips in double, for messages ("0.5", "-2", "1e+39").
std::string number_text(double value);

}  // namespace jitfuse
