// The command line: exit codes (0 ok, 1 failed, 2 bad input), messages, and files written.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_support.h"
#include "cuda/libcuda.h"
#include "engine/trace.h"

namespace {

using Result = jf_test::CliResult;
using jf_test::cli;

std::string example() { return jf_test::example_graph(); }
std::string error_case(const char* name) {
  return (jf_test::source_dir() / "tests/errors" / name).string();
}
bool has_driver() { return jitfuse::cu::api().ok(); }

}  // namespace

TEST_CASE("cli: help, version and usage errors") {
  jf_test::TempDir tmp;
  CHECK(cli("--help", tmp.path).code == 0);
  CHECK(cli("run --help", tmp.path).out.find("--check") != std::string::npos);
  CHECK(cli("--version", tmp.path).code == 0);
  CHECK(cli("", tmp.path).code == 2);
  CHECK(cli("frobnicate", tmp.path).code == 2);
  CHECK(cli("compile", tmp.path).code == 2);  // GRAPH is required
  CHECK(cli("compile " + example() + " --bogus", tmp.path).code == 2);
}

TEST_CASE("cli: every parse error is `jitfuse: error: ...` on stderr with exit 2; help stays 0") {
  jf_test::TempDir tmp;
  for (const char* args : {"", "frobnicate", "compile", "cache", "cache frobnicate", "cache ls --bogus",
                           "--dump-after bogus archs", "--dump-after plan, archs", "compile x.json --bogus"}) {
    CAPTURE(args);
    const Result r = jf_test::cli_apart(args, tmp.path);
    CHECK(r.code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("jitfuse: error: ", 0) == 0);
  }
  // An unknown subcommand is named as such, not "A subcommand is required".
  const Result cache = jf_test::cli_apart("cache frobnicate", tmp.path);
  CHECK(cache.err.find("\"frobnicate\"") != std::string::npos);
  CHECK(cache.err.find("A subcommand is required") == std::string::npos);
  for (const char* args : {"--help", "cache --help", "run --help", "--version"}) {
    CAPTURE(args);
    const Result r = jf_test::cli_apart(args, tmp.path);
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    CHECK_FALSE(r.out.empty());
  }
  // --dump-after's help lists every step it accepts.
  const Result help = jf_test::cli_apart("--help", tmp.path);
  for (std::string_view step : {"validate", "tune", "nvrtc", "load"}) CHECK(help.out.find(step) != std::string::npos);
}

TEST_CASE("cli: a usage error quotes the argument it rejects without control characters") {
  // Found by tools/fuzz: CLI11's message echoed an unexpected argument as it was, so an escape
  // sequence, a carriage return or a C1 control in an argument reached the terminal.
  jf_test::TempDir tmp;
  const Result r =
      jf_test::cli_apart(R"sh(explain x.json "$(printf 'a\033[31mred\rcr\302\233b\177')")sh", tmp.path);
  CHECK(r.code == 2);
  CHECK(r.err.rfind("jitfuse: error: ", 0) == 0);
  CHECK(r.err.find(R"(a\x1b[31mred\x0dcr\xc2\x9bb\x7f)") != std::string::npos);
  CHECK(std::none_of(r.err.begin(), r.err.end(), [](char c) { return (c >= 0 && c < 0x20 && c != '\n') || c == 0x7f; }));
  CHECK(r.err.find("\xc2\x9b") == std::string::npos);
  // A newline in an argument cannot forge a second error line.
  const Result nl = jf_test::cli_apart(R"sh(explain x.json "$(printf 'a\njitfuse: error: forged')")sh", tmp.path);
  CHECK(nl.code == 2);
  CHECK(nl.err.find("\njitfuse: error: forged") == std::string::npos);
  CHECK(nl.err.find(R"(a\x0ajitfuse: error: forged)") != std::string::npos);
}

