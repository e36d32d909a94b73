// Whatever sits at a cache path is treated as data to check, never trusted: a directory, a FIFO
// or an 8 GB sparse file where an entry, a tuning record or the stats journal should be costs a
// warning and a recompile, never a crash, a hang or gigabytes of memory; `cache verify` reports
// such paths and `--delete` removes what it safely can.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include "cache/disk_cache.h"
#include "cache/maintenance.h"
#include "engine/tune.h"
#include "support.h"

using namespace jitfuse;
namespace fs = std::filesystem;

namespace {

const char* kGraph = R"({"name": "cached", "inputs": {"x": {"dtype": "f32", "shape": ["N"]}},
  "nodes": [{"name": "a", "op": "gelu", "inputs": ["x"]}], "outputs": ["a"]})";

// What can be put at a path instead of a file.
enum class Thing { empty_dir, full_dir, fifo, sparse };

const char* name(Thing t) {
  switch (t) {
    case Thing::empty_dir: return "an empty directory";
    case Thing::full_dir: return "a directory holding a file";
    case Thing::fifo: return "a FIFO";
    case Thing::sparse: return "an 8 GB sparse file";
  }
  return "?";
}

void put(Thing t, const fs::path& at) {
  fs::remove(at);
  switch (t) {
    case Thing::empty_dir: fs::create_directory(at); break;
    case Thing::full_dir:
      fs::create_directory(at);
      jf_test::write_file(at / "keep.txt", "someone's file");
      break;
    case Thing::fifo: REQUIRE(::mkfifo(at.c_str(), 0644) == 0); break;
    case Thing::sparse:
      jf_test::write_file(at, "");
      fs::resize_file(at, std::uintmax_t(8) << 30);  // no disk used
      break;
  }
}

// The one entry file in `dir`.
fs::path only_entry(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".jfk") found.push_back(e.path());
  }
  REQUIRE(found.size() == 1);
  return found[0];
}

// `jitfuse compile` of kGraph: bounded in time (a hang fails as exit 124) and in memory (2 GB,
// where reading the sparse file whole would need 8).
jf_test::CliRun compile(const fs::path& graph, const fs::path& cache) {
  return jf_test::run_cli("-v compile '" + graph.string() + "' --arch sm_80", cache,
                          "ulimit -v 2097152; timeout 120 ");
}

}  // namespace

TEST_CASE("a directory, FIFO or sparse file at an entry's path: compile warns, recompiles, replaces") {
  for (Thing thing : {Thing::empty_dir, Thing::full_dir, Thing::fifo, Thing::sparse}) {
    CAPTURE(std::string(name(thing)));
    jf_test::TempDir tmp;
    const fs::path cache = tmp.path / "cache", graph = tmp.path / "g.json";
    jf_test::write_file(graph, kGraph);
    REQUIRE(compile(graph, cache).code == 0);
    const fs::path entry = only_entry(cache);
    put(thing, entry);

    const auto start = std::chrono::steady_clock::now();
    const jf_test::CliRun r = compile(graph, cache);
    CHECK_MESSAGE(r.code == 0, r.out);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(30));
    CHECK(r.out.find("cache entry " + entry.string() + " is corrupt") != std::string::npos);
    CHECK(r.out.find("compiled by NVRTC") != std::string::npos);
    if (thing == Thing::full_dir) {
      // Never someone's files: it stays, and the write is skipped with a warning.
      CHECK(fs::exists(entry / "keep.txt"));
      CHECK(r.out.find("cannot write to the kernel cache") != std::string::npos);
      continue;
    }
    REQUIRE(fs::is_regular_file(entry));
    CHECK(parse_entry(jf_test::read_file(entry)).ok());
    CHECK(compile(graph, cache).out.find("cache: disk hit") != std::string::npos);
  }
}

TEST_CASE("the disk cache's lookup treats what is not an entry file as corrupt, at once") {
  for (Thing thing : {Thing::empty_dir, Thing::fifo, Thing::sparse}) {
    CAPTURE(std::string(name(thing)));
    jf_test::TempDir tmp;
    std::string file;
    {
      Engine e(EngineOptions{tmp.path, true, 0});
      CompileOptions o;
      o.arch = "sm_80";
      auto b = e.build(*parse_graph(kGraph), o);
      REQUIRE(b.ok());
      file = b->kernels[0].cache_file;
    }
    put(thing, file);
    Engine e(EngineOptions{tmp.path, true, 0});
    CompileOptions o;
    o.arch = "sm_80";
    auto b = e.build(*parse_graph(kGraph), o);
    REQUIRE(b.ok());
    CHECK(b->kernels[0].cache_status == "compiled");
    CHECK(e.stats().corrupt_entries == 1);
    CHECK(fs::is_regular_file(file));
  }
}

