// Hostile values: extreme numbers, odd strings and names, and JSON text that nlohmann cannot
// hold (NaN, 1e999, integers past 2^64, bytes that are not UTF-8) spliced in after dumping.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rng.h"

namespace jitfuse::fuzz {

using json = nlohmann::json;

// A number as JSON text, often one at a boundary: NaN, inf, -0, 1e308, 2^31 + 1, 2^63, 2^64,
// 400 digits, f32's largest and past it, denormals; sometimes not valid JSON at all ("0x10").
std::string weird_number_token(Rng& rng);
// A string's raw bytes: empty, very long (up to 1 MB), control characters and ANSI escapes,
// a NUL, non-ASCII letters, right-to-left marks, bytes that are not UTF-8.
std::string weird_string(Rng& rng);
// A name that is almost an identifier: 65 characters, a leading digit, a dot, a space, Cyrillic
// look-alikes, a reserved C++ word; or a weird_string.
std::string weird_name(Rng& rng);

// Builds a JSON document holding text nlohmann cannot represent: each raw() value is a marker
// string that render() replaces with the raw text.
class RawJson {
 public:
  // A placeholder for `text`, to put anywhere a value or a key goes.
  std::string raw(std::string text);
  // A placeholder for a JSON string holding `bytes` as they are (invalid UTF-8 included).
  std::string raw_string(const std::string& bytes);
  // A JSON string holding `bytes`: itself where nlohmann can dump it, else a raw placeholder.
  json text(const std::string& bytes);
  // A JSON value of any type, often hostile: a weird number or string, null, a bool, an array
  // or object (sometimes nested past the parser's depth limit).
  json any_value(Rng& rng);
  // `text` with each placeholder shown as its raw text, cut at 40 bytes: for reports.
  std::string resolve(const std::string& text) const;
  // `doc` as text (compact or indented), with every placeholder replaced.
  std::string render(const json& doc, Rng& rng) const;

 private:
  // `text` with each placeholder between `open` and `close` replaced, cut at `cap` (0: no cap).
  std::string replace(const std::string& text, std::string_view open, std::string_view close,
                      std::size_t cap) const;
  std::vector<std::string> tokens_;
};

}  // namespace jitfuse::fuzz
