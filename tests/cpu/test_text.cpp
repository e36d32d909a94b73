// User text in messages: escaped so that it cannot drive a terminal, and capped so that a 10 MB
// name gives a short message, from the library and from the command line.
#include <doctest/doctest.h>

#include <chrono>

#include "common/text.h"
#include "graph/typed_graph.h"
#include "support.h"

using namespace jitfuse;

TEST_CASE("user_text escapes what a terminal would act on and keeps UTF-8") {
  CHECK(user_text("gelu") == "gelu");
  CHECK(user_text("a\x1b[31mred") == "a\\x1b[31mred");            // ANSI escape
  CHECK(user_text(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(user_text("tab\tnl\ndel\x7f") == "tab\\x09nl\\x0adel\\x7f");
  CHECK(user_text("back\\slash") == "back\\\\slash");              // \x41 stays distinguishable
  CHECK(user_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x99\x82");
  CHECK(user_text("\xc2\x9b" "2J") == "\\xc2\\x9b2J");               // C1 CSI, as UTF-8
  CHECK(user_text("\x9b" "2J") == "\\x9b2J");                        // C1 CSI, raw byte
  CHECK(user_text("\xc0\xaf") == "\\xc0\\xaf");                      // overlong '/'
  CHECK(user_text("\xed\xa0\x80") == "\\xed\\xa0\\x80");             // a surrogate
  CHECK(user_text("cut \xe2\x82") == "cut \\xe2\\x82");              // a sequence cut short
}

TEST_CASE("user_text caps long text and says how long it was") {
  const std::string big(10 << 20, 'a');
  const std::string shown = user_text(big);
  CHECK(shown == std::string(64, 'a') + "...(10485760 bytes)");
  CHECK(user_text(std::string(64, 'b')) == std::string(64, 'b'));  // at the cap: whole
  CHECK(user_text("abcdef", 3) == "abc...(6 bytes)");
  // A multi-byte character is never split by the cap.
  CHECK(user_text("ab\xe2\x82\xac", 3) == "ab...(5 bytes)");
}

TEST_CASE("terminal_text keeps lines, tabs and backslashes, and caps each line") {
  CHECK(terminal_text("a\tb\nc\\x41\n") == "a\tb\nc\\x41\n");
  CHECK(terminal_text("x\x1b]0;title\x07y") == "x\\x1b]0;title\\x07y");
  CHECK(terminal_text("one\r\ntwo") == "one\\x0d\ntwo");
  const std::string out = terminal_text(std::string(10000, 'z') + "\nshort", 100);
  CHECK(out == std::string(100, 'z') + "...(a line of 10000 bytes)\nshort");
  // The cap bounds what is printed, escapes included (found by tools/fuzz: 4096 ESC bytes
  // printed as a 16 KB line).
  std::string escapes;
  for (int i = 0; i < 25; ++i) escapes += "\\x1b";
  CHECK(terminal_text(std::string(10000, '\x1b') + "\nshort", 100) == escapes + "...(a line of 10000 bytes)\nshort");
}

TEST_CASE("did_you_mean stays fast and right for a huge word") {
  const std::string huge(10 << 20, 'g');
  const auto start = std::chrono::steady_clock::now();
  CHECK(did_you_mean(huge, std::vector<std::string>{"gelu", "relu"}).empty());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK(did_you_mean("gleu", std::vector<std::string>{"gelu", "relu"}) == " (did you mean 'gelu'?)");
}

TEST_CASE("a graph's user strings reach messages escaped and capped") {
  const std::string huge_op(10 << 20, 'q');
  auto op = validate(*parse_graph(fmt::format(
      R"({{"name": "g", "inputs": {{"x": {{"dtype": "f32", "shape": [4]}}}},
          "nodes": [{{"name": "a", "op": "{}", "inputs": ["x"]}}], "outputs": ["a"]}})", huge_op)));
  REQUIRE_FALSE(op.ok());
  CHECK(op.error().code == ErrorCode::unknown_op);
  CHECK(op.error().pointer == "/nodes/0/op");
  CHECK(op.error().message.size() < 1000);
  CHECK(op.error().message.find("(10485760 bytes)") != std::string::npos);

  // JSON's \u001b is an ESC in the parsed name.
  auto name = validate(*parse_graph(
      R"({"name": "g", "inputs": {"x": {"dtype": "f32", "shape": [4]}},
          "nodes": [{"name": "\u001b[2Jbad", "op": "relu", "inputs": ["x"]}], "outputs": ["a"]})"));
  REQUIRE_FALSE(name.ok());
  CHECK(name.error().code == ErrorCode::bad_name);
  CHECK(name.error().message.find('\x1b') == std::string::npos);
  CHECK(name.error().message.find("\\x1b[2Jbad") != std::string::npos);

  auto key = parse_graph("{\"name\": \"g\", \"inputs\": {}, \"nodes\": [], \"outputs\": [], \"\\u009b\": 1}");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().code == ErrorCode::schema);
  CHECK(key.error().message.find("\\xc2\\x9b") != std::string::npos);
}

TEST_CASE("cli: a 10 MB op name with escapes in it gives one short, escaped error line") {
  jf_test::TempDir tmp;
  const auto graph = tmp.path / "g.json";
  jf_test::write_file(graph, fmt::format(
      R"({{"name": "g", "inputs": {{"x": {{"dtype": "f32", "shape": [4]}}}},
          "nodes": [{{"name": "a", "op": "\u001b[31m{}", "inputs": ["x"]}}], "outputs": ["a"]}})",
      std::string(10 << 20, 'q')));
  const jf_test::CliRun r = jf_test::run_cli("compile '" + graph.string() + "' --arch sm_80", tmp.path);
  CHECK(r.code == 2);
  CHECK(r.out.size() < 2000);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find("/nodes/0/op") != std::string::npos);
}