TEST_CASE("cache verify reports a directory, FIFO or huge file at an entry's path; --delete removes it") {
  for (Thing thing : {Thing::empty_dir, Thing::full_dir, Thing::fifo, Thing::sparse}) {
    CAPTURE(std::string(name(thing)));
    jf_test::TempDir tmp;
    const fs::path cache = tmp.path / "cache", graph = tmp.path / "g.json";
    jf_test::write_file(graph, kGraph);
    REQUIRE(compile(graph, cache).code == 0);
    const fs::path entry = only_entry(cache);
    put(thing, entry);

    const auto listed = list_entries(cache);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].path == entry);
    CHECK_FALSE(listed[0].problem.empty());
    const auto headers = list_entries(cache, false);  // what `cache ls` reads
    REQUIRE(headers.size() == 1);
    CHECK_FALSE(headers[0].problem.empty());

    const jf_test::CliRun verify = jf_test::run_cli("cache verify", cache, "timeout 60 ");
    CHECK(verify.code == 1);
    CHECK(verify.out.find("bad: " + entry.string() + ": ") != std::string::npos);
    CHECK(jf_test::run_cli("cache ls", cache, "timeout 60 ").code == 0);
    const jf_test::CliRun del = jf_test::run_cli("cache verify --delete", cache, "timeout 60 ");
    if (thing == Thing::full_dir) {
      CHECK(fs::exists(entry / "keep.txt"));
      CHECK(del.out.find("(removed)") == std::string::npos);
    } else {
      CHECK(del.code == 0);
      CHECK_FALSE(fs::exists(fs::symlink_status(entry)));
      CHECK(del.out.find("(removed)") != std::string::npos);
    }
  }
}

TEST_CASE("a directory, FIFO or huge file where a tuning record should be is an error, not a read") {
  for (Thing thing : {Thing::empty_dir, Thing::fifo, Thing::sparse}) {
    CAPTURE(std::string(name(thing)));
    jf_test::TempDir tmp;
    const std::string key = tune_key({"source"});
    fs::create_directories(tune_path(tmp.path, key).parent_path());
    put(thing, tune_path(tmp.path, key));
    auto r = load_tune_record(tmp.path, key);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::cache);
    CHECK(r.error().file == tune_path(tmp.path, key).string());
    if (thing == Thing::full_dir) continue;
    // tune writes its record over it.
    TuneRecord rec;
    rec.key = key;
    rec.gemm = "simt";
    REQUIRE(save_tune_record(tmp.path, rec).ok());
    auto again = load_tune_record(tmp.path, key);
    REQUIRE(again.ok());
    REQUIRE(again->has_value());
    CHECK((*again)->gemm == "simt");
  }
}

TEST_CASE("a FIFO or directory as the stats journal blocks nothing") {
  for (Thing thing : {Thing::empty_dir, Thing::fifo}) {
    CAPTURE(std::string(name(thing)));
    jf_test::TempDir tmp;
    const fs::path cache = tmp.path / "cache", graph = tmp.path / "g.json";
    jf_test::write_file(graph, kGraph);
    fs::create_directories(cache);
    put(thing, cache / "stats.log");
    // The engine appends its counters when it is destroyed, at exit.
    CHECK(compile(graph, cache).code == 0);
    const jf_test::CliRun stats = jf_test::run_cli("cache stats", cache, "timeout 60 ");
    CHECK(stats.code == 0);
    CHECK(stats.out.find("journal of 0 processes") != std::string::npos);
  }
}

TEST_CASE("cache clear removes what sits at entry paths, but not a directory's files") {
  jf_test::TempDir tmp;
  put(Thing::fifo, tmp.path / "a.sm80.nvrtc13-0.00.jfk");
  put(Thing::empty_dir, tmp.path / "b.sm80.nvrtc13-0.00.jfk");
  put(Thing::full_dir, tmp.path / "c.sm80.nvrtc13-0.00.jfk");
  auto n = clear(tmp.path);
  REQUIRE(n.ok());
  CHECK(*n == 2);
  CHECK_FALSE(fs::exists(fs::symlink_status(tmp.path / "a.sm80.nvrtc13-0.00.jfk")));
  CHECK_FALSE(fs::exists(tmp.path / "b.sm80.nvrtc13-0.00.jfk"));
  CHECK(fs::exists(tmp.path / "c.sm80.nvrtc13-0.00.jfk/keep.txt"));
}

