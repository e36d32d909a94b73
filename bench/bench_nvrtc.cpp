// NVRTC time: a GEMM followed by 1, 5, 15 and 30 elementwise ops (the first ops of
// tests/golden/chain30.json, in f32 and bf16), and every graph in tests/golden/ and examples/,
// each for sm_90a and sm_80, with M symbolic and baked (every symbol 4096). Needs no GPU: each
// build is a cold compile (a fresh Engine without a disk cache).
//   jitfuse_bench_nvrtc [--source-dir DIR] [--out results.json] [--only SUBSTR]
// Prints a table: NVRTC's wall-clock milliseconds and the build's CPU milliseconds (the same on an
// idle machine; the CPU time holds on a busy one). The JSON records the host, NVRTC's version and
// every kernel's milliseconds.
#include <fmt/format.h>
#include <nvrtc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "jitfuse/jitfuse.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// The graph's first `ops` elementwise nodes after its gemm, the last one the output; dtype
// replaced when given.
json chain_prefix(json g, int ops, const std::string& dtype) {
  g["nodes"].erase(g["nodes"].begin() + 1 + ops, g["nodes"].end());
  g["outputs"] = json::array({g["nodes"].back()["name"]});
  g["name"] = fmt::format("chain{}_{}", ops, dtype);
  for (auto& [name, input] : g["inputs"].items()) input["dtype"] = dtype;
  // Inputs no node reads any more would be errors (unused inputs).
  std::set<std::string> used;
  for (const auto& n : g["nodes"]) {
    for (const auto& i : n["inputs"]) {
      if (i.is_string()) used.insert(i.get<std::string>());
    }
  }
  for (auto it = g["inputs"].begin(); it != g["inputs"].end();) {
    it = used.count(it.key()) ? std::next(it) : g["inputs"].erase(it);
  }
  return g;
}

// Every symbolic dim of the graph's inputs, bound to `size`.
std::map<std::string, std::int64_t> bind_all(const json& g, std::int64_t size) {
  std::map<std::string, std::int64_t> dims;
  for (const auto& [name, input] : g["inputs"].items()) {
    for (const auto& d : input["shape"]) {
      if (d.is_string()) dims[d.get<std::string>()] = size;
    }
  }
  return dims;
}

// CPU seconds this thread has used: NVRTC compiles in the calling thread, so the difference
// around a build is its compile time whatever else the machine runs.
double thread_cpu_s() {
  struct rusage r {};
  ::getrusage(RUSAGE_THREAD, &r);
  return double(r.ru_utime.tv_sec + r.ru_stime.tv_sec) + 1e-6 * double(r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

struct Case {
  std::string label;
  json graph;
};

}  // namespace

int main(int argc, char** argv) {
  fs::path root = JITFUSE_SOURCE_DIR, out_path;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--source-dir") && i + 1 < argc) root = argv[++i];
    else if (!std::strcmp(argv[i], "--out") && i + 1 < argc) out_path = argv[++i];
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else {
      std::fprintf(stderr, "usage: jitfuse_bench_nvrtc [--source-dir DIR] [--out FILE] [--only SUBSTR]\n");
      return 2;
    }
  }
  std::vector<Case> cases;
  const json chain = read_json(root / "tests/golden/chain30.json");
  for (const char* dtype : {"f32", "bf16"}) {
    for (int ops : {1, 5, 15, 30}) {
      cases.push_back({fmt::format("gemm + {} ops {}", ops, dtype), chain_prefix(chain, ops, dtype)});
    }
  }
  std::vector<fs::path> files;
  for (const char* dir : {"tests/golden", "examples"}) {
    for (const auto& f : fs::directory_iterator(root / dir)) {
      if (f.path().extension() == ".json") files.push_back(f.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) cases.push_back({fs::relative(f, root).string(), read_json(f)});

  json results = json::array();
  double worst = 0;
  std::string worst_label;
  std::printf("%-48s %-7s %-9s %10s %10s\n", "graph", "arch", "M", "NVRTC ms", "CPU ms");
  for (const Case& c : cases) {
    if (c.label.find(only) == std::string::npos) continue;
    auto graph = jitfuse::parse_graph(c.graph.dump());
    if (!graph) {
      std::fprintf(stderr, "%s: %s\n", c.label.c_str(), graph.error().to_string().c_str());
      return 1;
    }
    for (const char* arch : {"sm_90a", "sm_80"}) {
      for (const bool baked : {false, true}) {
        jitfuse::EngineOptions eo;
        eo.disk_cache = false;
        jitfuse::Engine engine(eo);
        jitfuse::CompileOptions o;
        o.arch = arch;
        if (baked) o.dims = bind_all(c.graph, 4096);
        const double cpu0 = thread_cpu_s();
        auto build = engine.build(*graph, o);
        const double cpu_ms = 1e3 * (thread_cpu_s() - cpu0);
        if (!build) {
          std::fprintf(stderr, "%s %s: %s\n", c.label.c_str(), arch, build.error().to_string().c_str());
          return 1;
        }
        double ms = 0;
        json kernels = json::array();
        for (const auto& k : build->kernels) {
          ms += k.compile_ms;
          kernels.push_back({{"name", k.name}, {"compile_ms", k.compile_ms}, {"config", k.config}});
        }
        const char* m = baked ? "4096" : "symbolic";
        std::printf("%-48s %-7s %-9s %10.0f %10.0f\n", c.label.c_str(), arch, m, ms, cpu_ms);
        std::fflush(stdout);
        if (cpu_ms > worst) {
          worst = cpu_ms;
          worst_label = fmt::format("{} {} M {}", c.label, arch, m);
        }
        results.push_back({{"graph", c.label}, {"arch", arch}, {"m", m}, {"math", std::string(jitfuse::to_string(build->math))},
                           {"nvrtc_ms", ms}, {"build_cpu_ms", cpu_ms}, {"kernels", kernels}});
      }
    }
  }
  std::printf("slowest: %s, %.0f CPU ms\n", worst_label.c_str(), worst);
  int major = 0, minor = 0;
  nvrtcVersion(&major, &minor);
  struct utsname u {};
  ::uname(&u);
  const std::time_t now = std::time(nullptr);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  json doc = {{"tool", "jitfuse_bench_nvrtc"}, {"jitfuse", std::string(jitfuse::version())},
              {"date", date}, {"host", u.nodename}, {"machine", u.machine},
              {"cpus", std::thread::hardware_concurrency()}, {"nvrtc", fmt::format("{}.{}", major, minor)},
              {"slowest_cpu_ms", worst},
              {"slowest", worst_label}, {"results", results}};
  if (!out_path.empty()) std::ofstream(out_path) << doc.dump(2) << "\n";
  return 0;
}
