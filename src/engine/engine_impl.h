// Internals shared by engine.cpp (the pipeline) and kernel.cpp (launching).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "cache/disk_cache.h"
#include "cuda/device.h"
#include "graph/typed_graph.h"
#include "jitfuse/jitfuse.hpp"
#include "plan/plan.h"

namespace jitfuse {

// Everything a build produced, kept for launching.
struct Built {
  Build build;
  TypedGraph graph;
  Plan plan;
  std::vector<KernelSource> sources;
};

struct Kernel::Impl {
  Built built;
  std::shared_ptr<cu::Device> device;
  std::vector<std::shared_ptr<cu::Module>> modules;  // one per kernel of the plan
  mutable std::mutex workspace_mu;
  mutable cu::DeviceBuffer workspace;  // scratch for intermediates; grows as needed
  // Per kernel of the plan: stream-K's scratch (empty without it), allocated and zeroed at load
  // for the largest grid the device holds, and where its partial tiles start.
  std::vector<cu::DeviceBuffer> stream_k;
  std::vector<std::size_t> stream_k_part;
  // Per kernel of the plan: bf16x3's scratch (empty without it), grown at launch as the shapes
  // need (under workspace_mu); its barrier counters are zeroed when it is allocated.
  mutable std::vector<cu::DeviceBuffer> x3;
};

struct Engine::Impl {
  EngineOptions options;
  std::optional<DiskCache> disk;

  mutable std::mutex mu;  // guards everything below
  std::map<std::string, std::shared_ptr<const CacheEntry>> memory;   // digest -> binaries
  std::map<std::string, std::shared_ptr<cu::Module>> modules;        // digest -> loaded
  std::set<std::string> reported;  // corrupt or unwritable entries already warned about
  EngineStats stats;
  std::shared_ptr<cu::Device> device;

  // The pipeline up to binaries: validate, specialize, plan, emit, key, cache, nvrtc, store.
  Expected<Built> build(const Graph& graph, const CompileOptions& options);
  // The engine's device, opened on first use.
  Expected<std::shared_ptr<cu::Device>> open_device();
};

}  // namespace jitfuse
