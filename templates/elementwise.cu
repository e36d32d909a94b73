// Elementwise kernel: applies the generated jf_elementwise(p, i) to every element.
//
// Needs, from the generated prologue: JF_KERNEL_NAME, JF_THREADS, JF_NUMEL(p) (a literal or
// p.numel), struct jf_params, and jf_elementwise(const jf_params&, long long i).
// Launch: any 1-D grid of JF_THREADS-thread blocks; a grid-stride loop covers the rest.
#pragma once

extern "C" __global__ void __launch_bounds__(JF_THREADS) JF_KERNEL_NAME(const jf_params p) {
  const long long n = JF_NUMEL(p);
  const long long stride = static_cast<long long>(gridDim.x) * JF_THREADS;
  for (long long i = static_cast<long long>(blockIdx.x) * JF_THREADS + threadIdx.x; i < n;
       i += stride) {
    jf_elementwise(p, i);
  }
}
