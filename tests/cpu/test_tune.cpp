// GEMM choices and `jitfuse tune` records: parsing, and a record changing later compiles.
#include <doctest/doctest.h>

#include <fstream>

#include "codegen/config.h"
#include "codegen/emit.h"
#include "engine/tune.h"
#include "support.h"

using namespace jitfuse;

namespace {

std::string example_bf16() {
  return jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu_bf16.json");
}

CompileOptions options(std::int64_t m) {
  CompileOptions o;
  o.arch = "sm_90a";
  o.dims = {{"M", m}};
  return o;
}

}  // namespace

TEST_CASE("gemm choices parse, and bad ones name the problem") {
  CHECK(parse_gemm_choice("")->text() == "auto");
  CHECK(parse_gemm_choice("auto")->text() == "auto");
  CHECK(parse_gemm_choice("mma")->text() == "mma");
  CHECK(parse_gemm_choice("wgmma,cluster=2")->text() == "wgmma,cluster=2");
  CHECK(parse_gemm_choice("wgmma,persistent=0")->text() == "wgmma,persistent=0");
  CHECK(parse_gemm_choice("wgmma,persistent=1,cluster=1")->text() == "wgmma,cluster=1,persistent=1");
  CHECK_FALSE(parse_gemm_choice("wgmma,persistent=0")->is_auto());
  CHECK(parse_gemm_choice("wgmma,pingpong=1,cluster=1")->text() == "wgmma,cluster=1,pingpong=1");
  CHECK(parse_gemm_choice("wgmma,pingpong=0")->text() == "wgmma,pingpong=0");
  CHECK_FALSE(parse_gemm_choice("wgmma,pingpong=0")->is_auto());
  CHECK(parse_gemm_choice("wgmma,bn=32,split=2")->text() == "wgmma,split=2,bn=32");
  CHECK(parse_gemm_choice("wgmma,handoff=full,cluster=1")->text() == "wgmma,cluster=1,handoff=full");
  CHECK(parse_gemm_choice("wgmma,handoff=half")->text() == "wgmma,handoff=half");
  CHECK(parse_gemm_choice("wgmma,handoff=0")->text() == "wgmma,handoff=0");
  CHECK_FALSE(parse_gemm_choice("wgmma,handoff=0")->is_auto());
  CHECK(parse_gemm_choice("wgmma,streamk=0,cluster=1")->text() == "wgmma,cluster=1,streamk=0");
  CHECK(parse_gemm_choice("wgmma,streamk=1")->text() == "wgmma,streamk=1");
  CHECK_FALSE(parse_gemm_choice("wgmma,streamk=0")->is_auto());
  CHECK(parse_gemm_choice("wgmma,cluster=2n")->text() == "wgmma,cluster=2n");
  CHECK(parse_gemm_choice("wgmma,tile=256x128,cluster=2x2")->text() == "wgmma,cluster=2x2,tile=256x128");
  CHECK(parse_gemm_choice("wgmma,tile=128x256")->text() == "wgmma,tile=128x256");
  CHECK_FALSE(parse_gemm_choice("wgmma,tile=128x256")->is_auto());
  for (const char* bad : {"fast", "mma,cluster=2", "wgmma,cluster=3", "auto,cluster=1", "wgmma,",
                          "wgmma,persistent=2", "wgmma,cluster=1,cluster=2", "mma,persistent=1",
                          "wgmma,pingpong=2", "wgmma,pingpong=1,pingpong=0", "wgmma,bn=48",
                          "wgmma,handoff=1", "wgmma,handoff=half,handoff=full", "wgmma,streamk=2",
                          "wgmma,streamk=0,streamk=1", "mma,streamk=0", "wgmma,cluster=2y",
                          "wgmma,cluster=2n,cluster=2x2", "wgmma,tile=256x256", "mma,tile=256x128"}) {
    CAPTURE(bad);
    auto c = parse_gemm_choice(bad);
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == ErrorCode::bad_option);
    CHECK(c.error().message.find(bad) != std::string::npos);
  }
}

