// Clamping; NaN passes through, as torch.clamp and torch.nn.functional.hardtanh do.
#pragma once

__device__ __forceinline__ float jf_clamp(float x, float lo, float hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}