TEST_CASE("the stats journal rotates past 1 MiB, and stats reads both halves") {
  jf_test::TempDir tmp;
  const fs::path log = tmp.path / "stats.log", old = tmp.path / "stats.log.1";
  std::string lines;
  for (int i = 0; i < 30000; ++i) lines += "1 1700000000 1 0 0 0 0.0 0.0\n";  // 870 KB
  jf_test::write_file(log, lines);
  EngineStats one;
  one.misses = 1;
  REQUIRE(append_stats(tmp.path, one).ok());
  CHECK_FALSE(fs::exists(old));  // under 1 MiB: one file
  CHECK(read_stats(tmp.path).processes == 30001);

  jf_test::write_file(log, lines + lines);  // 1.7 MB
  REQUIRE(append_stats(tmp.path, one).ok());
  CHECK(fs::exists(old));
  CHECK_FALSE(fs::exists(log));
  REQUIRE(append_stats(tmp.path, one).ok());
  CHECK(fs::file_size(log) < 100);
  CacheTotals t = read_stats(tmp.path);
  CHECK(t.processes == 60002);
  CHECK(t.memory_hits == 60000);
  CHECK(t.misses == 2);

  // The next rotation drops the oldest half: the journal stays within about 2 MiB.
  jf_test::write_file(log, lines + lines);
  REQUIRE(append_stats(tmp.path, one).ok());
  CHECK(read_stats(tmp.path).processes == 60001);
  CHECK(fs::file_size(old) < 2 * (1 << 20));

  REQUIRE(clear(tmp.path).ok());
  CHECK_FALSE(fs::exists(old));
  CHECK(read_stats(tmp.path).processes == 0);
}

TEST_CASE("JITFUSE_CACHE_DIR and XDG_CACHE_HOME set but empty count as unset, and -v says so") {
  jf_test::ScopedEnv on("JITFUSE_CACHE", std::nullopt);
  jf_test::ScopedEnv home("HOME", "/home/u");
  {
    jf_test::ScopedEnv d("JITFUSE_CACHE_DIR", "");
    jf_test::ScopedEnv x("XDG_CACHE_HOME", std::nullopt);
    CHECK(*default_cache_dir() == fs::path("/home/u/.cache/jitfuse"));
  }
  {
    jf_test::ScopedEnv d("JITFUSE_CACHE_DIR", "");
    jf_test::ScopedEnv x("XDG_CACHE_HOME", "");
    CHECK(*default_cache_dir() == fs::path("/home/u/.cache/jitfuse"));
  }
  jf_test::TempDir tmp;
  const jf_test::CliRun r = jf_test::run_cli(
      "-v cache ls", tmp.path, fmt::format("JITFUSE_CACHE_DIR= XDG_CACHE_HOME= HOME='{}' ", tmp.path.string()));
  CHECK(r.code == 0);
  CHECK(r.out.find("JITFUSE_CACHE_DIR and XDG_CACHE_HOME are set but empty") != std::string::npos);
  CHECK(r.out.find("in " + (tmp.path / ".cache/jitfuse").string()) != std::string::npos);
}

TEST_CASE("cache clear does what its help says: entries, temporaries, locks, tuning records, journal") {
  jf_test::TempDir tmp;
  const fs::path graph = tmp.path / "g.json", cache = tmp.path / "cache";
  jf_test::write_file(graph, kGraph);
  REQUIRE(compile(graph, cache).code == 0);
  jf_test::write_file(cache / ".x.jfk.tmp.host.1.0", "");
  fs::create_directories(cache / "locks");
  jf_test::write_file(cache / "locks" / "x.jfk.lock", "");
  TuneRecord rec;
  rec.key = tune_key({"source"});
  rec.gemm = "simt";
  REQUIRE(save_tune_record(cache, rec).ok());
  jf_test::write_file(cache / "stats.log.1", "1 1 0 0 1 0 0.0 0.0\n");
  jf_test::write_file(cache / "notes.txt", "not jitfuse's");

  const std::string help = jf_test::run_cli("cache clear --help", cache).out;
  for (const char* what : {"entry", "temporary", "lock", "tuning record", "stats journal"}) {
    CHECK_MESSAGE(help.find(what) != std::string::npos, what);
  }
  REQUIRE(jf_test::run_cli("cache clear", cache).code == 0);
  std::vector<std::string> left;
  for (const auto& e : fs::recursive_directory_iterator(cache)) left.push_back(e.path().filename().string());
  CHECK(left == std::vector<std::string>{"notes.txt"});
}