TEST_CASE("an explicit gemm choice reaches the generated source") {
  Engine engine(EngineOptions{std::nullopt, false, 0});
  auto graph = parse_graph(example_bf16());
  REQUIRE(graph.ok());
  CompileOptions o = options(2048);
  auto heuristic = engine.build(*graph, o);
  REQUIRE(heuristic.ok());
  CHECK(heuristic->kernels[0].source.find("gemm_wgmma.cu") != std::string::npos);
  CHECK(heuristic->kernels[0].source.find("clusters of 2") != std::string::npos);
  o.gemm = "wgmma,cluster=1";
  auto one = engine.build(*graph, o);
  REQUIRE(one.ok());
  CHECK(one->kernels[0].source.find("clusters of 1") != std::string::npos);
  CHECK(heuristic->kernels[0].source.find("clusters of 2, persistent") != std::string::npos);
  o.gemm = "wgmma,persistent=0";
  auto one_tile = engine.build(*graph, o);
  REQUIRE(one_tile.ok());
  CHECK(one_tile->kernels[0].source.find("clusters of 2;") != std::string::npos);
  // Stream-K: off by default; asked for, its define and scratch pointers are in the source.
  CHECK(heuristic->kernels[0].source.find("JF_STREAM_K") == std::string::npos);
  CHECK(heuristic->kernels[0].source.find("sk_part") == std::string::npos);
  o.gemm = "wgmma,streamk=1";
  auto sk = engine.build(*graph, o);
  REQUIRE(sk.ok());
  CHECK(sk->kernels[0].source.find("#define JF_STREAM_K 1") != std::string::npos);
  CHECK(sk->kernels[0].source.find("float* __restrict__ sk_part;") != std::string::npos);
  CHECK(sk->kernels[0].source.find("unsigned* __restrict__ sk_flags;") != std::string::npos);
  CHECK(sk->kernels[0].source.find("clusters of 2, persistent, stream-K;") != std::string::npos);
  CHECK(sk->kernels[0].cache_key != heuristic->kernels[0].cache_key);
  o.gemm = "mma";
  auto mma = engine.build(*graph, o);
  REQUIRE(mma.ok());
  CHECK(mma->kernels[0].source.find("gemm_mma.cu") != std::string::npos);
  CHECK(mma->kernels[0].cache_key != heuristic->kernels[0].cache_key);
}

TEST_CASE("a tune record changes later compiles of exactly its problem, and nothing else") {
  jf_test::TempDir dir;
  Engine engine(EngineOptions{dir.path, true, 0});
  auto graph = parse_graph(example_bf16());
  REQUIRE(graph.ok());
  auto untuned = engine.build(*graph, options(2048));
  REQUIRE(untuned.ok());
  CHECK(untuned->tuned_gemm.empty());
  const std::string key = untuned->tune_key;
  REQUIRE(key.size() == 32);
  TuneRecord r;
  r.key = key;
  r.graph = "linear_scale_hardtanh_gelu";
  r.arch = "sm_90a";
  r.math = "ieee";
  r.gemm = "wgmma,cluster=1";
  auto saved = save_tune_record(dir.path, r);
  REQUIRE(saved.ok());
  CHECK(std::filesystem::exists(*saved));

  auto tuned = engine.build(*graph, options(2048));
  REQUIRE(tuned.ok());
  CHECK(tuned->tuned_gemm == "wgmma,cluster=1");
  CHECK(tuned->kernels[0].source.find("clusters of 1") != std::string::npos);

  // Another M is another problem: the heuristic's clusters of 2.
  auto other = engine.build(*graph, options(1024));
  REQUIRE(other.ok());
  CHECK(other->tuned_gemm.empty());
  CHECK(other->kernels[0].source.find("clusters of 2") != std::string::npos);

  // An explicit choice wins over the record.
  CompileOptions explicit_choice = options(2048);
  explicit_choice.gemm = "wgmma,cluster=2";
  auto chosen = engine.build(*graph, explicit_choice);
  REQUIRE(chosen.ok());
  CHECK(chosen->tuned_gemm.empty());
  CHECK(chosen->kernels[0].source.find("clusters of 2") != std::string::npos);

  // A corrupt record costs a warning, never a kernel.
  std::ofstream(*saved) << "{ not json";
  Engine fresh(EngineOptions{dir.path, true, 0});
  auto after = fresh.build(*graph, options(2048));
  REQUIRE(after.ok());
  CHECK(after->tuned_gemm.empty());
  auto loaded = load_tune_record(dir.path, key);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.error().file == saved->string());
}

