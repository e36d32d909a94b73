// Activation functions in f32, with PyTorch's semantics (NaN in, NaN out).
#pragma once

__device__ __forceinline__ float jf_relu(float x) { return x < 0.0f ? 0.0f : x; }

__device__ __forceinline__ float jf_leaky_relu(float x, float slope) { return x > 0.0f ? x : x * slope; }

__device__ __forceinline__ float jf_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ __forceinline__ float jf_silu(float x) { return x / (1.0f + expf(-x)); }

// log(1 + exp(beta x)) / beta, and x itself once beta x passes the threshold (no overflow).
__device__ __forceinline__ float jf_softplus(float x, float beta, float threshold) {
  return x * beta > threshold ? x : log1pf(expf(beta * x)) / beta;
}

__device__ __forceinline__ float jf_mish(float x) { return x * tanhf(jf_softplus(x, 1.0f, 20.0f)); }

__device__ __forceinline__ float jf_elu(float x, float alpha) { return x > 0.0f ? x : alpha * expm1f(x); }

// relu6(x + 3) / 6 with comparisons, not fminf/fmaxf, so that NaN stays NaN.
__device__ __forceinline__ float jf_hardsigmoid(float x) {
  const float t = x + 3.0f;
  return (t < 0.0f ? 0.0f : (t > 6.0f ? 6.0f : t)) / 6.0f;
}

__device__ __forceinline__ float jf_hardswish(float x) { return x * jf_hardsigmoid(x); }
