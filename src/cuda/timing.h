// Timing device work with CUDA events, for `jitfuse run --bench`, tests and benchmarks.
#pragma once

#include <functional>
#include <vector>

#include "cuda/libcuda.h"

namespace jitfuse::cu {

// Summary of repeated timings, in microseconds.
struct Timing {
  double median_us = 0, min_us = 0, p90_us = 0, max_us = 0;
  int runs = 0;
};

// Median, min, 90th percentile and max of `samples_us`.
Timing summarize(std::vector<double> samples_us);

// Times `enqueue` (which enqueues work on `stream`): `warmup` untimed runs, then `reps` runs,
// each between two events.
Expected<Timing> time_events(const std::function<Status()>& enqueue, CUstream stream, int warmup,
                             int reps);

// Times one call of `enqueue` without the host's launch cost: `warmup` untimed calls, then `reps`
// samples, each a batch of back-to-back calls between two events that keeps the GPU busy for at
// least `batch_us` (batch size from a probe), divided by the batch size; `batch` tells the size.
Expected<Timing> time_per_call(const std::function<Status()>& enqueue, CUstream stream, int warmup,
                               int reps, double batch_us = 1000, int* batch = nullptr);

// Captures `per_graph` back-to-back calls of `enqueue` into a CUDA graph and times `reps`
// replays; reports the time per call. Launch gaps mostly vanish, as in a real model.
Expected<Timing> time_graph(const std::function<Status()>& enqueue, CUstream stream,
                            int per_graph, int reps);

}  // namespace jitfuse::cu
