// Binary functions with torch's NaN rule: a NaN operand gives NaN (fmaxf would drop it).
#pragma once

__device__ __forceinline__ float jf_maximum(float a, float b) {
  return (a != a || b != b) ? a + b : fmaxf(a, b);
}

__device__ __forceinline__ float jf_minimum(float a, float b) {
  return (a != a || b != b) ? a + b : fminf(a, b);
}
