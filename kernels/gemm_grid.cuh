// Block-to-tile mapping shared by the GEMM templates.
#pragma once

// Maps linear block index bid to output tile (tm, tn) of a tiles_m x tiles_n grid. Blocks walk
// groups of 8 M-tiles column by column, so blocks running together share A and B tiles in L2.
__device__ __forceinline__ void jf_gemm_tile(int bid, int tiles_m, int tiles_n, int& tm, int& tn) {
  constexpr int kGroup = 8;
  const int per_group = kGroup * tiles_n;
  const int first_m = (bid / per_group) * kGroup;
  const int rows = tiles_m - first_m < kGroup ? tiles_m - first_m : kGroup;
  const int in_group = bid % per_group;
  tm = first_m + in_group % rows;
  tn = in_group / rows;
}