TEST_CASE("cli: bad input exits 2 with the place and the problem") {
  jf_test::TempDir tmp;
  Result missing = cli("compile /nonexistent.json --arch sm_80", tmp.path);
  CHECK(missing.code == 2);
  CHECK(missing.out.find("/nonexistent.json") != std::string::npos);
  Result op = cli("compile " + error_case("unknown_op.json") + " --arch sm_80", tmp.path);
  CHECK(op.code == 2);
  CHECK(op.out.find("/nodes/3/op") != std::string::npos);
  Result syntax = cli("explain " + error_case("json_syntax.json"), tmp.path);
  CHECK(syntax.code == 2);
  CHECK(syntax.out.find("line") != std::string::npos);
  CHECK(cli("compile " + example() + " --arch sm_13", tmp.path).code == 2);
  CHECK(cli("compile " + example() + " --arch sm_80 --math fast", tmp.path).code == 2);
  CHECK(cli("compile " + example() + " --arch sm_80 --dims M=abc", tmp.path).code == 2);
  CHECK(cli("compile " + example() + " --arch sm_80 --dims Q=5", tmp.path).code == 2);
  CHECK(cli("compile " + example() + " --arch sm_80 --emit cu,obj", tmp.path).code == 2);
  Result no_input = cli("run " + example() + " --dims M=4", tmp.path);
  CHECK(no_input.code == 2);
  CHECK(no_input.out.find("--random") != std::string::npos);
  CHECK(cli("run " + example() + " --input x=/nonexistent.npy --random 1", tmp.path).code == 2);
  CHECK(cli("run " + example() + " --input q=a.npy --random 1", tmp.path).code == 2);
  CHECK(cli("run " + example() + " --random 1", tmp.path).code == 2);  // M unbound
}

TEST_CASE("cli: a flag value given twice is an error, not last-one-wins") {
  jf_test::TempDir tmp;
  for (const std::string args :
       {"compile " + example() + " --arch sm_80 --dims M=2048,M=4096",
        "compile " + example() + " --arch sm_80 --dims M=2048 --dims M=2048",
        "run " + example() + " --dims M=4 --input x=a.npy --input x=b.npy",
        "run " + example() + " --dims M=4 --random 1 --output out=a.npy --output out=b.npy"}) {
    CAPTURE(args);
    const Result r = jf_test::cli_apart(args, tmp.path);
    CHECK(r.code == 2);
    CHECK(r.err.rfind("jitfuse: error: ", 0) == 0);
    CHECK(r.err.find("twice") != std::string::npos);
  }
}

TEST_CASE("cli: compile writes .cu, .ptx and .cubin, and the cache is hit the second time") {
  jf_test::TempDir tmp;
  const auto out = tmp.path / "out";
  Result r = cli("-v compile " + example() + " --arch sm_80 --dims M=64 --emit cu,ptx,cubin -o " +
                         out.string(), tmp.path / "cache");
  REQUIRE_MESSAGE(r.code == 0, r.out);
  CHECK(r.out.find("compiled by NVRTC") != std::string::npos);
  CHECK(r.out.find("cache: miss") != std::string::npos);
  const auto stem = out / "jf_linear_scale_hardtanh_gelu_0";
  CHECK(jf_test::read_file(stem.string() + ".cu").find("jf_epilogue") != std::string::npos);
  CHECK(jf_test::read_file(stem.string() + ".ptx").find(".entry jf_linear_scale_hardtanh_gelu_0") != std::string::npos);
  CHECK(std::filesystem::file_size(stem.string() + ".cubin") > 1000);
  CHECK(std::filesystem::exists(out / "include/jitfuse/templates/gemm_simt.cu"));
  Result again = cli("-v compile " + example() + " --arch sm_80 --dims M=64", tmp.path / "cache");
  CHECK(again.code == 0);
  CHECK(again.out.find("cache: disk hit") != std::string::npos);
  CHECK(again.out.find("compiled by NVRTC") == std::string::npos);
}

