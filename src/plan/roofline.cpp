#include "plan/roofline.h"

namespace jitfuse {

DevicePeaks peaks_for(const std::string& gpu_name, const std::string& arch) {
  auto has = [&](const char* s) { return gpu_name.find(s) != std::string::npos; };
  // H100 SXM, measured on our machine (docs/perf.md): 800 TFLOP/s bf16 of 990 on paper, 3.0 TB/s.
  if (has("H100") || has("H200") || arch.starts_with("sm_90")) {
    return {has("H200") ? "H200" : "H100 SXM", "measured bf16 and memory; datasheet tf32, fp32",
            800, 495, 67, has("H200") ? 4.3 : 3.0};
  }
  if (has("A100") || arch == "sm_80") return {"A100 SXM", "datasheet", 312, 156, 19.5, 2.0};
  if (has("L4") || arch == "sm_89") return {"L4", "datasheet", 121, 60, 30, 0.3};
  if (has("A10") || arch == "sm_86") return {"A10", "datasheet", 125, 62.5, 31, 0.6};
  if (has("B200") || arch.starts_with("sm_100")) return {"B200", "datasheet", 2250, 1100, 80, 8.0};
  return {"an unknown GPU (H100 figures)", "assumed", 800, 495, 67, 3.0};
}

double gemm_rate(const DevicePeaks& p, DType dtype, MathMode math) {
  if (dtype != DType::f32) return p.bf16_tflops;
  switch (math) {
    case MathMode::ieee: return p.fp32_tflops;
    case MathMode::tf32: return p.tf32_tflops;
    case MathMode::tf32x3: return p.tf32_tflops / 3;  // three products per step
    case MathMode::bf16x3: return p.bf16_tflops / 3;
    case MathMode::automatic: break;  // resolved before planning reports; ieee's rate is the floor
  }
  return p.fp32_tflops;
}

}  // namespace jitfuse
