// Tuning records: the GEMM choice `jitfuse tune` measured fastest for one specialized graph, arch
// and math mode, kept in the disk cache's tune/ folder so that later compiles with
// CompileOptions::gemm = "auto" use it. Keyed like kernels: a hash of what shapes the problem.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

// What `jitfuse tune` measured for one candidate.
struct TuneCandidate {
  std::string gemm;        // a CompileOptions::gemm text, e.g. "wgmma,cluster=2"
  std::string config;      // the template line it produced
  double median_us = 0;    // of the whole graph's launch; negative: rejected
  std::string note;        // why rejected, or empty
};

struct TuneRecord {
  std::string key;         // hex digest
  std::string graph;       // graph name, for people
  std::string arch, math;
  std::string gemm;        // the winner
  std::string date;        // UTC, ISO 8601
  std::string card;        // the GPU it was measured on
  std::vector<TuneCandidate> candidates;
};

// The record key: a hash of the kernels' sources as the heuristic alone generates them (which
// spells out the ops, attributes, shapes, dtype, plan, arch and math), and the format version.
std::string tune_key(const std::vector<std::string>& heuristic_sources);

// The file a record lives in.
std::filesystem::path tune_path(const std::filesystem::path& cache_dir, const std::string& key);

// The record for `key`, or nullopt when there is none; a record that does not parse is an error
// naming the file.
Expected<std::optional<TuneRecord>> load_tune_record(const std::filesystem::path& cache_dir,
                                                     const std::string& key);

// Writes `record` atomically (temporary file, then rename); returns its path.
Expected<std::filesystem::path> save_tune_record(const std::filesystem::path& cache_dir,
                                                 const TuneRecord& record);

}  // namespace jitfuse
