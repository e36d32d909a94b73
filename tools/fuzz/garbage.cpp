// Byte-level damage and documents built to exhaust a parser: what a truncated download, a
// binary file given by mistake or a hostile upload looks like.
#include <fmt/format.h>

#include "generators.h"

namespace jitfuse::fuzz {
namespace {

// Bytes a tokenizer treats specially.
const std::vector<std::string> kSpecial = {
    "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u", "\\ud800", "\\u0000", std::string(1, '\0'),
    "\xff", "\xef\xbb\xbf", "\n", "-", "e", "1e999", "nul", "tru", "/*", "//", "'", "\x1b["};

std::string random_bytes(Rng& rng, std::size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = char(rng.next());
  return s;
}

}  // namespace

std::string garbage(Rng& rng, const std::string& text, std::string& what) {
  std::string s = text;
  const std::size_t at = rng.below(s.size() + 1);
  switch (rng.below(11)) {
    case 0:
      what += fmt::format("truncate at byte {}", at);
      return s.substr(0, at);
    case 1: {
      const auto n = rng.between(1, 20);
      for (std::int64_t i = 0; i < n && !s.empty(); ++i) s[rng.below(s.size())] ^= char(1 << rng.below(8));
      what += fmt::format("flip {} bits", n);
      return s;
    }
    case 2: {
      const auto n = rng.between(1, 8);
      for (std::int64_t i = 0; i < n; ++i) s.insert(rng.below(s.size() + 1), rng.pick(kSpecial));
      what += fmt::format("insert {} special tokens", n);
      return s;
    }
    case 3:
      s.insert(at, 1, '\0');
      what += fmt::format("a NUL at byte {}", at);
      return s;
    case 4: {
      const std::size_t len = rng.below(s.size() - at + 1);
      what += fmt::format("delete bytes {}..{}", at, at + len);
      return s.erase(at, len);
    }
    case 5: {
      const std::size_t len = std::min<std::size_t>(rng.between(1, 64), s.size() - at);
      const std::string chunk = s.substr(at, len);
      const auto times = rng.pick(std::vector<std::int64_t>{2, 100, 10000, 200000});
      std::string rep;
      for (std::int64_t i = 0; i < times; ++i) rep += chunk;
      what += fmt::format("repeat {} bytes at {} {} times", len, at, times);
      return s.insert(at, rep);
    }
    case 6:
      what += "splice the file into itself";
      return s.substr(0, at) + s.substr(rng.below(s.size() + 1));
    case 7:
      what += "random bytes";
      return random_bytes(rng, rng.pick(std::vector<std::size_t>{0, 1, 2, 16, 1000, 100000}));
    case 8:
      what += "a byte-order mark or UTF-16";
      if (rng.chance(0.5)) return "\xef\xbb\xbf" + s;
      {
        std::string wide = "\xff\xfe";
        for (char c : s) wide += std::string{c, '\0'};
        return wide;
      }
    case 9:
      what += "whitespace and comments around it";
      return rng.pick(std::vector<std::string>{"\n\n\t ", "// c\n", "/* c */", "\v", "\f", "\xc2\xa0"}) + s +
             rng.pick(std::vector<std::string>{"", "\n", "{}", " x", std::string(1, '\0'), ",", "]"});
    default: {
      const auto n = rng.between(1, 30);
      for (std::int64_t i = 0; i < n && !s.empty(); ++i) s[rng.below(s.size())] = char(rng.next());
      what += fmt::format("overwrite {} bytes", n);
      return s;
    }
  }
}

// A valid graph of `n` relu nodes on one input: a chain, a fan (each node reads the input and is
// an output: n kernels), or a chain closed into a cycle. Work that is quadratic in the number of
// nodes, values or kernels takes minutes on these.
std::string many_nodes(Rng& rng, std::size_t n, std::string& what) {
  const int shape = int(rng.below(3));
  what += fmt::format("a valid {} of {} nodes", shape == 0 ? "chain" : shape == 1 ? "fan" : "cycle", n);
  std::string nodes, outputs;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string in = shape == 1 || (i == 0 && shape == 0) ? "x" : fmt::format("n{}", (i + n - 1) % n);
    nodes += fmt::format(R"({}{{"name":"n{}","op":"relu","inputs":["{}"]}})", i ? "," : "", i, in);
    if (shape == 1) outputs += fmt::format(R"({}"n{}")", i ? "," : "", i);
  }
  if (shape != 1) outputs = fmt::format(R"("n{}")", n - 1);
  return fmt::format(R"({{"name":"g","inputs":{{"x":{{"dtype":"f32","shape":["M",4]}}}},"nodes":[{}],"outputs":[{}]}})",
                     nodes, outputs);
}

std::string huge_document(Rng& rng, std::string& what) {
  const auto depth = rng.pick(std::vector<std::size_t>{63, 64, 65, 1000, 100000, 1000000});
  auto repeat = [](std::string_view unit, std::size_t n) {
    std::string s;
    s.reserve(unit.size() * n);
    for (std::size_t i = 0; i < n; ++i) s += unit;
    return s;
  };
  // Rarely: these are valid, so they cost a second or two each where the code is linear.
  if (rng.chance(0.06)) return many_nodes(rng, 100000, what);
  switch (rng.below(8)) {
    case 0:
      what += fmt::format("{} levels of [", depth);
      return repeat("[", depth) + (rng.chance(0.5) ? repeat("]", depth) : "");
    case 1:
      what += fmt::format("{} levels of {{\"a\":", depth);
      return repeat("{\"a\":", depth) + "1" + (rng.chance(0.5) ? repeat("}", depth) : "");
    case 2:
      // Depth inside a graph, where an attribute's value is expected.
      what += fmt::format("an attribute nested {} deep", depth);
      return fmt::format(R"({{"name":"g","inputs":{{"x":{{"dtype":"f32","shape":[4,4]}}}},"nodes":[{{"name":"y","op":"relu","inputs":["x"],"k":{}0{}}}],"outputs":["y"]}})",
                         repeat("[{\"b\":", depth / 2), repeat("}]", depth / 2));
    case 3:
      what += fmt::format("an array of {} numbers", depth);
      return fmt::format("[{}0]", repeat("1.5,", depth));
    case 4:
      what += fmt::format("a node list of {} nodes", depth / 10);
      return fmt::format(R"({{"name":"g","inputs":{{"x":{{"dtype":"f32","shape":[4,4]}}}},"nodes":[{}{{}}],"outputs":["y"]}})",
                         repeat(R"({"name":"y","op":"relu","inputs":["x"]},)", depth / 10));
    case 5:
      what += fmt::format("a {}-byte name", depth);
      return fmt::format(R"({{"name":"{}","inputs":{{}},"nodes":[],"outputs":[]}})", std::string(depth, 'n'));
    case 6:
      what += fmt::format("a {}-digit number", depth);
      return fmt::format(R"({{"name":"g","inputs":{{"x":{{"dtype":"f32","shape":[{}]}}}},"nodes":[{{"name":"y","op":"relu","inputs":["x"]}}],"outputs":["y"]}})",
                         std::string(depth, '7'));
    default:
      what += fmt::format("{} alternating levels of [ and {{\"a\":", depth);
      return repeat("[{\"a\":", depth / 2);
  }
}

}  // namespace jitfuse::fuzz
