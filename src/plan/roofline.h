// The ceilings a plan is judged against: peak arithmetic rates and memory bandwidth of a GPU,
// by name or arch, and the time a kernel's FLOPs and bytes imply.
#pragma once

#include <string>

#include "jitfuse/jitfuse.hpp"

namespace jitfuse {

// One GPU's ceilings. Measured figures where we have them (bench/NOTES.md), else datasheet peaks.
struct DevicePeaks {
  std::string name;          // "H100 SXM"
  std::string source;        // "measured" or "datasheet"
  double bf16_tflops = 0;    // dense f16/bf16 tensor cores, f32 accumulate
  double tf32_tflops = 0;    // dense tf32 tensor cores
  double fp32_tflops = 0;    // FFMA on the SIMT cores
  double mem_tbps = 0;       // device memory, read plus write
};

// The ceilings for a GPU named like "NVIDIA H100 80GB HBM3", or failing that for `arch`.
DevicePeaks peaks_for(const std::string& gpu_name, const std::string& arch);

// The arithmetic rate (TFLOP/s) a GEMM of `dtype` in `math` mode runs at best on `p`.
double gemm_rate(const DevicePeaks& p, DType dtype, MathMode math);

}  // namespace jitfuse
