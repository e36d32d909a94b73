// Graph files that are not what they seem: nested a million levels deep, cut by a NUL, a
// directory, missing or unreadable. Each is a clear error naming the file, exit 2 from the
// command line, never a crash, in bounded memory.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "support.h"

using namespace jitfuse;

namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// A pointer of `n` "/0" tokens: where arrays nested in arrays are.
std::string zeros(std::size_t n) {
  std::string p;
  for (std::size_t i = 0; i < n; ++i) p += "/0";
  return p;
}

}  // namespace

TEST_CASE("nesting is bounded: 64 levels parse, the 65th is an error at its pointer") {
  auto ok = parse_graph(nested(64));  // deep but allowed: then it is not an object
  REQUIRE_FALSE(ok.ok());
  CHECK(ok.error().code == ErrorCode::schema);

  auto deep = parse_graph(nested(65), "deep.json");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.error().code == ErrorCode::json_syntax);
  CHECK(deep.error().pointer == zeros(64));
  CHECK(deep.error().file == "deep.json");

  auto keys = parse_graph(R"({"name": {"a": {"b": )" + nested(100) + "}}}");
  REQUIRE_FALSE(keys.ok());
  CHECK(keys.error().code == ErrorCode::json_syntax);
  CHECK(keys.error().pointer == "/name/a/b" + zeros(61));
}

TEST_CASE("a million levels of nesting fail at once, without a deep document") {
  for (const std::size_t depth : {std::size_t(100000), std::size_t(1000000)}) {
    CAPTURE(depth);
    const std::string text = std::string(depth, '[') + "{\"a\": " + std::string(depth, '{');
    auto r = parse_graph(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::json_syntax);
    CHECK(r.error().pointer == zeros(64));
  }
}

TEST_CASE("cli: files nested 1e5 and 1e6 deep exit 2 under a 512 MB memory limit") {
  jf_test::TempDir tmp;
  // Before the bound, depth 1e5 needed gigabytes (a pointer string per level) and 1e6 aborted.
  for (const std::size_t depth : {std::size_t(100000), std::size_t(1000000)}) {
    CAPTURE(depth);
    const auto file = tmp.path / fmt::format("deep{}.json", depth);
    jf_test::write_file(file, nested(depth) + "\n");
    const jf_test::CliRun r = jf_test::run_cli("compile '" + file.string() + "' --arch sm_90a", tmp.path,
                                               "ulimit -v 524288; ");
    CHECK_MESSAGE(r.code == 2, r.out);
    CHECK(r.signal == 0);
    CHECK(r.out.find(file.string() + ": " + zeros(64) + ":") != std::string::npos);
  }
}

TEST_CASE("a NUL byte in a graph is an error at its offset, not the end of the graph") {
  const std::string graph = R"({"name": "g", "inputs": {"x": {"dtype": "f32", "shape": [4]}},
    "nodes": [{"name": "a", "op": "relu", "inputs": ["x"]}], "outputs": ["a"]})";
  REQUIRE(parse_graph(graph).ok());
  auto r = parse_graph(graph + std::string("\0{\"junk\": 1}", 12), "nul.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::json_syntax);
  CHECK(r.error().file == "nul.json");
  CHECK(r.error().pointer.empty());
  CHECK(r.error().message.find(fmt::format("byte {} ", graph.size())) != std::string::npos);
  const std::size_t column = graph.size() - graph.rfind('\n');
  CHECK(r.error().message.find(fmt::format("line 2, column {}", column)) != std::string::npos);
}

TEST_CASE("a graph path that is a directory, missing or unreadable is an io error naming it") {
  jf_test::TempDir tmp;
  auto dir = load_graph(tmp.path);
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().code == ErrorCode::io);
  CHECK(dir.error().file == tmp.path.string());
  CHECK(dir.error().message.find("directory") != std::string::npos);

  auto missing = load_graph(tmp.path / "nope.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == ErrorCode::io);
  CHECK(missing.error().file == (tmp.path / "nope.json").string());

  // Opens, then fails to read (EIO), even for root.
  auto eio = load_graph("/proc/self/mem");
  REQUIRE_FALSE(eio.ok());
  CHECK(eio.error().code == ErrorCode::io);
  CHECK(eio.error().file == "/proc/self/mem");

  if (::geteuid() != 0) {  // root reads a mode-000 file anyway
    const auto locked = tmp.path / "locked.json";
    jf_test::write_file(locked, "{}");
    std::filesystem::permissions(locked, std::filesystem::perms::none);
    auto denied = load_graph(locked);
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.error().code == ErrorCode::io);
    CHECK(denied.error().file == locked.string());
  }
}

TEST_CASE("a graph may come from a pipe, and a huge file is refused unread") {
  jf_test::TempDir tmp;
  const auto fifo = tmp.path / "graph.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::string graph = R"({"name": "g", "inputs": {"x": {"dtype": "f32", "shape": [4]}},
    "nodes": [{"name": "a", "op": "relu", "inputs": ["x"]}], "outputs": ["a"]})";
  const jf_test::CliRun r = jf_test::run_cli(
      fmt::format("explain '{}'", fifo.string()), tmp.path,
      fmt::format("(printf '%s' '{}' > '{}' &); ", graph, fifo.string()));
  CHECK_MESSAGE(r.code == 0, r.out);

  const auto sparse = tmp.path / "huge.json";
  jf_test::write_file(sparse, "");
  std::filesystem::resize_file(sparse, std::uintmax_t(8) << 30);  // sparse: no disk used
  auto huge = load_graph(sparse);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().code == ErrorCode::io);
  CHECK(huge.error().file == sparse.string());
}

TEST_CASE("cli: a directory as the graph says so") {
  jf_test::TempDir tmp;
  const jf_test::CliRun r = jf_test::run_cli("compile '" + tmp.path.string() + "' --arch sm_80", tmp.path);
  CHECK(r.code == 2);
  CHECK(r.out.find(tmp.path.string() + ": ") != std::string::npos);
  CHECK(r.out.find("directory") != std::string::npos);
  CHECK(r.out.find("invalid JSON") == std::string::npos);
}
