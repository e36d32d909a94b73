// jitfuse_fuzz: runs the jitfuse CLI on generated hostile inputs and fails on any crash, hang,
// stray exit code or unsafe output. Every case is a function of (seed, case number), so
// `jitfuse_fuzz --seed S --case N` reproduces one; failures are saved with their command line.
#include <fmt/format.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>

#include "child.h"
#include "fuzz_case.h"
#include "generators.h"
#include "oracle.h"

namespace fs = std::filesystem;
using namespace jitfuse::fuzz;

namespace {

struct Options {
  std::string jitfuse = JITFUSE_CLI_PATH;
  std::vector<std::string> corpus = {JITFUSE_SOURCE_DIR "/tests/golden", JITFUSE_SOURCE_DIR "/examples"};
  std::uint64_t seed = 1;
  std::uint64_t cases = 1000;
  std::int64_t only = -1;        // --case
  std::uint64_t max_compiles = 20;
  double timeout = 20, compile_timeout = 300, time_limit = 0;
  std::uint64_t memory_mb = 4096;
  std::string out = "fuzz-failures";
  std::uint64_t max_failures = 20;
  std::string family;  // run only this family's cases (empty: all)
  bool verbose = false, print = false;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The seed graphs: every *.json under the corpus paths, sorted so that a seed means the same
// cases on every machine.
std::vector<SeedGraph> load_corpus(const std::vector<std::string>& paths) {
  std::vector<fs::path> files;
  for (const fs::path p : paths) {
    if (fs::is_directory(p)) {
      for (const auto& e : fs::directory_iterator(p)) {
        if (e.path().extension() == ".json") files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename() != b.filename() ? a.filename() < b.filename() : a < b;
  });
  std::vector<SeedGraph> corpus;
  for (const fs::path& f : files) {
    SeedGraph g{f.filename().string(), read_all(f), {}};
    g.doc = json::parse(g.text, nullptr, false);
    if (g.doc.is_discarded()) throw std::runtime_error("corpus file is not JSON: " + f.string());
    corpus.push_back(std::move(g));
  }
  if (corpus.empty()) throw std::runtime_error("no corpus graphs (*.json) found");
  return corpus;
}

// A command line as a shell would take it, for the report: every argument single-quoted, with
// bytes a terminal would act on shown as \xNN, and cut after 200 bytes (`--case` reproduces it
// whole).
std::string shell_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& a : argv) {
    line += line.empty() ? "'" : " '";
    for (char ch : a.substr(0, 200)) {
      const auto c = static_cast<unsigned char>(ch);
      if (ch == '\'') line += "'\\''";
      else if (c < 0x20 || c == 0x7f || c >= 0x80) line += fmt::format("\\x{:02x}", c);
      else line += ch;
    }
    line += a.size() > 200 ? fmt::format("'...({} bytes)", a.size()) : "'";
  }
  return line;
}

// `text` safe to print: lines cut at 300 bytes, control bytes and non-ASCII as \xNN (the case
// may be exactly one whose output would drive the terminal).
std::string printable(const std::string& text) {
  std::string out;
  std::size_t column = 0;
  for (char ch : text.substr(0, 8000)) {
    const auto c = static_cast<unsigned char>(ch);
    column = ch == '\n' ? 0 : column + 1;
    if (column > 300) continue;
    if (column == 300) out += "...";
    else if (ch == '\n' || (c >= 0x20 && c < 0x7f)) out += ch;
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

// The run's scratch: the child's cache, its working directory and the case's file.
struct Scratch {
  fs::path root, cache, cwd, graph;
  Scratch() {
    std::string tmpl = (fs::temp_directory_path() / "jitfuse-fuzz-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a temporary directory");
    root = tmpl;
    cache = root / "cache";
    cwd = root / "cwd";
    graph = root / "case.json";
    fs::create_directories(cache);
    fs::create_directories(cwd);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

// Saves a failing case's input and report under `dir`; returns the input's path.
fs::path save_failure(const Options& o, std::uint64_t index, const Case& c, const Outcome& r,
                      const std::string& verdict, const std::string& repro) {
  fs::create_directories(o.out);
  const fs::path stem = fs::path(o.out) / fmt::format("seed{}-case{}", o.seed, index);
  std::ofstream(stem.string() + ".json", std::ios::binary) << c.input;
  std::vector<std::string> argv = c.args;
  std::replace(argv.begin(), argv.end(), std::string(kGraphArg), stem.string() + ".json");
  argv.insert(argv.begin(), o.jitfuse);
  std::ofstream(stem.string() + ".txt", std::ios::binary)
      << "verdict: " << verdict << "\nfamily: " << c.family << "\nwhat: " << c.what
      << "\ncommand: " << shell_line(argv) << "\nreproduce: " << repro
      << fmt::format("\nexit: {} signal: {} seconds: {:.2f}\n", r.exit_code, r.signal, r.seconds)
      << "--- stderr (first 64 KB) ---\n" << r.err.substr(0, 65536)
      << "\n--- stdout (first 64 KB) ---\n" << r.out.substr(0, 65536) << "\n";
  return stem;
}

int run(const Options& o) {
  const auto corpus = load_corpus(o.corpus);
  if (!fs::exists(o.jitfuse)) throw std::runtime_error("no jitfuse binary at " + o.jitfuse);
  Scratch scratch;
  stop_on_signals();
  const std::vector<std::pair<std::string, std::string>> env = {
      {"JITFUSE_CACHE_DIR", scratch.cache.string()}, {"JITFUSE_DUMP_AFTER", ""},
      {"JITFUSE_DISABLE_FUSION", ""}, {"JITFUSE_CACHE", ""}, {"JITFUSE_CACHE_MAX_BYTES", ""}};
  const std::uint64_t first = o.only >= 0 ? std::uint64_t(o.only) : 0;
  const std::uint64_t last = o.only >= 0 ? first + 1 : o.cases;
  std::uint64_t compiles = 0, failures = 0, ran = 0;
  std::map<std::string, std::map<std::string, int>> tally;  // family -> outcome -> count
  std::pair<double, std::uint64_t> slowest_cheap{0, 0}, slowest_compile{0, 0};
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  for (std::uint64_t i = first; i < last; ++i) {
    if (stopping() || (o.time_limit > 0 && elapsed() > o.time_limit)) break;
    // Real compiles cost seconds: past the budget, cases are made without `compile`.
    const bool compile = compiles < o.max_compiles;
    const Case c = make_case(o.seed, i, corpus, compile);
    if (!o.family.empty() && c.family != o.family) continue;
    std::vector<std::string> args = c.args;
    std::replace(args.begin(), args.end(), std::string(kGraphArg), scratch.graph.string());
    if (o.print || o.verbose || o.only >= 0) {
      fmt::print("case {} [{}{}] {}\n  jitfuse {}\n", i, c.family, c.expect_ok ? ", must succeed" : "",
                 c.what.substr(0, 300), shell_line(c.args));
    }
    if (o.print) continue;
    std::ofstream(scratch.graph, std::ios::binary) << c.input;
    Limits limits;
    limits.timeout_s = c.nvrtc ? o.compile_timeout : o.timeout;
    limits.memory_bytes = o.memory_mb << 20;
    const Outcome r = run_child(o.jitfuse, args, scratch.cwd, env, scratch.root, limits);
    if (!r.exec_error.empty()) {
      throw std::runtime_error(fmt::format("case {}: cannot run {}: {}", i, o.jitfuse, r.exec_error));
    }
    if (r.interrupted) {
      fmt::print("interrupted in case {}\n", i);
      break;
    }
    ++ran;
    if (c.nvrtc && !r.timed_out && r.exit_code == 0) ++compiles;
    auto& slowest = c.nvrtc ? slowest_compile : slowest_cheap;
    if (r.seconds > slowest.first) slowest = {r.seconds, i};
    const std::string verdict = judge(c, r);
    tally[c.family][r.timed_out ? "timeout" : r.signal ? "signal" : fmt::format("exit {}", r.exit_code)]++;
    if (o.verbose) fmt::print("  exit {} signal {} in {:.2f} s\n", r.exit_code, r.signal, r.seconds);
    if (o.only >= 0) fmt::print("  exit {} signal {} in {:.2f} s\n--- stderr ---\n{}\n", r.exit_code, r.signal, r.seconds, printable(r.err));
    if (!verdict.empty()) {
      ++failures;
      std::string repro = fmt::format("jitfuse_fuzz --seed {} --case {}{}", o.seed, i, compile ? "" : " --max-compiles 0");
      for (const std::string& path : o.corpus) {
        if (o.corpus != Options{}.corpus) repro += " --corpus " + shell_line({path});
      }
      const fs::path stem = save_failure(o, i, c, r, verdict, repro);
      fmt::print("FAIL seed {} case {} [{}]: {}\n  what: {}\n  saved: {}.json and .txt\n  reproduce: {}\n",
                 o.seed, i, c.family, verdict, c.what.substr(0, 300), stem.string(), repro);
      if (failures >= o.max_failures) break;
    }
    if (!o.verbose && o.only < 0 && (i + 1) % 500 == 0) {
      fmt::print("{} cases, {} failures, {} compiles, {:.0f} s\n", i + 1, failures, compiles, elapsed());
      std::fflush(stdout);
    }
  }
  if (o.print) return 0;
  fmt::print("seed {}: {} cases in {:.1f} s, {} real compiles; slowest: case {} ({:.2f} s), compile case {} ({:.2f} s)\n",
             o.seed, ran, elapsed(), compiles, slowest_cheap.second, slowest_cheap.first, slowest_compile.second,
             slowest_compile.first);
  for (const auto& [family, outcomes] : tally) {
    std::string line;
    for (const auto& [what, n] : outcomes) line += fmt::format("  {}: {}", what, n);
    fmt::print("  {:8}{}\n", family, line);
  }
  fmt::print("{}\n", failures ? fmt::format("{} FAILED (inputs and reports in {})", failures, o.out) : "no failures");
  // An interrupted run passed nothing: 130, as a shell reports a run ended by Ctrl-C.
  return failures ? 1 : stopping() ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"jitfuse_fuzz: run jitfuse on generated hostile graphs and command lines; fail on a "
               "signal, a timeout, an exit code other than 0/1/2, or unsafe error output"};
  Options o;
  app.add_option("--seed", o.seed, "the run's seed (default 1)");
  app.add_option("--cases", o.cases, "how many cases (default 1000)");
  app.add_option("--case", o.only, "run only case N of the seed, printing its command and stderr");
  app.add_option("--max-compiles", o.max_compiles, "real NVRTC compiles at most; later cases use explain (default 20)");
  app.add_option("--timeout", o.timeout, "seconds a case may take (default 20)");
  app.add_option("--compile-timeout", o.compile_timeout, "seconds a `compile` case may take (default 300)");
  app.add_option("--time-limit", o.time_limit, "start no case after this many seconds (default: none)");
  app.add_option("--memory-mb", o.memory_mb, "address-space limit of each jitfuse run (default 4096)");
  app.add_option("--jitfuse", o.jitfuse, "the jitfuse binary (default: this build's)");
  app.add_option("--corpus", o.corpus, "graph files or folders of *.json to mutate (default: tests/golden, examples)");
  app.add_option("--out", o.out, "where failing inputs and reports go (default: fuzz-failures)");
  app.add_option("--max-failures", o.max_failures, "stop after this many failures (default 20)");
  app.add_option("--family", o.family, "run only the cases of this family: mutate, garbage, huge, chain, flags");
  app.add_flag("-v,--verbose", o.verbose, "print every case's command line and how it ended");
  app.add_flag("--print", o.print, "print the cases' command lines without running them");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const std::exception& e) {
    fmt::print(stderr, "jitfuse_fuzz: error: {}\n", e.what());
    return 2;
  }
}
