// Clamping; NaN passes through, as torch.clamp and torch.nn.functional.hardtanh do.
#pragma once

__device__ __forceinline__ float jf_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

__device__ __forceinline__ float jf_clamp_min(float x, float lo) { return x < lo ? lo : x; }

__device__ __forceinline__ float jf_clamp_max(float x, float hi) { return x > hi ? hi : x; }
