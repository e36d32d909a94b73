// Many processes, one cache directory: simultaneous compiles of one key, and writers killed
// with SIGKILL. The processes are real `jitfuse` CLI runs.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cache/maintenance.h"
#include "support.h"

extern char** environ;

namespace {

// Starts `jitfuse args...` with stdout and stderr to `log`.
pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<std::string> all = {JITFUSE_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string gelu_graph(const std::string& name) {
  return fmt::format(R"({{"name": "{}", "inputs": {{"x": {{"dtype": "bf16", "shape": ["N", 8]}}}},
    "nodes": [{{"name": "a", "op": "gelu", "inputs": ["x"]}}], "outputs": ["a"]}})", name);
}

int count_files(const std::filesystem::path& dir, const std::string& prefix, bool hidden) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string name = f.path().filename().string();
    n += hidden ? name[0] == '.' : name.starts_with(prefix);
  }
  return n;
}

}  // namespace

TEST_CASE("8 processes compiling one key at once, 20 rounds: all succeed, one entry, one compile") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  int single_flight_rounds = 0;
  for (int round = 0; round < 20; ++round) {
    CAPTURE(round);
    const std::string name = fmt::format("mp{}", round);
    const auto graph = tmp.path / (name + ".json");
    jf_test::write_file(graph, gelu_graph(name));
    std::vector<pid_t> pids;
    for (int p = 0; p < 8; ++p) {
      pids.push_back(spawn_cli({"--cache-dir", cache.string(), "compile", graph.string(), "--arch", "sm_80"},
                               tmp.path / fmt::format("log{}", p)));
    }
    int compiled = 0;
    for (int p = 0; p < 8; ++p) {
      CHECK(wait_exit(pids[p]) == 0);
      const std::string log = jf_test::read_file(tmp.path / fmt::format("log{}", p));
      compiled += log.find("compiled by NVRTC") != std::string::npos;
      CHECK_MESSAGE((log.find("compiled by NVRTC") != std::string::npos ||
                     log.find("disk cache hit") != std::string::npos), log);
    }
    CHECK(compiled >= 1);
    single_flight_rounds += compiled == 1;
    CHECK(count_files(cache, "jf_" + name + "_0.", false) == 1);
    CHECK(count_files(cache, "", true) == 0);  // no temporaries left
  }
  // The per-key flock makes the others wait and then read the entry: one compile per round.
  CHECK(single_flight_rounds == 20);
  for (const auto& e : jitfuse::list_entries(cache)) CHECK_MESSAGE(e.problem.empty(), e.path);
}

TEST_CASE("writers killed with SIGKILL leave nothing that misleads or blocks a later process") {
  jf_test::TempDir tmp;
  const auto cache = tmp.path / "cache";
  jf_test::GemmGraph g;  // a gemm: long enough to compile that a kill lands mid-way
  g.dtype = "f16";
  const auto graph = tmp.path / "g.json";
  jf_test::write_file(graph, g.json());
  const std::vector<std::string> args = {"--cache-dir", cache.string(), "compile", graph.string(), "--arch", "sm_90a"};
  for (int delay_ms : {30, 120, 250, 400, 600, 900}) {
    const pid_t pid = spawn_cli(args, tmp.path / "killed.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    wait_exit(pid);
  }
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = spawn_cli(args, tmp.path / "after.log");
  CHECK(wait_exit(pid) == 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(secs < 30);  // no lock held by a dead process (the lock wait is 60 s)
  const auto entries = jitfuse::list_entries(cache);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].problem.empty());
  auto r = jitfuse::prune(cache, std::uint64_t(1) << 30);
  REQUIRE(r.ok());
  CHECK(count_files(cache, "", true) == 0);  // any temporary of a killed writer is swept
}
