// `jitfuse warm`: the manifest checked whole before anything compiles (exit 2 with a pointer),
// each distinct build queued once, and counts that hold however the threads race.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "cli_support.h"

namespace {

using jf_test::cli_apart;

std::string bf16_example() {
  return (jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu_bf16.json").string();
}

// Writes a manifest of `graphs` (JSON array text) with the given rest, returns its path.
std::string manifest(const jf_test::TempDir& tmp, const std::string& graphs, const std::string& rest) {
  const auto path = tmp.path / "manifest.json";
  jf_test::write_file(path, fmt::format(R"({{"graphs": {}, {}}})", graphs, rest));
  return path.string();
}

std::string one(const std::string& path) { return fmt::format(R"(["{}"])", path); }

}  // namespace

TEST_CASE("cli warm: bad input in the manifest is exit 2 with its pointer, before any compile") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  const std::string ex = one(jf_test::example_graph());
  struct Case {
    std::string rest, flags, where;
  };
  const Case cases[] = {
      {R"("archs": ["sm_80"], "dims": [{"M": 0}])", "", "/dims/0/M"},
      {R"("archs": ["sm_80"], "dims": [{"M": 64}, {"M": -5}])", "", "/dims/1/M"},
      {R"("archs": ["sm_80"], "dims": [{"Q": 4}])", "", "/dims/0/Q"},
      {R"("archs": ["sm_80", "sm_8"])", "", "/archs/1"},
      {R"("archs": ["sm_80"], "math": ["ieee", "fast"])", "", "/math/1"},
      {R"("archs": ["sm_80"])", "--arch sm_13", "--arch"},
      {R"("archs": ["sm_80"])", "--jobs -3", "--jobs"},
      {R"("archs": ["sm_80"])", "--jobs 0", "--jobs"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.rest);
    CAPTURE(c.flags);
    const auto r = cli_apart(fmt::format("warm {} {}", manifest(tmp, ex, c.rest), c.flags), cache);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("jitfuse: error: ", 0) == 0);
    CHECK(r.err.find(c.where) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(cache));  // nothing was compiled
  }
}

TEST_CASE("cli warm: each distinct build once; math modes only where they change the kernel") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  // f32: three math modes that make three kernels on sm_80 (repeats count once); the bf16
  // graph: one build, whatever the modes.
  const std::string m = manifest(tmp, fmt::format(R"(["{}", "{}"])", jf_test::example_graph(), bf16_example()),
                                 R"("archs": ["sm_80", "sm_80"], "math": ["ieee", "tf32", "tf32x3", "ieee"],
                                    "dims": [{"M": 64}, {"M": 64}])");
  const auto first = cli_apart("warm " + m, cache);
  REQUIRE_MESSAGE(first.code == 0, (first.out + first.err));
  CHECK(first.out.find("[4/4]") != std::string::npos);
  CHECK(first.out.find("[5/") == std::string::npos);
  CHECK(first.out.find("4 compiled, 0 already cached, 0 failed (4 builds)") != std::string::npos);
  const auto again = cli_apart("warm " + m, cache);
  CHECK(again.code == 0);
  CHECK(again.out.find("0 compiled, 4 already cached, 0 failed (4 builds)") != std::string::npos);
  // A bf16 graph with only tf32 modes listed is still built (it once was skipped).
  const auto bf16 = cli_apart("warm " + manifest(tmp, one(bf16_example()),
                                                 R"("archs": ["sm_80"], "math": ["tf32x3"], "dims": [{"M": 32}])"),
                              cache);
  CHECK(bf16.code == 0);
  CHECK(bf16.out.find("1 compiled, 0 already cached, 0 failed (1 build)") != std::string::npos);
}

TEST_CASE("cli warm: two requests that make the same kernels count as one build") {
  jf_test::TempDir tmp;
  // On sm_80, math auto is ieee: the two jobs compile one kernel between them.
  const std::string m = manifest(tmp, one(jf_test::example_graph()),
                                 R"("archs": ["sm_80"], "math": ["ieee", "auto"], "dims": [{"M": 64}])");
  const auto r = cli_apart("warm " + m + " --jobs 2", tmp.path / "cache");
  REQUIRE_MESSAGE(r.code == 0, (r.out + r.err));
  CHECK(r.out.find("1 compiled, 0 already cached, 0 failed (2 builds, 1 of them the same kernels as another)") !=
        std::string::npos);
}

TEST_CASE("cli warm: --format json is one document with every build and the summary") {
  jf_test::TempDir tmp;
  const std::string m = manifest(tmp, fmt::format(R"(["{}", "{}"])", jf_test::example_graph(), bf16_example()),
                                 R"("archs": ["sm_80"], "math": ["ieee", "auto"], "dims": [{"M": 64}])");
  const auto r = cli_apart("warm " + m + " --jobs 2 --format json", tmp.path / "cache");
  REQUIRE_MESSAGE(r.code == 0, r.err);
  const auto doc = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_MESSAGE(!doc.is_discarded(), r.out);
  CHECK(doc["manifest"] == m);
  CHECK(doc["parallel"] == 2);
  // f32: ieee and auto (the same kernel on sm_80); bf16: once.
  REQUIRE(doc["builds"].size() == 3);
  CHECK(doc["summary"]["builds"] == 3);
  CHECK(doc["summary"]["distinct"] == 2);
  CHECK(doc["summary"]["compiled"] == 2);
  CHECK(doc["summary"]["cached"] == 0);
  CHECK(doc["summary"]["failed"] == 0);
  CHECK(doc["summary"]["duplicates"] == 1);
  int duplicates = 0;
  for (const auto& b : doc["builds"]) {
    CHECK(b["arch"] == "sm_80");
    CHECK(b["dims"]["M"] == 64);
    CHECK(b["error"].is_null());
    REQUIRE(b["kernels"].size() == 1);
    if (b["graph"] == "linear_scale_hardtanh_gelu_bf16") CHECK(b["math"].is_null());
    else CHECK(b["math"].is_string());
    if (!b["duplicate_of"].is_null()) {
      ++duplicates;
      const auto& original = doc["builds"][b["duplicate_of"].get<std::size_t>()];
      CHECK(original["kernels"][0]["cache_key"] == b["kernels"][0]["cache_key"]);
    }
  }
  CHECK(duplicates == 1);
  CHECK(r.err.find("[3/3]") != std::string::npos);  // the progress went to stderr
}
