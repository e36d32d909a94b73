// Running the built `jitfuse` binary from the CPU suites: exit code, stdout and stderr.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "support.h"

namespace jf_test {

// What a command line did.
struct CliResult {
  int code = -1;
  std::string out;  // stdout, with stderr after it unless the run kept them apart
  std::string err;  // stderr, when kept apart
};

// Runs `cmd` with /bin/sh; returns its stdout and sets `code` to its exit status (-1: killed).
inline std::string run_shell(const std::string& cmd, int& code) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// `jitfuse ARGS` with JITFUSE_CACHE_DIR=cache; stdout and stderr together in `out`.
inline CliResult cli(const std::string& args, const std::filesystem::path& cache) {
  CliResult r;
  r.out = run_shell(fmt::format("JITFUSE_CACHE_DIR='{}' '{}' {} 2>&1", cache.string(),
                                JITFUSE_CLI_PATH, args), r.code);
  return r;
}

// The same, with stdout in `out` and stderr in `err` (for output that scripts parse).
inline CliResult cli_apart(const std::string& args, const std::filesystem::path& cache) {
  CliResult r;
  const std::filesystem::path err = std::filesystem::temp_directory_path() /
                                    fmt::format("jitfuse-test-stderr-{}", ::getpid());
  r.out = run_shell(fmt::format("JITFUSE_CACHE_DIR='{}' '{}' {} 2>'{}'", cache.string(),
                                JITFUSE_CLI_PATH, args, err.string()), r.code);
  r.err = read_file(err);
  std::filesystem::remove(err);
  return r;
}

// The example graph every doc starts from.
inline std::string example_graph() {
  return (source_dir() / "examples/linear_scale_hardtanh_gelu.json").string();
}

}  // namespace jf_test
