// Requests a kernel does not honour (a --gemm template or setting, math bf16x3): each is recorded
// with its reason, reaches KernelArtifact::not_applied, and the CLI warns about it.
#include <doctest/doctest.h>

#include "cli_support.h"
#include "codegen/config.h"

using namespace jitfuse;

namespace {

const Arch kAmpere{80, false};
const Arch kHopper{90, true};
const GemmShape kLarge{2048, 8192, 8192};

GemmChoice choice(const char* text) {
  auto c = parse_gemm_choice(text);
  REQUIRE(c.ok());
  return *c;
}

}  // namespace

TEST_CASE("gemm requests: what the config does not honour is listed, with why") {
  // The heuristic asks for nothing, so nothing is missed.
  CHECK(choose_gemm_config(DType::f32, MathMode::ieee, false, true, kAmpere, kLarge).not_applied.empty());
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, false, true, kHopper, kLarge).not_applied.empty());
  // A template the arch lacks: falls back, and says so.
  const GemmConfig no_wgmma =
      choose_gemm_config(DType::bf16, MathMode::ieee, false, true, kAmpere, kLarge, choice("wgmma"));
  CHECK(no_wgmma.tmpl == GemmTemplate::mma);
  REQUIRE(no_wgmma.not_applied.size() == 1);
  CHECK(no_wgmma.not_applied[0].find("sm_80") != std::string::npos);
  CHECK(no_wgmma.note.find(no_wgmma.not_applied[0]) != std::string::npos);  // explain says it too
  // A template B's layout rules out.
  CHECK(choose_gemm_config(DType::bf16, MathMode::ieee, true, true, kHopper, kLarge, choice("wgmma"))
            .not_applied.size() == 1);
  // Settings that do not apply to the problem.
  const GemmConfig settings = choose_gemm_config(DType::bf16, MathMode::ieee, false, true, kHopper, kLarge,
                                                 choice("wgmma,bn=32,split=2"));
  CHECK(settings.tmpl == GemmTemplate::wgmma);
  CHECK(settings.not_applied.size() == 2);
  // math bf16x3 off the wgmma kernel.
  const GemmConfig x3 = choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, kAmpere, kLarge);
  REQUIRE(x3.not_applied.size() == 1);
  CHECK(x3.not_applied[0].find("bf16x3") != std::string::npos);
  // and settings math bf16x3 drops.
  CHECK(choose_gemm_config(DType::f32, MathMode::bf16x3, false, true, kHopper, kLarge, choice("wgmma,persistent=0"))
            .not_applied.size() == 1);
}

TEST_CASE("gemm requests: the build's kernels carry them") {
  Engine engine(EngineOptions{std::nullopt, false, 0});
  jf_test::GemmGraph g;
  g.dtype = "bf16";
  CompileOptions o;
  o.arch = "sm_80";
  o.dims = {{"M", 64}};
  auto plain = engine.build(g.graph(), o);
  REQUIRE(plain.ok());
  CHECK(plain->kernels[0].not_applied.empty());
  o.gemm = "wgmma";
  auto asked = engine.build(g.graph(), o);
  REQUIRE(asked.ok());
  REQUIRE(asked->kernels[0].not_applied.size() == 1);
  CHECK(asked->kernels[0].not_applied[0].find("wgmma") != std::string::npos);
}

TEST_CASE("gemm requests: compile and run warn on stderr about a fallback") {
  jf_test::TempDir tmp;
  const std::string ex = jf_test::example_graph();
  const auto plain = jf_test::cli_apart("compile " + ex + " --arch sm_80 --dims M=64 --gemm simt", tmp.path);
  CHECK(plain.code == 0);
  CHECK(plain.err.empty());
  for (const char* extra : {"--gemm wgmma", "--gemm wgmma,cluster=2", "--math bf16x3 --gemm auto"}) {
    CAPTURE(extra);
    const auto r = jf_test::cli_apart(fmt::format("compile {} --arch sm_80 --dims M=64 {}", ex, extra), tmp.path);
    CHECK(r.code == 0);  // the kernel is built, only not as asked
    CHECK(r.err.find("warning") != std::string::npos);
    CHECK(r.err.find("jf_linear_scale_hardtanh_gelu_0") != std::string::npos);
  }
}
