// The kernel cache: memory and disk hits, corrupt entries, an unusable directory, the env
// switches, and what the key does and does not cover.
#include <doctest/doctest.h>

#include "cache/disk_cache.h"
#include "support.h"

using namespace jitfuse;

namespace {

// An elementwise graph: compiles in a fraction of a second.
const char* kGraph = R"({"name": "cached", "inputs": {"x": {"dtype": "f32", "shape": ["N"]}},
  "nodes": [{"name": "a", "op": "gelu", "inputs": ["x"]}], "outputs": ["a"]})";

CompileOptions sm80() {
  CompileOptions o;
  o.arch = "sm_80";
  return o;
}

KernelArtifact build_one(Engine& e, const std::string& json = kGraph, CompileOptions o = sm80()) {
  auto b = e.build(*parse_graph(json), o);
  REQUIRE(b.ok());
  REQUIRE(b->kernels.size() == 1);
  return b->kernels[0];
}

}  // namespace

TEST_CASE("compile, then memory hit, then disk hit from a new engine") {
  jf_test::TempDir dir;
  Engine a(EngineOptions{dir.path, true, 0});
  const KernelArtifact first = build_one(a);
  CHECK(first.cache_status == "compiled");
  CHECK(first.compile_ms > 0);
  CHECK(std::filesystem::exists(first.cache_file));
  CHECK(std::filesystem::path(first.cache_file).filename().string().starts_with("jf_cached_0.sm80.nvrtc"));
  CHECK(build_one(a).cache_status == "memory");
  Engine b(EngineOptions{dir.path, true, 0});
  const KernelArtifact again = build_one(b);
  CHECK(again.cache_status == "disk");
  CHECK(again.cubin == first.cubin);
  CHECK(again.ptx == first.ptx);
  CHECK(a.stats().misses == 1);
  CHECK(a.stats().memory_hits == 1);
  CHECK(b.stats().disk_hits == 1);
  // No temporary file is left behind.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    ++files;
    CHECK(e.path().filename().string()[0] != '.');
  }
  CHECK(files == 1);
}

TEST_CASE("a corrupt entry is reported, recompiled and replaced") {
  jf_test::TempDir dir;
  std::string path, good;
  {
    Engine e(EngineOptions{dir.path, true, 0});
    path = build_one(e).cache_file;
    good = jf_test::read_file(path);
  }
  struct Damage { const char* what; std::string bytes; };
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x5a;
  std::string version = good;
  version[8] = 99;
  const Damage damages[] = {{"truncated", good.substr(0, good.size() / 2)},
                            {"garbage", std::string(good.size(), 'x')},
                            {"zero bytes", ""},
                            {"one bit flipped", flipped},
                            {"wrong format version", version}};
  for (const Damage& d : damages) {
    CAPTURE(std::string(d.what));
    jf_test::write_file(path, d.bytes);
    Engine e(EngineOptions{dir.path, true, 0});
    const KernelArtifact k = build_one(e);
    CHECK(k.cache_status == "compiled");
    CHECK(e.stats().corrupt_entries == 1);
    CHECK(jf_test::read_file(path).size() == good.size());  // replaced by a good entry
    Engine after(EngineOptions{dir.path, true, 0});
    CHECK(build_one(after).cache_status == "disk");
  }
}

TEST_CASE("an entry for another key renamed into place is rejected") {
  jf_test::TempDir dir;
  Engine e(EngineOptions{dir.path, true, 0});
  const KernelArtifact a = build_one(e);
  CompileOptions other = sm80();
  other.arch = "sm_86";
  const KernelArtifact b = build_one(e, kGraph, other);
  std::filesystem::copy_file(b.cache_file, a.cache_file, std::filesystem::copy_options::overwrite_existing);
  Engine fresh(EngineOptions{dir.path, true, 0});
  CHECK(build_one(fresh).cache_status == "compiled");
  CHECK(fresh.stats().corrupt_entries == 1);
}

TEST_CASE("an unusable cache directory costs a warning, never a kernel") {
  jf_test::TempDir dir;
  const auto file = dir.path / "not-a-dir";
  jf_test::write_file(file, "x");
  Engine e(EngineOptions{file, true, 0});
  CHECK(build_one(e).cache_status == "compiled");
  Engine inside(EngineOptions{file / "sub", true, 0});
  CHECK(build_one(inside).cache_status == "compiled");
}

TEST_CASE("JITFUSE_CACHE=off and the directory variables") {
  jf_test::TempDir dir;
  {
    jf_test::ScopedEnv off("JITFUSE_CACHE", "off");
    CHECK_FALSE(default_cache_dir().has_value());
  }
  jf_test::ScopedEnv on("JITFUSE_CACHE", std::nullopt);
  {
    jf_test::ScopedEnv d("JITFUSE_CACHE_DIR", dir.path.string());
    CHECK(*default_cache_dir() == dir.path);
  }
  jf_test::ScopedEnv no_dir("JITFUSE_CACHE_DIR", std::nullopt);
  {
    jf_test::ScopedEnv x("XDG_CACHE_HOME", "/xdg");
    CHECK(*default_cache_dir() == std::filesystem::path("/xdg/jitfuse"));
  }
  jf_test::ScopedEnv no_xdg("XDG_CACHE_HOME", std::nullopt);
  jf_test::ScopedEnv home("HOME", "/home/u");
  CHECK(*default_cache_dir() == std::filesystem::path("/home/u/.cache/jitfuse"));
  {
    jf_test::ScopedEnv off("JITFUSE_CACHE", "off");
    Engine e;
    CHECK(e.cache_dir().empty());
    CHECK(build_one(e).cache_file.empty());
  }
}

TEST_CASE("the key covers what shapes the binary, and nothing else") {
  jf_test::TempDir dir;
  Engine e(EngineOptions{dir.path, false, 0});
  auto key = [&](const std::string& json, CompileOptions o) { return build_one(e, json, o).cache_key; };
  jf_test::GemmGraph g;
  const std::string base = key(g.json(), sm80());
  CompileOptions o = sm80();
  o.arch = "sm_90";
  const std::string sm90 = key(g.json(), o);
  o.arch = "sm_90a";
  CHECK(key(g.json(), o) != sm90);             // sm_90a is not sm_90
  CHECK(sm90 != base);
  o = sm80();
  o.math = MathMode::tf32x3;
  CHECK(key(g.json(), o) != base);             // math mode (f32)
  o = sm80();
  o.dims = {{"M", 128}};
  CHECK(key(g.json(), o) != base);             // a specialized dim
  jf_test::GemmGraph bf = g;
  bf.dtype = "bf16";
  CHECK(key(bf.json(), sm80()) != base);       // dtype
  std::string spaced = g.json();
  for (std::size_t p = 0; (p = spaced.find(", ", p)) != std::string::npos; p += 4) spaced.replace(p, 2, " ,\n ");
  CHECK(key(spaced, sm80()) == base);          // whitespace
  const std::string reordered = R"({"outputs": ["a"], "nodes": [{"inputs": ["x"], "op": "gelu", "name": "a"}],
    "inputs": {"x": {"shape": ["N"], "dtype": "f32"}}, "name": "cached"})";
  CHECK(key(reordered, sm80()) == key(kGraph, sm80()));  // key order
}
