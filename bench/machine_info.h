// What the benchmarks record about the GPU beside their timings: the display driver and the
// clocks, temperature and power at a moment, as NVML reports them. NVML (libnvidia-ml.so.1,
// installed with the driver) is loaded with dlopen on first use, like libcuda in the library; on
// a machine without it every field is null and the benchmark still runs. Benchmarks only: the
// library never needs NVML.
#pragma once

#include <dlfcn.h>

#include <nlohmann/json.hpp>
#include <string>

namespace jf_bench {

// The NVML entry points used here (nvml.h's C ABI; the header is not needed at build time).
struct Nvml {
  using Device = void*;
  int (*init)() = nullptr;
  int (*driver_version)(char*, unsigned) = nullptr;
  int (*by_pci)(const char*, Device*) = nullptr;
  int (*by_index)(unsigned, Device*) = nullptr;
  int (*clock)(Device, int, unsigned*) = nullptr;
  int (*max_clock)(Device, int, unsigned*) = nullptr;
  int (*temperature)(Device, int, unsigned*) = nullptr;
  int (*power)(Device, unsigned*) = nullptr;
  bool ok = false;

  static const Nvml& get() {
    static const Nvml n = [] {
      Nvml m;
      void* h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
      if (!h) return m;
      auto sym = [&](auto& fn, const char* name) { fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(h, name)); };
      sym(m.init, "nvmlInit_v2");
      sym(m.driver_version, "nvmlSystemGetDriverVersion");
      sym(m.by_pci, "nvmlDeviceGetHandleByPciBusId_v2");
      sym(m.by_index, "nvmlDeviceGetHandleByIndex_v2");
      sym(m.clock, "nvmlDeviceGetClockInfo");
      sym(m.max_clock, "nvmlDeviceGetMaxClockInfo");
      sym(m.temperature, "nvmlDeviceGetTemperature");
      sym(m.power, "nvmlDeviceGetPowerUsage");
      m.ok = m.init && m.driver_version && m.by_index && m.clock && m.max_clock && m.init() == 0;
      return m;
    }();
    return n;
  }
};

// The GPU's state now: {"driver": "580.159.04", "sm_mhz", "sm_max_mhz", "mem_mhz",
// "temperature_c", "power_w"}, each null where NVML cannot say. `pci_bus_id` (e.g. from
// cudaDeviceGetPCIBusId) picks the device; empty: NVML's device 0.
inline nlohmann::json gpu_state(const std::string& pci_bus_id) {
  nlohmann::json j = {{"driver", nullptr},      {"sm_mhz", nullptr},        {"sm_max_mhz", nullptr},
                      {"mem_mhz", nullptr},     {"temperature_c", nullptr}, {"power_w", nullptr}};
  const Nvml& n = Nvml::get();
  if (!n.ok) return j;
  char version[96] = {};
  if (n.driver_version(version, sizeof version) == 0) j["driver"] = version;
  Nvml::Device d = nullptr;
  const bool found = !pci_bus_id.empty() && n.by_pci ? n.by_pci(pci_bus_id.c_str(), &d) == 0
                                                      : n.by_index(0, &d) == 0;
  if (!found) return j;
  constexpr int kSm = 1, kMem = 2, kGpuSensor = 0;  // NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_TEMPERATURE_GPU
  unsigned v = 0;
  if (n.clock(d, kSm, &v) == 0) j["sm_mhz"] = v;
  if (n.max_clock(d, kSm, &v) == 0) j["sm_max_mhz"] = v;
  if (n.clock(d, kMem, &v) == 0) j["mem_mhz"] = v;
  if (n.temperature && n.temperature(d, kGpuSensor, &v) == 0) j["temperature_c"] = v;
  if (n.power && n.power(d, &v) == 0) j["power_w"] = v / 1000.0;
  return j;
}

}  // namespace jf_bench
