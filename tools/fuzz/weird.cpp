// Hostile values for mutations and command lines.
#include "weird.h"

#include <fmt/format.h>

namespace jitfuse::fuzz {
namespace {

// Boundaries that code converting JSON numbers to floats, int64, int32 or f32 literals gets
// wrong: signed and unsigned overflow, f32's range, denormals, and the spellings JSON forbids.
const std::vector<std::string> kNumbers = {
    "0", "-0", "-0.0", "1", "-1", "0.5", "1e-7", "65504", "1e5", "1.0e+2",
    "2147479552", "2147479553", "2147483647", "2147483648", "2147483649", "-2147483649",
    "4294967296", "281474976710656", "281474976710657", "9007199254740993",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616", "340282366920938463463374607431768211456",
    "3.4028234663852886e38", "3.4028235677973366e38", "3.5e38", "-3.5e38", "1e38", "1e39",
    "1e308", "-1e308", "1.7976931348623157e308", "1e309", "1e999", "-1e999", "1e-45", "1.4e-45",
    "7e-46", "1e-320", "5e-324", "1e-400", "2.5e-324",
    "NaN", "nan", "-NaN", "Infinity", "-Infinity", "inf", "0x10", "01", "1.", ".5", "+1", "1e",
    "-", "1e+", "1_000", "١",
};

// Strings that break assumptions: length, terminal control, encodings, JSON pointer syntax.
std::string odd_text(Rng& rng) {
  switch (rng.below(14)) {
    case 0: return "";
    case 1: return std::string(rng.pick(std::vector<std::size_t>{65, 257, 4097, 70000, 1 << 20}), 'a');
    case 2: return "\x1b[31mred\x1b[0m\x1b]0;title\x07";
    case 3: return std::string("nul\0inside", 10);
    case 4: return "tab\tnew\nline\rcr\x7f\x08";
    case 5: return "\xce\xbb\xe5\x90\x8d\xf0\x9f\x98\x80";  // lambda, a CJK letter, an emoji
    case 6: return "\xe2\x80\xae" "evil\xe2\x80\xad";       // right-to-left override
    case 7: return "\xff\xfe\xc0\xaf";                        // not UTF-8 (overlong, stray bytes)
    case 8: return "\xed\xa0\x80";                             // a UTF-16 surrogate as UTF-8
    case 9: return "a/b~0~1%s%n{}{{}}";                        // pointer tokens, format strings
    case 10: return "\xc2\x9b" "31m\xc2\x85";                  // C1 controls (CSI, NEL)
    case 11: return std::string(rng.between(1, 3000), '\x1b');
    case 12: {
      std::string s;  // random bytes of every value
      for (std::int64_t i = rng.between(1, 200); i > 0; --i) s += char(rng.next());
      return s;
    }
    default: return std::string(rng.between(1, 40), char(rng.between(0x20, 0x7e)));
  }
}

// Checks that nlohmann will dump `s` (it throws on bytes that are not UTF-8).
bool dumpable(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

}  // namespace

std::string weird_number_token(Rng& rng) {
  if (rng.chance(0.1)) return fmt::format("1{}", std::string(rng.pick(std::vector<std::size_t>{30, 400, 5000}), '0'));
  if (rng.chance(0.1)) return fmt::format("{}", double(rng.next()) * (rng.chance(0.5) ? -1e-300 : 1e-10));
  return rng.pick(kNumbers);
}

std::string weird_string(Rng& rng) { return odd_text(rng); }

std::string weird_name(Rng& rng) {
  switch (rng.below(8)) {
    case 0: return std::string(65, 'n');
    case 1: return std::string(64, 'n');
    case 2: return "9lives";
    case 3: return rng.pick(std::vector<std::string>{"a.b", "a b", "a-b", "_", "__x", "M"});
    case 4: return "\xd1\x80\xd0\xb5lu";  // Cyrillic "re" + "lu": looks like relu
    case 5: return rng.pick(std::vector<std::string>{"int", "float", "return", "threadIdx", "__global__",
                                                     "jf_epilogue", "p", "acc", "blockIdx", "M"});
    default: return odd_text(rng);
  }
}

std::string RawJson::raw(std::string text) {
  tokens_.push_back(std::move(text));
  return fmt::format("@@raw:{}@@", tokens_.size() - 1);
}

std::string RawJson::raw_string(const std::string& bytes) {
  std::string quoted = "\"";
  for (char c : bytes) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return raw(quoted + "\"");
}

json RawJson::text(const std::string& bytes) { return dumpable(bytes) ? json(bytes) : json(raw_string(bytes)); }

json RawJson::any_value(Rng& rng) {
  switch (rng.below(10)) {
    case 0: return nullptr;
    case 1: return rng.chance(0.5);
    case 2: case 3: return raw(weird_number_token(rng));
    case 4: case 5: return text(weird_string(rng));
    case 6: return json::array({raw(weird_number_token(rng)), "M"});
    case 7: return json::object({{text(weird_name(rng)).get<std::string>(), 1}});
    case 8: {
      // Nested around the parser's limit of 64 levels, to find an off-by-one.
      json v = 1;
      for (std::int64_t i = rng.between(55, 70); i > 0; --i) v = json::array({v});
      return v;
    }
    default: return json::array();
  }
}

std::string RawJson::render(const json& doc, Rng& rng) const {
  return replace(rng.chance(0.5) ? doc.dump() : doc.dump(int(rng.between(0, 4))), "\"@@raw:", "@@\"", 0);
}

std::string RawJson::resolve(const std::string& text) const { return replace(text, "@@raw:", "@@", 40); }

std::string RawJson::replace(const std::string& text, std::string_view open, std::string_view close,
                             std::size_t cap) const {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  for (std::size_t hit; (hit = text.find(open, at)) != std::string::npos;) {
    const std::size_t digits = hit + open.size();
    const std::size_t end = text.find(close, digits);
    if (end == std::string::npos) break;  // a report cut inside a placeholder
    const std::string& token = tokens_.at(std::stoul(text.substr(digits, end - digits)));
    out.append(text, at, hit - at);
    out += cap && token.size() > cap ? token.substr(0, cap) + "..." : token;
    at = end + close.size();
  }
  out.append(text, at);
  return out;
}

}  // namespace jitfuse::fuzz
