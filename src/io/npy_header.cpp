// Parsing of the .npy header dict and normalization of the dtype strings in it. See
// numpy/lib/_format_impl.py for what NumPy writes and accepts.
#include "io/npy_header.h"

#include <bit>
#include <cctype>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "common/text.h"

namespace jitfuse::io {
namespace {

// A dimension must fit the int64 of NpyArray::shape.
constexpr std::uint64_t kMaxDim = std::numeric_limits<std::int64_t>::max();

Error bad_file(std::string message) { return make_error(ErrorCode::bad_file, std::move(message)); }

bool supported_kind_size(char kind, int size) {
  switch (kind) {
    case 'f': return size == 2 || size == 4 || size == 8;
    case 'i':
    case 'u': return size == 1 || size == 2 || size == 4 || size == 8;
    case 'b': return size == 1;
    default: return false;
  }
}

// Parses the one Python literal a header holds: a dict of exactly 'descr' (a string),
// 'fortran_order' (a bool) and 'shape' (a tuple of ints), in any order and spacing.
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : s_(text) {}

  Expected<NpyHeader> parse() {
    NpyHeader h;
    unsigned seen = 0;
    skip_ws();
    if (!consume('{')) return syntax("'{' opening the header dict");
    skip_ws();
    while (!consume('}')) {
      JF_RETURN_IF_ERROR(parse_entry(h, seen));
      skip_ws();
      const bool comma = consume(',');
      skip_ws();
      if (!comma && peek() != '}') return syntax("',' or '}' after a value");
    }
    skip_ws();
    if (pos_ != s_.size()) return syntax("only spaces and a newline after the header dict");
    if (seen != 7) {
      const char* missing = !(seen & 1) ? "descr" : !(seen & 2) ? "fortran_order" : "shape";
      return bad_file(
          fmt::format("the header dict has no '{}' key; it must hold 'descr', 'fortran_order' "
                      "and 'shape'",
                      missing));
    }
    return h;
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool consume(char c) {
    if (pos_ >= s_.size() || s_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  static bool digit(char c) { return c >= '0' && c <= '9'; }
  void skip_ws() {
    while (pos_ < s_.size() &&
           std::string_view(" \t\r\n\f").find(s_[pos_]) != std::string_view::npos)
      ++pos_;
  }

  Error syntax(std::string_view expected) const {
    const std::string found =
        pos_ < s_.size() ? fmt::format("'{}'", user_text(s_.substr(pos_), 12)) : "the end";
    Error e = bad_file(fmt::format("cannot parse the header at byte {}: expected {}, found {}",
                                   pos_, expected, found));
    e.info["header"] = user_text(s_, 400);
    return e;
  }

  Status parse_entry(NpyHeader& h, unsigned& seen) {
    JF_ASSIGN_OR_RETURN(const std::string key, parse_string());
    skip_ws();
    if (!consume(':')) return syntax("':' after a key");
    skip_ws();
    const unsigned bit = key == "descr"           ? 1u
                         : key == "fortran_order" ? 2u
                         : key == "shape"         ? 4u
                                                  : 0u;
    if (bit == 0)
      return bad_file(
          fmt::format("the header has an unexpected key '{}'; it must hold exactly 'descr', "
                      "'fortran_order' and 'shape'",
                      user_text(key)));
    if (seen & bit) return bad_file(fmt::format("the header gives the key '{}' twice", key));
    seen |= bit;
    if (bit == 1) {
      if (peek() == '[' || peek() == '(')
        return bad_file(
            "the dtype is structured (a record or subarray dtype), which is not supported; "
            "save each field as its own .npy");
      JF_ASSIGN_OR_RETURN(h.descr, parse_string());
    } else if (bit == 2) {
      JF_ASSIGN_OR_RETURN(h.fortran_order, parse_bool());
    } else {
      JF_ASSIGN_OR_RETURN(h.shape, parse_shape());
    }
    return {};
  }

  // A quoted string without escapes; no dtype string or key needs one.
  Expected<std::string> parse_string() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') return syntax("a quoted string");
    const std::size_t end = s_.find(quote, pos_ + 1);
    const std::size_t bad = s_.find_first_of("\\\n", pos_ + 1);
    if (end == std::string_view::npos || bad < end)
      return syntax("a string without escapes or line breaks");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }

  Expected<bool> parse_bool() {
    const std::size_t start = pos_;
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_') ++pos_;
    const std::string_view word = s_.substr(start, pos_ - start);
    if (word == "True") return true;
    if (word == "False") return false;
    pos_ = start;
    return syntax("True or False for 'fortran_order'");
  }

  Expected<std::vector<std::int64_t>> parse_shape() {
    if (peek() == '[')
      return bad_file("the header's shape is a list; NumPy writes a tuple such as (2, 3)");
    if (!consume('(')) return syntax("'(' opening the shape tuple");
    std::vector<std::int64_t> dims;
    bool comma = false;
    skip_ws();
    while (!consume(')')) {
      JF_ASSIGN_OR_RETURN(const std::int64_t d, parse_dim());
      dims.push_back(d);
      skip_ws();
      comma = consume(',');
      skip_ws();
      if (!comma && peek() != ')') return syntax("',' or ')' in the shape tuple");
    }
    if (dims.size() == 1 && !comma)
      return bad_file(
          fmt::format("the header's shape ({}) is an int in Python, not a tuple; a 1-d shape "
                      "is written ({},)",
                      dims[0], dims[0]));
    return dims;
  }

  Expected<std::int64_t> parse_dim() {
    const bool negative = consume('-');
    if (!digit(peek())) return syntax("an integer in the shape tuple");
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    bool overflow = false;
    for (; digit(peek()); ++pos_) {
      const auto d = static_cast<std::uint64_t>(peek() - '0');
      overflow = overflow || v > (kMaxDim - d) / 10;
      if (!overflow) v = v * 10 + d;
    }
    const std::string_view text = s_.substr(start, pos_ - start);
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 wrote long ints as 5L
    if (negative && (v != 0 || overflow))
      return bad_file(
          fmt::format("the header's shape has a negative dimension -{}", user_text(text, 24)));
    if (overflow)
      return bad_file(
          fmt::format("the header's shape has a dimension {} that overflows a 64-bit integer",
                      user_text(text, 24)));
    return static_cast<std::int64_t>(v);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Expected<NpyHeader> parse_npy_header(std::string_view text) { return HeaderParser(text).parse(); }

Expected<std::string> normalize_descr(std::string_view descr) {
  std::string_view body = descr;
  char order = '=';  // NumPy reads a bare "f4" as native order
  if (!body.empty() && std::string_view("<>|=").find(body[0]) != std::string_view::npos) {
    order = body[0];
    body.remove_prefix(1);
  }
  if (!body.empty() && body[0] == 'O')
    return bad_file(
        "dtype '|O' holds pickled Python objects, which are not supported; save a numeric array");
  const int size = (body.size() == 2 && body[1] >= '1' && body[1] <= '9') ? body[1] - '0' : 0;
  if (size == 0 || !supported_kind_size(body[0], size))
    return bad_file(
        fmt::format("dtype '{}' is not supported; expected a bool, integer or float dtype "
                    "such as '<f4', '<f2', '<i8' or '|u1'",
                    user_text(descr)));
  if (size == 1) return fmt::format("|{}", body);  // byte order means nothing for one byte
  const bool big = order == '>' || (order != '<' && std::endian::native != std::endian::little);
  if (big)
    return bad_file(
        fmt::format("dtype '{}' is big-endian; only little-endian data is supported: "
                    "re-save it with a.astype('<{}')",
                    user_text(descr), body));
  return fmt::format("<{}", body);
}

}  // namespace jitfuse::io
