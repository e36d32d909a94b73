// Clamping; NaN passes through, as torch.clamp and torch.nn.functional.hardtanh do.
// On sm_80+ each bound is one min/max that returns NaN when an operand is NaN (max.NaN,
// min.NaN): two instructions for a clamp, where the compare-and-select form takes three or four.
// Results may differ from that form only in the sign of a zero result at a zero bound.
#pragma once

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
#define JF_CLAMP_NAN_MINMAX 1
#else
#define JF_CLAMP_NAN_MINMAX 0
#endif

__device__ __forceinline__ float jf_clamp_min(float x, float lo) {
#if JF_CLAMP_NAN_MINMAX
  float r;
  asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(x), "f"(lo));
  return r;
#else
  return x < lo ? lo : x;
#endif
}

__device__ __forceinline__ float jf_clamp_max(float x, float hi) {
#if JF_CLAMP_NAN_MINMAX
  float r;
  asm("min.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(x), "f"(hi));
  return r;
#else
  return x > hi ? hi : x;
#endif
}

// lo <= hi (hardtanh's validation); with lo > hi this gives hi, as torch.clamp does.
__device__ __forceinline__ float jf_clamp(float x, float lo, float hi) {
  return jf_clamp_max(jf_clamp_min(x, lo), hi);
}
