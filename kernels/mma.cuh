// Warp-level tensor-core MMA (mma.sync, sm_80+) and the shared-memory loads that feed it.
// Fragment layouts are the PTX ISA's: lane = 4 * g + t, g = lane / 4, t = lane % 4.
#pragma once

// Loads four 8x8 matrices of 16-bit elements (rows of 16 bytes); lane l gives the row address of
// matrix l / 8, and register q receives (row g, columns 2t, 2t+1) of matrix q.
__device__ __forceinline__ void jf_ldmatrix_x4(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// As jf_ldmatrix_x4, transposed: register q receives (rows 2t, 2t+1, column g) of matrix q.
__device__ __forceinline__ void jf_ldmatrix_x4_trans(unsigned (&r)[4], unsigned addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

// Loads the 32-bit word at shared address addr.
__device__ __forceinline__ unsigned jf_lds_u32(unsigned addr) {
  unsigned v;
  asm volatile("ld.shared.b32 %0, [%1];\n" : "=r"(v) : "r"(addr));
  return v;
}

// Rounds an f32 (as bits) to tf32, to nearest with ties away from zero; the result is a valid f32.
__device__ __forceinline__ unsigned jf_to_tf32(unsigned x) {
  unsigned r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(__uint_as_float(x)));
  return r;
}

// d += a * b for a 16x8x16 tile: a row-major f16 (4 regs), b column-major f16 (2 regs), f32 d.
__device__ __forceinline__ void jf_mma_16816_f16(float (&d)[4], const unsigned (&a)[4],
                                                 const unsigned (&b)[2]) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// d += a * b for a 16x8x16 tile of bf16, f32 accumulate; fragments as jf_mma_16816_f16.
__device__ __forceinline__ void jf_mma_16816_bf16(float (&d)[4], const unsigned (&a)[4],
                                                  const unsigned (&b)[2]) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// d += a * b for a 16x8x8 tile of tf32 (each reg one tf32 value), f32 accumulate.
__device__ __forceinline__ void jf_mma_1688_tf32(float (&d)[4], const unsigned (&a)[4],
                                                 const unsigned (&b)[2]) {
  asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
