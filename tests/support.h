// Helpers shared by the test suites: paths, temporary directories, environment overrides and
// graph builders.
#pragma once

#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>

#include "jitfuse/jitfuse.hpp"

namespace jf_test {

// The repository root: JITFUSE_SOURCE_DIR if set (a build run on another machine), else where
// the tests were built from.
inline std::filesystem::path source_dir() {
  if (const char* env = std::getenv("JITFUSE_SOURCE_DIR"); env && *env) return env;
  return JITFUSE_SOURCE_DIR;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// `json` with every "from" dtype string replaced by "to" (e.g. an f32 example made bf16).
inline std::string with_dtype(std::string json, const std::string& from, const std::string& to) {
  const std::string a = "\"" + from + "\"", b = "\"" + to + "\"";
  for (std::size_t p = 0; (p = json.find(a, p)) != std::string::npos; p += b.size()) json.replace(p, a.size(), b);
  return json;
}

// A fresh directory, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / fmt::format("jitfuse-test-{:x}", rd() ^ (std::uint64_t(rd()) << 32));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Sets (or unsets, with nullopt) an environment variable for the scope.
struct ScopedEnv {
  std::string name;
  std::optional<std::string> old;
  ScopedEnv(std::string n, std::optional<std::string> value) : name(std::move(n)) {
    if (const char* v = std::getenv(name.c_str())) old = v;
    if (value) ::setenv(name.c_str(), value->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
  ~ScopedEnv() {
    if (old) ::setenv(name.c_str(), old->c_str(), 1);
    else ::unsetenv(name.c_str());
  }
};

// A gemm followed by a chain of elementwise nodes (each a JSON object body without name/inputs,
// e.g. R"("op": "gelu")"). M may be a number or "M".
struct GemmGraph {
  std::string dtype = "f32";
  std::string m = "\"M\"";
  long n = 64, k = 32;
  bool kn = false;
  bool bias = true;
  std::vector<std::string> chain = {R"("op": "scale", "factor": 0.5)",
                                    R"("op": "hardtanh", "min": -2.0, "max": 2.0)",
                                    R"("op": "gelu")"};
  std::string json() const {
    std::string nodes = fmt::format(
        R"({{"name": "y", "op": "gemm", "inputs": ["x", "w"{}], "b_layout": "{}"}})",
        bias ? ", \"bias\"" : "", kn ? "kn" : "nk");
    std::string prev = "y";
    for (std::size_t i = 0; i < chain.size(); ++i) {
      const std::string name = i + 1 == chain.size() ? "out" : fmt::format("e{}", i);
      nodes += fmt::format(R"(, {{"name": "{}", "inputs": ["{}"], {}}})", name, prev, chain[i]);
      prev = name;
    }
    const std::string w = kn ? fmt::format("[{}, {}]", k, n) : fmt::format("[{}, {}]", n, k);
    return fmt::format(R"({{"name": "g", "inputs": {{
      "x": {{"dtype": "{0}", "shape": [{1}, {3}]}},
      "w": {{"dtype": "{0}", "shape": {4}}}{5}}},
      "nodes": [{6}], "outputs": ["{7}"]}})",
                       dtype, m, n, k, w,
                       bias ? fmt::format(R"(, "bias": {{"dtype": "{}", "shape": [{}]}})", dtype, n) : "",
                       nodes, prev);
  }
  jitfuse::Graph graph() const { return *jitfuse::parse_graph(json()); }
};

#ifdef JITFUSE_CLI_PATH
// What a run of the command line did.
struct CliRun {
  int code = -1;    // the exit code; -1 when a signal ended it
  int signal = 0;   // the signal that ended it, if one did
  std::string out;  // stdout and stderr together
};

// Runs `jitfuse ARGS` through the shell with its cache in `cache`; `setup` goes right before the
// command ("X=1 ", "timeout 60 ", "ulimit -v 1000000; ").
inline CliRun run_cli(const std::string& args, const std::filesystem::path& cache,
                      const std::string& setup = "") {
  const std::string cmd = fmt::format("export JITFUSE_CACHE_DIR='{}'; {}'{}' {} 2>&1", cache.string(),
                                      setup, JITFUSE_CLI_PATH, args);
  CliRun r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = ::pclose(p);
  if (WIFEXITED(status)) r.code = WEXITSTATUS(status);
  // The shell reports a child killed by signal s as exit code 128 + s.
  if (r.code > 128 && r.code < 160) r.signal = r.code - 128;
  return r;
}
#endif

}  // namespace jf_test