TEST_CASE("cli: explain prints the plan as text and JSON") {
  jf_test::TempDir tmp;
  Result text = cli("explain " + example() + " --arch sm_90a --dims M=2048", tmp.path);
  CHECK(text.code == 0);
  CHECK(text.out.find("1 kernel (fusion on)") != std::string::npos);
  CHECK(text.out.find("fused into kernel 0's epilogue") != std::string::npos);
  CHECK(text.out.find("275.079 GFLOP") != std::string::npos);
  Result json = cli("explain " + example() + " --format json --no-fuse", tmp.path);
  REQUIRE(json.code == 0);
  const auto j = nlohmann::json::parse(json.out);
  CHECK(j["kernels"].size() == 4);
  CHECK(cli("explain " + example() + " --format yaml", tmp.path).code == 2);
  Result md = cli("explain " + example() + " --arch sm_90a --dims M=2048 --format md", tmp.path);
  CHECK(md.code == 0);
  CHECK(md.out.find("# Plan for `linear_scale_hardtanh_gelu`") != std::string::npos);
  CHECK(md.out.find("compute-bound, at least 1031.5 us") != std::string::npos);  // auto: bf16x3
  CHECK(md.out.find("## What fusion saves") != std::string::npos);
  // The committed document is what the command prints today.
  CHECK(md.out == jf_test::read_file(jf_test::source_dir() / "docs/examples/linear_scale_hardtanh_gelu.md"));
}

TEST_CASE("cli: --dump-after prints a stage") {
  jf_test::TempDir tmp;
  Result r = cli("--dump-after plan,emit compile " + example() + " --arch sm_80", tmp.path);
  CHECK(r.code == 0);
  CHECK(r.out.find("=== after plan") != std::string::npos);
  CHECK(r.out.find("=== after emit") != std::string::npos);
  CHECK(r.out.find("struct jf_params") != std::string::npos);
}

TEST_CASE("cli: --dump-after's steps are one list: parsed, validated and dumped from it") {
  auto all = jitfuse::parse_dump_steps("all");
  REQUIRE(all.ok());
  CHECK(all->size() == jitfuse::kTraceSteps.size());
  auto two = jitfuse::parse_dump_steps("plan,emit");
  REQUIRE(two.ok());
  CHECK(*two == std::vector<std::string>{"plan", "emit"});
  for (const char* bad : {"bogus", "plan,bogus", "", "plan,", "PLAN"}) {
    CAPTURE(bad);
    auto r = jitfuse::parse_dump_steps(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == jitfuse::ErrorCode::bad_option);
  }
  // A bad JITFUSE_DUMP_AFTER costs a warning and dumps nothing; the compile still works.
  jf_test::TempDir tmp;
  jf_test::ScopedEnv dump("JITFUSE_DUMP_AFTER", "plann");
  const Result warned = jf_test::cli_apart("compile " + example() + " --arch sm_80 --dims M=64 --gemm simt",
                                           tmp.path);
  CHECK(warned.code == 0);
  CHECK(warned.err.find("JITFUSE_DUMP_AFTER") != std::string::npos);
  CHECK(warned.err.find("=== after") == std::string::npos);
}

