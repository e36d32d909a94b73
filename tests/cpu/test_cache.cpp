// The kernel cache: memory and disk hits, corrupt entries, an unusable directory, the env
// switches, and what the key does and does not cover.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cerrno>

#include "cache/disk_cache.h"
#include "cache/maintenance.h"
#include "codegen/emit.h"
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
  CHECK(first.stored);
  CHECK(first.store_error.empty());
  CHECK(std::filesystem::exists(first.cache_file));
  CHECK(std::filesystem::path(first.cache_file).filename().string().starts_with("jf_cached_0.sm80.nvrtc"));
  CHECK(build_one(a).cache_status == "memory");
  Engine b(EngineOptions{dir.path, true, 0});
  const KernelArtifact again = build_one(b);
  CHECK(again.cache_status == "disk");
  CHECK_FALSE(again.stored);  // read, not written
  CHECK(again.cubin == first.cubin);
  CHECK(again.ptx == first.ptx);
  CHECK(a.stats().misses == 1);
  CHECK(a.stats().memory_hits == 1);
  CHECK(b.stats().disk_hits == 1);
  // One entry, and no temporary file left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path)) {
    entries += e.path().extension() == ".jfk";
    CHECK(e.path().filename().string()[0] != '.');
  }
  CHECK(entries == 1);
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
    auto replaced = parse_entry(jf_test::read_file(path));  // replaced by a good entry
    REQUIRE(replaced.ok());
    CHECK(replaced->entry.cubin == parse_entry(good)->entry.cubin);
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
  const KernelArtifact k = build_one(e);
  CHECK(k.cache_status == "compiled");
  // The artifact says the entry was not written, and why (the caller may print cache_file).
  CHECK_FALSE(k.stored);
  CHECK(k.store_error.find(file.string()) != std::string::npos);
  Engine inside(EngineOptions{file / "sub", true, 0});
  const KernelArtifact k2 = build_one(inside);
  CHECK(k2.cache_status == "compiled");
  CHECK_FALSE(k2.stored);
  CHECK_FALSE(k2.store_error.empty());
  Engine off(EngineOptions{file, false, 0});
  const KernelArtifact k3 = build_one(off);
  CHECK_FALSE(k3.stored);
  CHECK(k3.store_error.empty());  // nothing was tried
  CHECK(k3.cache_file.empty());
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

TEST_CASE("the key changes with a header byte, an option and the NVRTC version") {
  jf_test::GemmGraph g;
  auto typed = validate(g.graph());
  const Plan plan = plan_fusion(*typed, true);
  const Arch arch{90, true};
  auto src = emit_source(*typed, plan, 0, {arch, MathMode::ieee});
  REQUIRE(src.ok());
  const auto options = nvrtc_options(arch);
  const NvrtcVersion v{13, 0};
  const std::string base = make_key(*src, arch, options, v).digest;
  CHECK(make_key(*src, arch, options, v).digest == base);  // deterministic
  // One byte of one embedded header.
  std::vector<std::string> texts;
  for (const auto& f : embedded::files()) texts.emplace_back(f.text);
  texts.back().back() ^= 1;
  std::vector<embedded::File> changed;
  for (std::size_t i = 0; i < texts.size(); ++i) changed.push_back({embedded::files()[i].name, texts[i]});
  CHECK(make_key(*src, arch, options, v, changed).digest != base);
  // An option, the NVRTC version, the arch.
  auto more = options;
  more.push_back("-lineinfo");
  CHECK(make_key(*src, arch, more, v).digest != base);
  CHECK(make_key(*src, arch, options, NvrtcVersion{13, 1}).digest != base);
  CHECK(make_key(*src, Arch{90, false}, options, v).digest != base);
  // The generated source (anything the graph, dtype, math or dims changed).
  KernelSource other = *src;
  other.code += " ";
  CHECK(make_key(other, arch, options, v).digest != base);
  CHECK(make_key(*src, arch, options, NvrtcVersion{13, 1}).file_name.find("nvrtc13-1") != std::string::npos);
}

TEST_CASE("a full disk and a read-only directory cost a warning, never a kernel") {
  jf_test::TempDir dir;
  for (int err : {ENOSPC, EROFS}) {
    CAPTURE(err);
    inject_cache_write_fault(err);
    Engine e(EngineOptions{dir.path, true, 0});
    const KernelArtifact k = build_one(e);
    inject_cache_write_fault(0);
    CHECK(k.cache_status == "compiled");
    CHECK_FALSE(k.stored);
    CHECK(k.store_error.find("injected") != std::string::npos);
    CHECK_FALSE(k.cubin.empty());
    CHECK_FALSE(std::filesystem::exists(k.cache_file));
    for (const auto& f : std::filesystem::directory_iterator(dir.path)) {
      CHECK_MESSAGE(!f.path().filename().string().starts_with("."), "a temporary was left: " << f.path());
    }
  }
  // A real read-only directory, where permissions bind (not for root).
  if (::geteuid() != 0) {
    const auto ro = dir.path / "ro";
    std::filesystem::create_directories(ro);
    std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    Engine e(EngineOptions{ro, true, 0});
    CHECK(build_one(e).cache_status == "compiled");
    std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
  }
  // A real full disk, where a tiny tmpfs can be mounted (root in a container that allows it).
  const auto mnt = dir.path / "tiny";
  std::filesystem::create_directories(mnt);
  if (std::system(fmt::format("mount -t tmpfs -o size=12k tmpfs '{}' 2>/dev/null", mnt.string()).c_str()) == 0) {
    Engine e(EngineOptions{mnt, true, 0});
    CHECK(build_one(e).cache_status == "compiled");  // the entry (~16 KB) does not fit
    int leftovers = 0;
    for (const auto& f : std::filesystem::directory_iterator(mnt)) leftovers += f.path().filename().string()[0] == '.';
    CHECK(leftovers == 0);
    (void)std::system(fmt::format("umount '{}'", mnt.string()).c_str());
  } else {
    MESSAGE("no tmpfs mount here: the full-disk case ran with a simulated ENOSPC only");
  }
}

