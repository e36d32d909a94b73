// `jitfuse run`'s checks that come before any GPU work: inputs, output paths, and the driver.
#include <doctest/doctest.h>
#include <unistd.h>

#include "cli_support.h"
#include "cuda/libcuda.h"
#include "io/npy.h"

namespace {

using jf_test::cli_apart;

bool has_driver() { return jitfuse::cu::api().ok(); }

// An f32 .npy file of `shape`, zeros.
std::string npy(const std::filesystem::path& path, std::vector<std::int64_t> shape) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  jitfuse::io::NpyArray a{"<f4", shape, std::vector<std::byte>(std::size_t(n) * 4)};
  REQUIRE(jitfuse::io::write_npy(path, a).ok());
  return path.string();
}

}  // namespace

TEST_CASE("cli run: an empty .npy input is rejected before any work, naming it and its shape") {
  jf_test::TempDir tmp;
  const std::string empty = npy(tmp.path / "empty.npy", {0, 8192});
  const auto r = cli_apart("run " + jf_test::example_graph() + " --input x=" + empty + " --random 1", tmp.path);
  CHECK(r.code == 2);
  CHECK(r.err.rfind("jitfuse: error: ", 0) == 0);
  CHECK(r.err.find(empty) != std::string::npos);
  CHECK(r.err.find("'x'") != std::string::npos);
  CHECK(r.err.find("(0, 8192)") != std::string::npos);
  CHECK(r.err.find("no CUDA driver") == std::string::npos);  // bad input is reported first
}

TEST_CASE("cli run: --output paths are checked before the launch") {
  jf_test::TempDir tmp;
  const std::string run = "run " + jf_test::example_graph() + " --dims M=4 --random 1 --output out=";
  std::filesystem::create_directories(tmp.path / "a-dir");
  for (const std::string bad : {(tmp.path / "a-dir").string(), (tmp.path / "missing" / "o.npy").string(),
                                (tmp.path / "a-dir" / "o.npy" / "x.npy").string()}) {
    CAPTURE(bad);
    const auto r = cli_apart(run + bad, tmp.path);
    CHECK(r.code == 2);
    CHECK(r.err.find("--output out") != std::string::npos);
    CHECK(r.err.find("no CUDA driver") == std::string::npos);
  }
  if (::geteuid() != 0) {  // permissions bind only for a user other than root
    const auto ro = tmp.path / "ro";
    std::filesystem::create_directories(ro);
    std::filesystem::permissions(ro, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    const auto r = cli_apart(run + (ro / "o.npy").string(), tmp.path);
    std::filesystem::permissions(ro, std::filesystem::perms::owner_all);
    CHECK(r.code == 2);
    CHECK(r.err.find("cannot write") != std::string::npos);
  }
}

TEST_CASE("cli run: without a driver, it says so before generating inputs") {
  if (has_driver()) {
    MESSAGE("a CUDA driver is present: the no-driver path is not testable here");
    return;
  }
  jf_test::TempDir tmp;
  // The example's random inputs at M=2048 take over 800 MB of host memory: under a 400 MB
  // address-space limit, generating them first would abort the process.
  int code = -1;
  const std::string out = jf_test::run_shell(
      fmt::format("ulimit -v 400000; JITFUSE_CACHE_DIR='{}' '{}' run {} --dims M=2048 --random 1 2>&1",
                  tmp.path.string(), JITFUSE_CLI_PATH, jf_test::example_graph()), code);
  CHECK_MESSAGE(code == 1, out);
  CHECK(out.find("no CUDA driver") != std::string::npos);
}
