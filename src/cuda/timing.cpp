#include "cuda/timing.h"

#include <algorithm>
#include <cmath>

namespace jitfuse::cu {
namespace {

// Two events, destroyed with the scope.
struct EventPair {
  const Api* cu;
  CUevent start = nullptr, stop = nullptr;
  ~EventPair() {
    if (start) cu->cuEventDestroy(start);
    if (stop) cu->cuEventDestroy(stop);
  }
};

// Records start, runs `body`, records stop, waits, returns the elapsed microseconds.
Expected<double> timed(EventPair& ev, CUstream stream, const std::function<Status()>& body) {
  const Api* cu = ev.cu;
  JF_CU(cuEventRecord(ev.start, stream));
  JF_RETURN_IF_ERROR(body());
  JF_CU(cuEventRecord(ev.stop, stream));
  JF_CU(cuEventSynchronize(ev.stop));
  float ms = 0;
  JF_CU(cuEventElapsedTime(&ms, ev.start, ev.stop));
  return double(ms) * 1000.0;
}

}  // namespace

Timing summarize(std::vector<double> s) {
  Timing t;
  if (s.empty()) return t;
  std::sort(s.begin(), s.end());
  t.runs = int(s.size());
  t.min_us = s.front();
  t.max_us = s.back();
  t.median_us = s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]);
  t.p90_us = s[std::min(s.size() - 1, std::size_t(0.9 * double(s.size())))];
  return t;
}

Expected<Timing> time_events(const std::function<Status()>& enqueue, CUstream stream, int warmup,
                             int reps) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  EventPair ev{cu};
  JF_CU(cuEventCreate(&ev.start, CU_EVENT_DEFAULT));
  JF_CU(cuEventCreate(&ev.stop, CU_EVENT_DEFAULT));
  for (int i = 0; i < warmup; ++i) JF_RETURN_IF_ERROR(enqueue());
  JF_CU(cuStreamSynchronize(stream));
  std::vector<double> samples;
  for (int i = 0; i < reps; ++i) {
    JF_ASSIGN_OR_RETURN(double us, timed(ev, stream, enqueue));
    samples.push_back(us);
  }
  return summarize(std::move(samples));
}

Expected<Timing> time_per_call(const std::function<Status()>& enqueue, CUstream stream, int warmup,
                               int reps, double batch_us, int* batch) {
  JF_ASSIGN_OR_RETURN(const Timing probe, time_events(enqueue, stream, warmup, 3));
  const int n = int(std::clamp(std::ceil(batch_us / std::max(probe.min_us, 1.0)), 1.0, 1000.0));
  if (batch) *batch = n;
  auto calls = [&]() -> Status {
    for (int i = 0; i < n; ++i) JF_RETURN_IF_ERROR(enqueue());
    return {};
  };
  JF_ASSIGN_OR_RETURN(Timing t, time_events(calls, stream, 0, reps));
  for (double* f : {&t.median_us, &t.min_us, &t.p90_us, &t.max_us}) *f /= n;
  return t;
}

Expected<Timing> time_graph(const std::function<Status()>& enqueue, CUstream stream,
                            int per_graph, int reps) {
  JF_ASSIGN_OR_RETURN(const Api* cu, api());
  JF_RETURN_IF_ERROR(enqueue());  // anything lazy (workspace, module state) happens outside capture
  JF_CU(cuStreamSynchronize(stream));
  CUgraph graph = nullptr;
  JF_CU(cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL));
  for (int i = 0; i < per_graph; ++i) {
    if (Status s = enqueue(); !s.ok()) {
      cu->cuStreamEndCapture(stream, &graph);
      if (graph) cu->cuGraphDestroy(graph);
      return s.error();
    }
  }
  JF_CU(cuStreamEndCapture(stream, &graph));
  CUgraphExec exec = nullptr;
  const CUresult r = cu->cuGraphInstantiate(&exec, graph, 0);
  cu->cuGraphDestroy(graph);
  if (r != CUDA_SUCCESS) return call_error("cuGraphInstantiate(&exec, graph, 0)", r, __FILE__, __LINE__);
  struct ExecGuard {
    const Api* cu;
    CUgraphExec e;
    ~ExecGuard() { cu->cuGraphExecDestroy(e); }
  } guard{cu, exec};
  EventPair ev{cu};
  JF_CU(cuEventCreate(&ev.start, CU_EVENT_DEFAULT));
  JF_CU(cuEventCreate(&ev.stop, CU_EVENT_DEFAULT));
  auto replay = [&]() -> Status {
    JF_CU(cuGraphLaunch(exec, stream));
    return {};
  };
  for (int i = 0; i < 3; ++i) JF_RETURN_IF_ERROR(replay());
  std::vector<double> samples;
  for (int i = 0; i < reps; ++i) {
    JF_ASSIGN_OR_RETURN(double us, timed(ev, stream, replay));
    samples.push_back(us / per_graph);
  }
  return summarize(std::move(samples));
}

}  // namespace jitfuse::cu
