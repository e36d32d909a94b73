// GELU, as torch.nn.functional.gelu computes it.
#pragma once

// approximate="none": x * Phi(x), with the exact erf.
__device__ __forceinline__ float jf_gelu_erf(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.7071067811865476f));
}

// approximate="none" for |x| <= 2.125 only: the code generator emits it where the graph bounds
// the input (OpDef::device_in_range: hardtanh(-2, 2) before it, say). x * Phi(x) with
// Phi(x) = 0.5 + x * R(x^2), R of degree 7: Chebyshev interpolation of (Phi(x) - 0.5) / x in
// x^2 at 8 nodes on [0, 2.125^2], coefficients rounded to f32 (fitted with mpmath; see
// bench/NOTES.md v5). Max abs error on [-2.125, 2.125], f32 evaluation simulated at 4001
// points: 3.0e-7 (the erff form: 1.9e-7); 10 instructions, no branch, against erff's ~24.
__device__ __forceinline__ float jf_gelu_erf_bounded(float x) {
  const float s = x * x;
  float r = -1.57607332e-8f;
  r = fmaf(r, s, 5.10379095e-7f);
  r = fmaf(r, s, -8.90206866e-6f);
  r = fmaf(r, s, 1.14344373e-4f);
  r = fmaf(r, s, -1.18611369e-3f);
  r = fmaf(r, s, 9.97288432e-3f);
  r = fmaf(r, s, -6.64902404e-2f);
  r = fmaf(r, s, 3.98942262e-1f);
  return x * fmaf(x, r, 0.5f);
}

// approximate="tanh": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
__device__ __forceinline__ float jf_gelu_tanh(float x) {
  const float inner = 0.7978845608028654f * (x + 0.044715f * x * x * x);
  return 0.5f * x * (1.0f + tanhf(inner));
}
