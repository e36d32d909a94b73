// What explain --bench relies on: Kernel::launch_one runs one kernel of a plan, and its CUDA-event
// times go into explain's report beside the roofline.
#include <nlohmann/json.hpp>

#include "cuda/timing.h"
#include "gpu_support.h"

using namespace jitfuse;

TEST_CASE("gpu: launch_one runs one kernel of a plan, and explain reports the times") {
  JF_REQUIRE_GPU();
  const std::string json = jf_test::read_file(jf_test::source_dir() / "examples/linear_scale_hardtanh_gelu.json");
  CompileOptions unfused;
  unfused.fusion = false;
  unfused.dims = {{"M", 64}};
  auto graph = parse_graph(json);
  auto typed = validate(*graph);
  auto g = specialize(*typed, unfused.dims);
  REQUIRE(g.ok());
  auto kernel = jf_gpu::engine().compile(*graph, unfused);
  REQUIRE_MESSAGE(kernel.ok(), kernel.error().to_string(true));
  REQUIRE(kernel->build().kernels.size() == 4);
  std::map<std::string, cu::DeviceBuffer> bufs;
  TensorMap t;
  for (int v : g->inputs) {
    auto h = io::random_input(*g, v, {}, 5);
    REQUIRE(h.ok());
    auto d = cu::DeviceBuffer::alloc(h->bytes.size());
    REQUIRE(cu::copy_to_device(d->ptr(), h->bytes.data(), h->bytes.size()).ok());
    t[g->values[v].name] = Tensor{d->data(), h->shape, h->dtype};
    bufs[g->values[v].name] = std::move(*d);
  }
  auto out = cu::DeviceBuffer::alloc(64 * 8192 * 4);
  REQUIRE(out.ok());
  t["out"] = Tensor{out->data(), {64, 8192}, DType::f32};
  REQUIRE(kernel->launch(t).ok());
  REQUIRE(cu::synchronize().ok());
  std::vector<std::byte> full(out->size()), last(out->size());
  REQUIRE(cu::copy_to_host(full.data(), out->ptr(), full.size()).ok());
  // The last kernel (gelu) alone, from the scratch its predecessors left, writes the same output.
  REQUIRE(cu::fill_bytes(out->ptr(), 0xff, out->size()).ok());
  REQUIRE(kernel->launch_one(3, t).ok());
  REQUIRE(cu::synchronize().ok());
  REQUIRE(cu::copy_to_host(last.data(), out->ptr(), last.size()).ok());
  CHECK(last == full);
  // Kernel 0 alone does not touch the output.
  REQUIRE(cu::fill_bytes(out->ptr(), 0xff, out->size()).ok());
  REQUIRE(kernel->launch_one(0, t).ok());
  REQUIRE(cu::synchronize().ok());
  REQUIRE(cu::copy_to_host(last.data(), out->ptr(), last.size()).ok());
  CHECK(std::all_of(last.begin(), last.end(), [](std::byte b) { return b == std::byte{0xff}; }));
  const Status bad = kernel->launch_one(4, t);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::bad_launch);

  MeasuredTimes m;
  m.gpu = jf_gpu::device()->name();
  m.runs = 20;
  for (std::size_t i = 0; i < 4; ++i) {
    auto one = cu::time_events([&] { return kernel->launch_one(i, t); }, nullptr, 3, m.runs);
    REQUIRE(one.ok());
    CHECK(one->median_us > 0);
    m.kernel_median_us.push_back(one->median_us);
    m.kernel_min_us.push_back(one->min_us);
  }
  auto total = cu::time_events([&] { return kernel->launch(t); }, nullptr, 3, m.runs);
  REQUIRE(total.ok());
  m.total_median_us = total->median_us;
  m.total_min_us = total->min_us;
  unfused.arch = jf_gpu::engine().build(*graph, unfused)->arch;
  auto report = explain(*graph, unfused, "json", &m);
  REQUIRE_MESSAGE(report.ok(), report.error().to_string());
  const auto j = nlohmann::json::parse(*report);
  CHECK(j["measured"]["gpu"] == m.gpu);
  CHECK(j["kernels"][3]["measured_median_us"].get<double>() > 0);
  CHECK(j["kernels"][3]["roofline_us"].get<double>() > 0);
  MESSAGE(explain(*graph, unfused, "text", &m)->substr(0, 4000));
}