TEST_CASE("cli: warm compiles a manifest, then finds it cached") {
  jf_test::TempDir tmp;
  const auto manifest = tmp.path / "manifest.json";
  jf_test::write_file(manifest, fmt::format(R"({{"graphs": ["{}", {{"name": "inline_ew",
      "inputs": {{"x": {{"dtype": "bf16", "shape": ["N"]}}}},
      "nodes": [{{"name": "g", "op": "gelu", "inputs": ["x"]}}], "outputs": ["g"]}}],
    "archs": ["sm_80"], "math": ["ieee"], "dims": [{{"M": 128}}]}})", example()));
  // The inline graph has no M: bad input, found before anything compiles.
  Result bad = cli("warm " + manifest.string() + " --jobs 2", tmp.path / "cache");
  CHECK_MESSAGE(bad.code == 2, bad.out);
  CHECK(bad.out.find("/dims/0/M") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(tmp.path / "cache"));
  jf_test::write_file(manifest, fmt::format(R"({{"graphs": ["{}"], "archs": ["sm_80"],
    "math": ["ieee"], "dims": [{{"M": 128}}]}})", example()));
  Result first = cli("warm " + manifest.string() + " --jobs 2", tmp.path / "cache");
  CHECK_MESSAGE(first.code == 0, first.out);
  CHECK(first.out.find("1 compiled, 0 already cached, 0 failed") != std::string::npos);
  jf_test::write_file(manifest, fmt::format(R"({{"graphs": ["{}"], "archs": ["sm_80"],
    "math": ["ieee", "tf32x3"], "dims": [{{"M": 128}}]}})", example()));
  Result second = cli("warm " + manifest.string(), tmp.path / "cache");
  CHECK_MESSAGE(second.code == 0, second.out);
  CHECK(second.out.find("1 compiled, 1 already cached, 0 failed") != std::string::npos);
  jf_test::write_file(manifest, R"({"graphs": [], "archs": ["sm_80"]})");
  CHECK(cli("warm " + manifest.string(), tmp.path / "cache").code == 2);
}

TEST_CASE("cli: without a GPU, compile needs --arch and run fails clearly") {
  if (has_driver()) {
    MESSAGE("a CUDA driver is present: the no-GPU behaviour is not testable here");
    return;
  }
  jf_test::TempDir tmp;
  Result compile = cli("compile " + example(), tmp.path);
  CHECK(compile.code == 2);
  CHECK(compile.out.find("--arch") != std::string::npos);
  Result run = cli("run " + example() + " --dims M=4 --random 1 --arch sm_80", tmp.path);
  CHECK(run.code == 1);
  CHECK(run.out.find("no CUDA driver") != std::string::npos);
  Result tune = cli("tune " + example() + " --dims M=4", tmp.path);
  CHECK(tune.code == 1);
  CHECK(tune.out.find("tune times kernels on this machine's GPU: no CUDA driver") != std::string::npos);
}

TEST_CASE("cli: tune's usage errors") {
  jf_test::TempDir tmp;
  Result unbound = cli("tune " + example(), tmp.path);
  CHECK(unbound.code == 2);
  CHECK(unbound.out.find("--dims M=SIZE") != std::string::npos);
  Result gemm = cli("tune " + example() + " --dims M=4 --gemm mma", tmp.path);
  CHECK(gemm.code == 2);
  CHECK(gemm.out.find("leave out --gemm") != std::string::npos);
  Result bad = cli("compile " + example() + " --arch sm_90a --gemm wgmma,cluster=3", tmp.path);
  CHECK(bad.code == 2);
  CHECK(bad.out.find("unknown setting \"cluster=3\"") != std::string::npos);
}