TEST_CASE("math auto: bf16x3 (large) or tf32x3 (small) where the wgmma kernel runs them, ieee elsewhere") {
  Engine engine(EngineOptions{std::nullopt, false, 0});
  auto graph = parse_graph(jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json"));
  REQUIRE(graph.ok());
  CompileOptions o = options(2048);
  REQUIRE(o.math == MathMode::automatic);  // the default
  auto big = engine.build(*graph, o);
  REQUIRE(big.ok());
  CHECK(big->math == MathMode::bf16x3);
  CHECK(big->kernels[0].source.find("gemm_wgmma.cu (JF_MMA_BF16X3)") != std::string::npos);
  CHECK(big->kernels[0].source.find("math bf16x3") != std::string::npos);
  // M left symbolic: it may be small at run time, and bf16x3's scratch grows with it: tf32x3.
  CompileOptions open = o;
  open.dims.clear();
  auto symbolic = engine.build(*graph, open);
  REQUIRE(symbolic.ok());
  CHECK(symbolic->math == MathMode::tf32x3);

  // M = 128: too few 128x128 tiles for the large wgmma config, too many 64x64 ones (256) for the
  // small one.
  auto mid = engine.build(*graph, options(128));
  REQUIRE(mid.ok());
  CHECK(mid->math == MathMode::ieee);
  CHECK(mid->kernels[0].source.find("gemm_simt.cu") != std::string::npos);
  // M = 64: 128 tiles of 64x64, the small wgmma config.
  auto small = engine.build(*graph, options(64));
  REQUIRE(small.ok());
  CHECK(small->math == MathMode::tf32x3);
  CHECK(small->kernels[0].source.find("gemm_wgmma.cu (JF_MMA_TF32X3) 64x64x32 tiles") != std::string::npos);

  CompileOptions ampere = options(2048);
  ampere.arch = "sm_80";
  auto a100 = engine.build(*graph, ampere);
  REQUIRE(a100.ok());
  CHECK(a100->math == MathMode::ieee);

  CompileOptions ieee = options(2048);
  ieee.math = MathMode::ieee;
  auto exact = engine.build(*graph, ieee);
  REQUIRE(exact.ok());
  CHECK(exact->math == MathMode::ieee);
  CHECK(exact->kernels[0].source.find("gemm_simt.cu") != std::string::npos);

  CHECK(parse_math_mode("auto") == MathMode::automatic);
  CHECK(to_string(MathMode::automatic) == "auto");
}

TEST_CASE("the wgmma config follows the problem's size on sm_90a") {
  const Arch hopper = *parse_arch("sm_90a");
  // 128x1024 is 32 tiles of 64x64: the small, latency-bound config, f32 included (auto math
  // resolves to tf32x3 there), in 64x32 tiles (64 of them: still one wave).
  const GemmShape small{128, 1024, 512};
  for (DType dt : {DType::bf16, DType::f32}) {
    const MathMode math = dt == DType::f32 ? MathMode::tf32x3 : MathMode::ieee;
    const GemmConfig c = choose_gemm_config(dt, math, false, true, hopper, small);
    CAPTURE(c.describe());
    CHECK(c.tmpl == GemmTemplate::wgmma);
    CHECK(c.bm == 64);
    CHECK(c.bn == 32);
    CHECK(c.consumers == 1);
    CHECK(c.threads == 256);
    CHECK(c.sum_ktiles == (dt == DType::f32 ? 1 : 0));
    CHECK(c.split_k == (dt == DType::f32 ? 2 : 1));  // tf32x3: a cluster of 2 a tile
  }
  // 64x32 tiles would be more than a wave (65 to 128 tiles of 64x64): 64x64.
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {512, 1024, 512}).bn == 64);
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {512, 1024, 512}).split_k == 1);
  CHECK(choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {512, 1024, 512}).split_k == 1);
  GemmChoice wide;
  wide.tmpl = GemmTemplate::wgmma;
  wide.small_bn = 64;
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, small, wide).bn == 64);
  // K unknown, or too few k-tiles: no split; an explicit choice wins.
  CHECK(choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {128, 1024, std::nullopt}).split_k == 1);
  CHECK(choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {128, 1024, 96}).split_k == 1);
  GemmChoice split8;
  split8.tmpl = GemmTemplate::wgmma;
  split8.split_k = 8;
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, small, split8).split_k == 8);
  CHECK(wgmma_tf32x3_applies(false, true, hopper, small));
  // Mid-sized: neither small nor filling the GPU with 128x256 tiles; mma.sync.
  const GemmShape mid{512, 2048, 1024};
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, mid).tmpl == GemmTemplate::mma);
  CHECK_FALSE(wgmma_tf32x3_applies(false, true, hopper, mid));
  // Large: 128x256 tiles, two consumer warpgroups, CTA pairs, persistent.
  const GemmConfig big = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192});
  CHECK(big.bm == 128);
  CHECK(big.bn == 256);
  CHECK(big.cluster_m == 2);
  CHECK(big.cluster_n == 1);
  CHECK(big.persistent);
  // cuBLAS's shape: 256x128 tiles, CTA pairs along N sharing A; 2x2 clusters; and what they do
  // not go with (tf32x3's tiles, a single row of tiles).
  GemmChoice tall;
  tall.tmpl = GemmTemplate::wgmma;
  tall.tile_m = 256;
  tall.cluster_m = 1;
  tall.cluster_n = 2;
  const GemmConfig t = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, tall);
  CHECK(t.bm == 256);
  CHECK(t.bn == 128);
  CHECK(t.cluster_m == 1);
  CHECK(t.cluster_n == 2);
  CHECK(t.smem_bytes == big.smem_bytes);
  CHECK(t.note.find("pairs along N sharing A") != std::string::npos);
  tall.cluster_m = 2;
  const GemmConfig q = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, tall);
  CHECK(q.cluster_m * q.cluster_n == 4);
  CHECK(q.describe().find("clusters of 2x2") != std::string::npos);
  const GemmConfig one_col = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 100, 8192}, tall);
  CHECK(one_col.cluster_n == 1);
  const GemmConfig t3 = choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {2048, 8192, 8192}, tall);
  CHECK(t3.bm == 128);
  CHECK(t3.note.find("tile=256x128 not applied") != std::string::npos);
  // Ping-pong: 128x128 tiles, one a consumer warpgroup, 6 stages, always persistent; not for
  // tf32x3 (the cooperative kernel, with a note saying so).
  GemmChoice pp;
  pp.tmpl = GemmTemplate::wgmma;
  pp.pingpong = 1;
  pp.persistent = 0;
  const GemmConfig ping = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, pp);
  CHECK(ping.pingpong);
  CHECK(ping.bn == 128);
  CHECK(ping.stages == 6);
  CHECK(ping.persistent);
  CHECK(ping.note.find("persistent=0 not applied") != std::string::npos);
  CHECK(ping.smem_bytes == 6 * 256 * 128 + 2 * 8192 + 2048);
  const GemmConfig ping3 = choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {2048, 8192, 8192}, pp);
  CHECK_FALSE(ping3.pingpong);
  CHECK(ping3.note.find("pingpong=1 not applied") != std::string::npos);
  // Hand-off: half the columns (a 64 KB buffer) with 3 stages of 48 KB, or all of them (128 KB)
  // with 4 stages of 24 KB (64-byte rows); both fit 227 KB; not for tf32x3 or a small problem's
  // config (asking for it gets the large one).
  GemmChoice ho;
  ho.tmpl = GemmTemplate::wgmma;
  ho.handoff = 1;
  const GemmConfig half = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, ho);
  CHECK(half.handoff == 128);
  CHECK(half.stages == 3);
  CHECK(half.bk == 64);
  CHECK(half.smem_bytes == 3 * 384 * 128 + 128 * 128 * 4 + 2 * 8192 + 2048);
  ho.handoff = 2;
  const GemmConfig full = choose_gemm_config(DType::f32, MathMode::tf32, false, true, hopper, {2048, 8192, 8192}, ho);
  CHECK(full.handoff == 256);
  CHECK(full.stages == 4);
  CHECK(full.bk == 16);
  CHECK(full.smem_bytes == 4 * 384 * 64 + 128 * 256 * 4 + 2048);
  CHECK(full.smem_bytes <= 227 * 1024);
  CHECK(full.describe().find("hand-off of 256 columns") != std::string::npos);
  const GemmConfig ho3 = choose_gemm_config(DType::f32, MathMode::tf32x3, false, true, hopper, {2048, 8192, 8192}, ho);
  CHECK(ho3.handoff == 0);
  CHECK(ho3.note.find("handoff=full not applied") != std::string::npos);
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, small, ho).bn == 256);
  ho.handoff = 1;
  ho.stream_k = 1;  // the hand-off's epilogue warps assume whole tiles
  const GemmConfig ho_sk = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, ho);
  CHECK(ho_sk.handoff == 128);
  CHECK_FALSE(ho_sk.stream_k);
  CHECK(ho_sk.note.find("streamk=1 not applied") != std::string::npos);
  // Stream-K: off by default; asked for, on the persistent grid for every dtype and mode
  // (tf32x3 included); not for a small problem or a grid of one tile a CTA, and an impossible
  // ask says so.
  GemmChoice sk1;
  sk1.tmpl = GemmTemplate::wgmma;
  sk1.stream_k = 1;
  for (DType dt : {DType::bf16, DType::f16, DType::f32}) {
    for (MathMode math : {MathMode::ieee, MathMode::tf32, MathMode::tf32x3}) {
      if (dt != DType::f32 && math != MathMode::ieee) continue;
      if (dt == DType::f32 && math == MathMode::ieee) continue;  // SIMT
      CHECK_FALSE(choose_gemm_config(dt, math, false, true, hopper, {2048, 8192, 8192}).stream_k);
      const GemmConfig c = choose_gemm_config(dt, math, false, true, hopper, {2048, 8192, 8192}, sk1);
      CAPTURE(c.describe());
      CHECK(c.persistent);
      CHECK(c.stream_k);
      CHECK(c.describe().find(", stream-K") != std::string::npos);
    }
  }
  const GemmConfig sk_small = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, small, sk1);
  CHECK_FALSE(sk_small.stream_k);
  CHECK(sk_small.note.find("streamk=1 not applied") != std::string::npos);
  sk1.persistent = 0;
  const GemmConfig sk_tiles = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, sk1);
  CHECK_FALSE(sk_tiles.stream_k);
  CHECK(sk_tiles.note.find("streamk=1 not applied") != std::string::npos);
  // Math bf16x3: the large config with bf16 stages, always persistent (the kernel's grid
  // barrier), any shape; settings that do not go with it are left out with a note; elsewhere
  // (no sm_90a, mma asked for) tf32x3, said so.
  for (const GemmShape& shape : {GemmShape{2048, 8192, 8192}, small, GemmShape{77, 8, 64}}) {
    const GemmConfig x3 = choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, hopper, shape);
    CAPTURE(x3.describe());
    CHECK(x3.x3);
    CHECK(x3.mma_macro == "JF_MMA_BF16X3");
    CHECK(x3.bm == 128);
    CHECK(x3.bn == 256);
    CHECK(x3.bk == 64);
    CHECK(x3.persistent);
    CHECK(x3.smem_bytes == 4 * 384 * 128 + 2 * 8192 + 2048);
    CHECK(x3.describe().find("bf16 halves split first") != std::string::npos);
  }
  GemmChoice x3_ask;
  x3_ask.tmpl = GemmTemplate::wgmma;
  x3_ask.persistent = 0;
  x3_ask.stream_k = 1;
  x3_ask.pingpong = 1;
  const GemmConfig x3_asked = choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, hopper, {2048, 8192, 8192}, x3_ask);
  CHECK(x3_asked.x3);
  CHECK(x3_asked.persistent);
  CHECK_FALSE(x3_asked.stream_k);
  CHECK_FALSE(x3_asked.pingpong);
  CHECK(x3_asked.note.find("persistent=0 not applied: not with math bf16x3") != std::string::npos);
  CHECK(x3_asked.note.find("streamk=1 not applied") != std::string::npos);
  const GemmConfig x3_ampere = choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, *parse_arch("sm_80"), {2048, 8192, 8192});
  CHECK_FALSE(x3_ampere.x3);
  CHECK(x3_ampere.mma_macro == "JF_MMA_TF32X3");
  CHECK(x3_ampere.note.find("math bf16x3 needs the sm_90a wgmma kernel (wgmma needs sm_90a, not sm_80): tf32x3 instead") != std::string::npos);
  GemmChoice x3_mma;
  x3_mma.tmpl = GemmTemplate::mma;
  const GemmConfig x3_m = choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, hopper, {2048, 8192, 8192}, x3_mma);
  CHECK(x3_m.tmpl == GemmTemplate::mma);
  CHECK(x3_m.mma_macro == "JF_MMA_TF32X3");
  CHECK(x3_m.note.find("(mma was asked for): tf32x3 instead") != std::string::npos);
  // Its scratch: rows of K rounded up to 8 bf16, hi then lo, regions 256-byte aligned.
  const X3Layout xl = x3_layout(100, 30, 37);
  CHECK(xl.kp == 40);
  CHECK(xl.a_offset == 256);
  CHECK(xl.b_offset == 256 + (2 * 100 * 40 * 2 + 255) / 256 * 256);
  CHECK(xl.bytes == xl.b_offset + (2 * 30 * 40 * 2 + 255) / 256 * 256);
  sk1.persistent = -1;
  sk1.pingpong = 1;
  const GemmConfig sk_ping = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {2048, 8192, 8192}, sk1);
  CHECK(sk_ping.pingpong);
  CHECK_FALSE(sk_ping.stream_k);
  // Asking for pairs or persistence on a small problem gets the large config.
  GemmChoice pairs;
  pairs.tmpl = GemmTemplate::wgmma;
  pairs.cluster_m = 2;
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, small, pairs).bn == 256);
  // Unknown M: the large config.
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, hopper, {std::nullopt, 8192, 8192}).bn == 256);
}
