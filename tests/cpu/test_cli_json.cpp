// `--format json` on compile, cache ls and cache stats: one document on stdout that scripts can
// read (logs and warnings on stderr), and `cache ls` telling apart entries that differ only in
// dims or math.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_support.h"

namespace {

using jf_test::cli_apart;
using json = nlohmann::json;

// Runs `args`, requires exit 0 and stdout to be one JSON document.
json json_of(const std::string& args, const std::filesystem::path& cache) {
  const auto r = cli_apart(args, cache);
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const json doc = json::parse(r.out, nullptr, false);
  REQUIRE_MESSAGE(!doc.is_discarded(), r.out);
  return doc;
}

const std::string kSimt = " --arch sm_80 --gemm simt --format json";

}  // namespace

TEST_CASE("cli json: compile says what was built, where from, and whether it was stored") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  const std::string compile = "-v compile " + jf_test::example_graph() + " --dims M=64" + kSimt;
  const json first = json_of(compile + " --emit cu -o " + (tmp.path / "out").string(), cache);
  CHECK(first["graph"] == "linear_scale_hardtanh_gelu");
  CHECK(first["arch"] == "sm_80");
  CHECK(first["math"] == "ieee");
  CHECK(first["gemm"] == "simt");
  CHECK(first["dims"]["M"] == 64);
  CHECK(first["cache_dir"] == cache.string());
  REQUIRE(first["kernels"].size() == 1);
  const json& k = first["kernels"][0];
  CHECK(k["name"] == "jf_linear_scale_hardtanh_gelu_0");
  CHECK(k["tier"] == "compiled");
  CHECK(k["compile_ms"].get<double>() > 0);
  CHECK(k["stored"] == true);
  CHECK(k["store_error"].is_null());
  CHECK(k["math"] == "ieee");
  CHECK(k["template"] == "gemm_simt.cu");
  CHECK(k["not_applied"].empty());
  CHECK(k["cubin_bytes"].get<int>() > 1000);
  CHECK(std::filesystem::exists(k["cache_file"].get<std::string>()));
  CHECK(k["cache_file"].get<std::string>().find(k["cache_key"].get<std::string>()) != std::string::npos);
  REQUIRE(first["files"].size() == 2);  // the .cu and its headers' folder
  CHECK(std::filesystem::exists(first["files"][0].get<std::string>()));

  const json again = json_of(compile, cache);
  CHECK(again["kernels"][0]["tier"] == "disk");
  CHECK(again["kernels"][0]["stored"] == false);
  CHECK(again["kernels"][0]["cache_key"] == k["cache_key"]);
  CHECK(again["files"].empty());

  // An unwritable cache: the kernel is built, and the document says it was not stored.
  const auto file = tmp.path / "a-file";
  jf_test::write_file(file, "x");
  const json unstored = json_of(compile, file);
  CHECK(unstored["kernels"][0]["tier"] == "compiled");
  CHECK(unstored["kernels"][0]["stored"] == false);
  CHECK(unstored["kernels"][0]["store_error"].get<std::string>().find(file.string()) != std::string::npos);

  // A template the arch cannot run: built with another, listed as not applied.
  const json fallback = json_of("compile " + jf_test::example_graph() + " --dims M=64 --arch sm_80 "
                                "--gemm wgmma --format json", cache);
  CHECK(fallback["kernels"][0]["not_applied"].size() == 1);
  CHECK(fallback["kernels"][0]["template"] != "gemm_wgmma.cu");

  CHECK(cli_apart("compile " + jf_test::example_graph() + " --arch sm_80 --format yaml", cache).code == 2);
}

TEST_CASE("cli json: cache ls and stats; ls tells apart entries that differ only in dims or math") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  // A name longer than the old fixed 28-character column.
  const auto graph = tmp.path / "g.json";
  jf_test::GemmGraph g;
  std::string text = g.json();
  text.replace(text.find("\"name\": \"g\""), 11, "\"name\": \"a_graph_name_well_over_twenty_eight_chars\"");
  jf_test::write_file(graph, text);
  for (const char* extra : {"--dims M=64 --math ieee", "--dims M=128 --math ieee", "--dims M=64 --math tf32"}) {
    REQUIRE(cli_apart(fmt::format("compile {} --arch sm_80 {}", graph.string(), extra), cache).code == 0);
  }
  const json ls = json_of("cache ls --format json", cache);
  CHECK(ls["cache_dir"] == cache.string());
  REQUIRE(ls["entries"].size() == 3);
  CHECK(ls["unreadable"].empty());
  std::set<std::string> seen;
  std::uint64_t total = 0;
  for (const json& e : ls["entries"]) {
    CHECK(e["graph"] == "a_graph_name_well_over_twenty_eight_chars");
    CHECK(e["arch"] == "sm_80");
    CHECK(e["file"].get<std::string>().find(e["key"].get<std::string>()) != std::string::npos);
    CHECK(std::filesystem::exists(cache / e["file"].get<std::string>()));
    CHECK(e["created"].get<std::int64_t>() > 0);
    total += e["bytes"].get<std::uint64_t>();
    seen.insert(fmt::format("{} {}", e["math"].get<std::string>(), e["dims"]["M"].get<int>()));
  }
  CHECK(seen == std::set<std::string>{"ieee 64", "ieee 128", "tf32 64"});
  CHECK(ls["total_bytes"] == total);

  // The text table: the columns line up under their headings, whatever the names' lengths.
  const auto text_ls = cli_apart("cache ls", cache);
  REQUIRE(text_ls.code == 0);
  std::vector<std::string> lines;
  std::istringstream in(text_ls.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 5);  // heading, 3 entries, total
  for (const char* col : {"ARCH", "MATH", "DIMS", "KEY"}) {
    CAPTURE(col);
    const std::size_t at = lines[0].find(col);
    REQUIRE(at != std::string::npos);
    for (int i = 1; i <= 3; ++i) {
      CHECK(lines[i].size() > at);
      CHECK(lines[i][at - 1] == ' ');
      CHECK(lines[i][at - 2] == ' ');  // two spaces before every column: nothing ran into it
      CHECK(lines[i][at] != ' ');
    }
  }

  const json stats = json_of("cache stats --format json", cache);
  CHECK(stats["entries"] == 3);
  CHECK(stats["total_bytes"] == total);
  CHECK(stats["journal"]["processes"] == 3);
  CHECK(stats["journal"]["misses"] == 3);
  CHECK(stats["journal"]["disk_hits"] == 0);
  CHECK(stats["rebuild_ms"].get<double>() > 0);
  CHECK(cli_apart("cache stats --format xml", cache).code == 2);
}