TEST_CASE("cli: cache ls, stats, verify, prune, clear") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  const std::string dir = "--cache-dir " + cache.string() + " ";
  REQUIRE(cli(dir + "compile " + example() + " --arch sm_80 --dims M=64", cache).code == 0);
  REQUIRE(cli(dir + "compile " + example() + " --arch sm_90a --dims M=64", cache).code == 0);
  REQUIRE(cli(dir + "compile " + example() + " --arch sm_90a --dims M=64", cache).code == 0);  // a hit
  Result ls = cli(dir + "cache ls", cache);
  CHECK(ls.code == 0);
  CHECK(ls.out.find("linear_scale_hardtanh_gelu") != std::string::npos);
  CHECK(ls.out.find("sm_90a") != std::string::npos);
  CHECK(ls.out.find("2 entries") != std::string::npos);
  Result stats = cli(dir + "cache stats", cache);
  CHECK(stats.code == 0);
  CHECK(stats.out.find("journal of 3 processes: 0 memory hits, 1 disk hits, 2 misses") != std::string::npos);
  // Corrupt one entry: verify finds it, --delete removes it.
  std::string victim;
  for (const auto& f : std::filesystem::directory_iterator(cache)) {
    if (f.path().extension() == ".jfk") victim = f.path().string();
  }
  std::string bytes = jf_test::read_file(victim);
  bytes[bytes.size() / 2] ^= 1;
  jf_test::write_file(victim, bytes);
  Result verify = cli(dir + "cache verify", cache);
  CHECK(verify.code == 1);
  CHECK(verify.out.find("checksum mismatch") != std::string::npos);
  CHECK(verify.out.find("1 good, 1 bad") != std::string::npos);
  CHECK(cli(dir + "cache verify --delete", cache).code == 0);
  CHECK_FALSE(std::filesystem::exists(victim));
  Result prune = cli(dir + "cache prune --max-bytes 1", cache);
  CHECK(prune.code == 0);
  CHECK(prune.out.find("evicted 1 entry") != std::string::npos);
  CHECK(cli(dir + "cache prune --max-bytes lots", cache).code == 2);
  std::filesystem::create_directories(cache / "tune");
  std::ofstream(cache / "tune" / "0123.json") << "{}";  // a tuning record goes with clear too
  Result clear = cli(dir + "cache clear", cache);
  CHECK(clear.code == 0);
  CHECK(cli(dir + "cache ls", cache).out.find("0 entries") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(cache / "tune"));
  CHECK(cli(dir + "cache", cache).code == 2);
}

TEST_CASE("cli: explain --bench options, and without a GPU a clear failure") {
  jf_test::TempDir tmp;
  CHECK(cli("explain --help", tmp.path).out.find("--bench-runs") != std::string::npos);
  Result unbound = cli("explain " + example() + " --bench", tmp.path);  // M has no size
  CHECK(unbound.code == 2);
  CHECK(unbound.out.find("--dims M=SIZE") != std::string::npos);
  CHECK(cli("explain " + example() + " --dims M=64 --bench-runs 5", tmp.path).code == 2);  // no --bench
  CHECK(cli("explain " + example() + " --dims M=64 --bench --bench-runs 0", tmp.path).code == 2);
  CHECK(cli("explain " + example() + " --dims M=64 --bench --bench-runs many", tmp.path).code == 2);
  if (has_driver()) {
    MESSAGE("a CUDA driver is present: explain --bench without one is not testable here");
    return;
  }
  for (const char* format : {"text", "md", "json"}) {
    Result r = cli(fmt::format("explain {} --dims M=64 --bench --format {}", example(), format), tmp.path);
    CHECK(r.code == 1);
    CHECK(r.out.find("explain --bench times the kernels on this machine's GPU: no CUDA driver") != std::string::npos);
    CHECK(r.out.find("# Plan") == std::string::npos);  // no report without the times it promised
  }
}

TEST_CASE("cli: compile with an unwritable cache does not claim an entry it never wrote") {
  jf_test::TempDir tmp;
  const auto file = tmp.path / "a-file";
  jf_test::write_file(file, "x");
  const Result r = jf_test::cli_apart("compile " + example() + " --arch sm_80 --dims M=64 --gemm simt", file);
  CHECK(r.code == 0);
  CHECK(r.out.find(file.string() + "/") == std::string::npos);  // no path of an entry that is not there
  CHECK(r.out.find("not stored") != std::string::npos);
  CHECK(r.err.find("warning") != std::string::npos);
  const Result good = jf_test::cli_apart("compile " + example() + " --arch sm_80 --dims M=64 --gemm simt",
                                         tmp.path / "cache");
  CHECK(good.code == 0);
  CHECK(good.out.find("stored in " + (tmp.path / "cache").string() + "/") != std::string::npos);
}
