// Runs a program as a child process under a memory limit and a timeout, and says how it ended.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace jitfuse::fuzz {

// The bounds a child runs under.
struct Limits {
  double timeout_s = 20;                         // then the child's process group gets SIGKILL
  std::uint64_t memory_bytes = std::uint64_t(4) << 30;  // RLIMIT_AS: allocations past it fail
  std::size_t max_output = std::size_t(16) << 20;       // bytes of stdout and of stderr kept
};

// How a child ended and what it printed.
struct Outcome {
  bool timed_out = false;
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal ended it (the timeout's SIGKILL included)
  double seconds = 0;
  std::string out, err;  // the first Limits::max_output bytes of each
  std::string exec_error;  // why the program could not be started; then nothing else holds
  bool interrupted = false;  // SIGINT or SIGTERM arrived: the child was killed, judge nothing
};

// From now on SIGINT and SIGTERM only set a flag: run_child then kills its child and returns,
// so that a stopped run still removes its scratch and prints its summary.
void stop_on_signals();
// Whether SIGINT or SIGTERM has arrived.
bool stopping();

// Runs `program` with `args` in `cwd`, stdin from /dev/null, `env` set on top of this process's
// environment (an empty value unsets the variable), no core dumps, under `limits`. Output goes
// through files in `scratch`, so that a child writing megabytes never blocks on a pipe.
Outcome run_child(const std::string& program, const std::vector<std::string>& args,
                  const std::filesystem::path& cwd,
                  const std::vector<std::pair<std::string, std::string>>& env,
                  const std::filesystem::path& scratch, const Limits& limits);

}  // namespace jitfuse::fuzz
