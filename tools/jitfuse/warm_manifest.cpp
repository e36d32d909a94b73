#include "warm_manifest.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "common/arch.h"
#include "graph/typed_graph.h"
#include "nvrtc/nvrtc.h"

namespace jitfuse::cli {
namespace {

using json = nlohmann::json;

Error manifest_error(const std::string& file, std::string pointer, std::string message,
                     ErrorCode code = ErrorCode::schema) {
  Error e = make_error(code, std::move(message), std::move(pointer));
  e.file = file;
  return e;
}

Expected<std::vector<std::string>> strings(const json& doc, const char* key, const std::string& file) {
  std::vector<std::string> out;
  const json& j = doc[key];
  if (!j.is_array() || j.empty()) {
    return manifest_error(file, fmt::format("/{}", key), fmt::format("{} must be a non-empty array of strings", key));
  }
  for (std::size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) {
      return manifest_error(file, fmt::format("/{}/{}", key, i), fmt::format("{} entries must be strings", key));
    }
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

std::string dims_label(const std::map<std::string, std::int64_t>& dims) {
  std::string out;
  for (const auto& [k, v] : dims) out += fmt::format(" {}={}", k, v);
  return out;
}

bool has_gemm(const TypedGraph& g) {
  for (const TypedNode& n : g.nodes) {
    if (n.op->kind == ops::OpKind::gemm) return true;
  }
  return false;
}

// Every arch must be one NVRTC can target: a typo fails here, not as one failed build per graph.
Status check_archs(const Manifest& m, const std::vector<std::string>& archs, bool from_flag) {
  for (std::size_t i = 0; i < archs.size(); ++i) {
    Status s = [&]() -> Status {
      JF_ASSIGN_OR_RETURN(Arch arch, parse_arch(archs[i]));
      return check_arch(arch);
    }();
    if (s.ok()) continue;
    Error e = s.error();
    if (!is_user_error(e.code)) return e;  // NVRTC itself failed
    if (from_flag) {
      e.message = "--arch: " + e.message;
      return e;
    }
    return manifest_error(m.file, fmt::format("/archs/{}", i), e.message, e.code);
  }
  return {};
}

}  // namespace

Expected<Manifest> load_manifest(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Error e = make_error(ErrorCode::io, "cannot read the manifest");
    e.file = file;
    return e;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  json doc = json::parse(ss.str(), nullptr, false);
  if (doc.is_discarded()) {
    Error e = make_error(ErrorCode::json_syntax, "the manifest is not valid JSON");
    e.file = file;
    return e;
  }
  if (!doc.is_object()) return manifest_error(file, "", "a manifest must be a JSON object");
  for (const auto& [key, value] : doc.items()) {
    if (key != "graphs" && key != "archs" && key != "math" && key != "dims") {
      return manifest_error(file, "/" + key, fmt::format("unknown key '{}'; a manifest has graphs, "
                                                         "archs, math and dims", key));
    }
  }
  Manifest m;
  m.file = file;
  if (!doc.contains("graphs") || !doc["graphs"].is_array() || doc["graphs"].empty()) {
    return manifest_error(file, "/graphs", "graphs must be a non-empty array of paths or inline graphs");
  }
  for (std::size_t i = 0; i < doc["graphs"].size(); ++i) {
    const json& g = doc["graphs"][i];
    Expected<Graph> graph = make_error(ErrorCode::internal, "");
    if (g.is_string()) {
      std::filesystem::path p = g.get<std::string>();
      if (p.is_relative()) p = path.parent_path() / p;  // relative to the manifest
      graph = load_graph(p);
    } else if (g.is_object()) {
      graph = parse_graph(g.dump(), fmt::format("{}#/graphs/{}", file, i));
    } else {
      return manifest_error(file, fmt::format("/graphs/{}", i), "a graph must be a path or an inline graph object");
    }
    if (!graph) return graph.error();
    m.graphs.push_back(std::move(*graph));
  }
  if (doc.contains("archs")) { JF_ASSIGN_OR_RETURN(m.archs, strings(doc, "archs", file)); }
  if (doc.contains("math")) {
    JF_ASSIGN_OR_RETURN(m.math, strings(doc, "math", file));
    for (std::size_t i = 0; i < m.math.size(); ++i) {
      if (!parse_math_mode(m.math[i])) {
        return manifest_error(file, fmt::format("/math/{}", i),
                              fmt::format("math \"{}\" must be auto, ieee, tf32, tf32x3 or bf16x3", m.math[i]),
                              ErrorCode::bad_option);
      }
    }
  }
  if (doc.contains("dims")) {
    const json& d = doc["dims"];
    if (!d.is_array() || d.empty()) return manifest_error(file, "/dims", "dims must be a non-empty array of objects like {\"M\": 2048}");
    m.dims.clear();
    for (std::size_t i = 0; i < d.size(); ++i) {
      std::map<std::string, std::int64_t> one;
      if (!d[i].is_object()) return manifest_error(file, fmt::format("/dims/{}", i), "each dims entry must be an object like {\"M\": 2048}");
      for (const auto& [k, v] : d[i].items()) {
        if (!v.is_number_integer()) return manifest_error(file, fmt::format("/dims/{}/{}", i, k), "a dim must be an integer");
        one[k] = v.get<std::int64_t>();
      }
      m.dims.push_back(std::move(one));
    }
  }
  return m;
}

Expected<std::vector<WarmJob>> plan_warm_jobs(const Manifest& m, const std::vector<std::string>& archs,
                                              bool archs_from_flag) {
  JF_RETURN_IF_ERROR(check_archs(m, archs, archs_from_flag));
  std::vector<WarmJob> jobs;
  std::set<std::string> seen;  // graph index, arch, math (where it applies), dims
  for (std::size_t gi = 0; gi < m.graphs.size(); ++gi) {
    const Graph& g = m.graphs[gi];
    JF_ASSIGN_OR_RETURN(TypedGraph typed, validate(g));
    // Each dim of each entry must fit the graph: a symbol it has, a size it takes.
    for (std::size_t di = 0; di < m.dims.size(); ++di) {
      for (const auto& [name, value] : m.dims[di]) {
        auto one = specialize(typed, {{name, value}});
        if (!one) {
          return manifest_error(m.file, fmt::format("/dims/{}/{}", di, name),
                                fmt::format("for graph '{}' (/graphs/{}): {}", g.name, gi, one.error().message),
                                one.error().code);
        }
      }
    }
    const bool math_applies = typed.dtype == DType::f32 && has_gemm(typed);
    const std::vector<std::string> maths = math_applies ? m.math : std::vector<std::string>{"auto"};
    for (const std::string& arch : archs) {
      for (const std::string& math : maths) {
        for (const auto& dims : m.dims) {
          const std::string label = fmt::format("{} {}{}{}", g.name, arch, math_applies ? " " + math : "",
                                                dims_label(dims));
          if (!seen.insert(fmt::format("{}|{}", gi, label)).second) continue;
          WarmJob job{&g, {}, math_applies, label};
          job.options.arch = arch;
          job.options.math = *parse_math_mode(math);
          job.options.dims = dims;
          jobs.push_back(std::move(job));
        }
      }
    }
  }
  return jobs;
}

}  // namespace jitfuse::cli