TEST_CASE("the cache stays under its size bound, evicting the least recently used") {
  jf_test::TempDir dir;
  auto graph = [](int i) {
    return fmt::format(R"({{"name": "lru{}", "inputs": {{"x": {{"dtype": "f32", "shape": ["N"]}}}},
      "nodes": [{{"name": "a", "op": "gelu", "inputs": ["x"]}}], "outputs": ["a"]}})", i);
  };
  std::string first;
  std::uint64_t entry_size = 0;
  {
    Engine e(EngineOptions{dir.path, true, 0});
    first = build_one(e, graph(0)).cache_file;
    entry_size = std::filesystem::file_size(first);
  }
  // Room for about three entries.
  jf_test::ScopedEnv max("JITFUSE_CACHE_MAX_BYTES", std::to_string(entry_size * 3 + entry_size / 2));
  for (int i = 1; i < 6; ++i) {
    // Mark entry 0 used between stores, so that it is never the least recently used.
    ::sleep(1);  // stamps have one-second resolution in the LRU order
    Engine reader(EngineOptions{dir.path, true, 0});
    CHECK(build_one(reader, graph(0)).cache_status == "disk");
    Engine e(EngineOptions{dir.path, true, 0});
    build_one(e, graph(i));
  }
  std::uint64_t total = 0;
  int entries = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path)) {
    if (f.path().extension() == ".jfk") {
      total += f.file_size();
      ++entries;
    }
  }
  CHECK(total <= entry_size * 3 + entry_size / 2);
  CHECK(entries >= 2);
  CHECK(std::filesystem::exists(first));  // recently used: kept
  CHECK(parse_byte_count("512M") == std::uint64_t(512) << 20);
  CHECK(parse_byte_count("2G") == std::uint64_t(2) << 30);
  CHECK_FALSE(parse_byte_count("lots").has_value());
}

TEST_CASE("prune sweeps temporaries of dead writers and keeps live ones") {
  jf_test::TempDir dir;
  const auto mine = temp_path(dir.path / "x.jfk");  // this process: alive
  jf_test::write_file(mine, "partial");
  // A dead writer on this host: a pid that does not exist.
  std::string dead = mine.filename().string();
  dead = dead.substr(0, dead.rfind('.', dead.rfind('.') - 1)) + ".999999999.0";
  jf_test::write_file(dir.path / dead, "partial");
  auto r = prune(dir.path, 1 << 30);
  REQUIRE(r.ok());
  CHECK(r->temporaries == 1);
  CHECK(std::filesystem::exists(mine));
  CHECK_FALSE(std::filesystem::exists(dir.path / dead));
}

TEST_CASE("engine counters: hits, misses, compile time, bytes, and the journal") {
  jf_test::TempDir dir;
  {
    Engine a(EngineOptions{dir.path, true, 0});
    build_one(a);
    CHECK(a.stats().bytes_written > 0);
  }
  Engine b(EngineOptions{dir.path, true, 0});
  build_one(b);
  build_one(b);
  const EngineStats s = b.stats();
  CHECK(s.disk_hits == 1);
  CHECK(s.memory_hits == 1);
  CHECK(s.bytes_read > 0);
  CHECK(s.saved_ms > 0);  // what NVRTC took for the entry, recorded in it
  const CacheTotals t = read_stats(dir.path);
  CHECK(t.processes == 1);  // `a` wrote its line when it was destroyed
  CHECK(t.misses == 1);
}

TEST_CASE("an entry records the dims baked in and the math, and ls reads them back") {
  const unsigned char digest[16] = {1, 2, 3};
  CacheEntry e{"cubin", "ptx", EntryInfo{"g", "jf_g_0", "sm_80", "nvrtc13-0", 1700000000, 12.5,
                                         {{"M", 2048}, {"N", 64}}, "tf32x3"}};
  const std::string bytes = serialize_entry(digest, e);
  auto info = parse_entry_info(bytes.substr(0, kEntryInfoBytes));
  REQUIRE(info.ok());
  CHECK(info->dims == std::map<std::string, std::int64_t>{{"M", 2048}, {"N", 64}});
  CHECK(info->math == "tf32x3");
  CHECK(info->created == 1700000000);
  auto whole = parse_entry(bytes);
  REQUIRE(whole.ok());
  CHECK(whole->entry.info.dims == e.info.dims);
  CHECK(whole->entry.info.math == "tf32x3");
  // Through the engine: an f32 GEMM's entry says its math and dims; an elementwise one no math.
  jf_test::TempDir dir;
  Engine engine(EngineOptions{dir.path, true, 0});
  CompileOptions o = sm80();
  o.dims = {{"M", 8}};
  o.gemm = "simt";
  auto b = engine.build(jf_test::GemmGraph{}.graph(), o);
  REQUIRE(b.ok());
  CHECK(b->kernels[0].math == "ieee");
  build_one(engine);
  std::map<std::string, EntryInfo> by_kernel;
  for (const ListedEntry& l : list_entries(dir.path, false)) by_kernel[l.info.graph] = l.info;
  REQUIRE(by_kernel.size() == 2);
  CHECK(by_kernel["g"].math == "ieee");
  CHECK(by_kernel["g"].dims == std::map<std::string, std::int64_t>{{"M", 8}});
  CHECK(by_kernel["cached"].math.empty());
  CHECK(by_kernel["cached"].dims.empty());
}
