// Hopper primitives: mbarriers, TMA tile loads, wgmma descriptors and ordering, setmaxnreg.
// wgmma and setmaxnreg need sm_90a; the rest is plain sm_90.
//
// wgmma accumulator layout (m64nN, f32): thread t of the warpgroup, warp w = t / 32, lane l,
// holds d[4 * j + 2 * h + e] = D[16 * w + 8 * h + l / 4][8 * j + 2 * (l % 4) + e]
// for j < N / 8, h, e in {0, 1}.
#pragma once

// The host's CUtensorMap: 128 opaque bytes, 64-byte aligned, passed inside a __grid_constant__
// parameter struct so that its address is in parameter space, where TMA may read it.
struct __align__(64) jf_tensor_map {
  unsigned long long opaque[16];
};

// --- mbarriers (shared::cta) ---

__device__ __forceinline__ void jf_mbar_init(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}

// Makes initialized barriers visible to the other threads and to the async (TMA) proxy.
__device__ __forceinline__ void jf_mbar_init_fence() {
  asm volatile("fence.mbarrier_init.release.cluster;\nfence.proxy.async.shared::cta;\n" ::: "memory");
}

// Arrives once and adds `bytes` to the transaction count the phase waits for.
__device__ __forceinline__ void jf_mbar_arrive_expect_tx(unsigned bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes)
               : "memory");
}

__device__ __forceinline__ void jf_mbar_arrive(unsigned bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}

// Waits until the phase with parity `parity` has completed.
__device__ __forceinline__ void jf_mbar_wait(unsigned bar, unsigned parity) {
  unsigned done = 0;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}

// --- TMA ---

__device__ __forceinline__ void jf_tma_prefetch(const jf_tensor_map* map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(map) : "memory");
}

// Copies the box at (inner coordinate x, outer coordinate y) of a 2-D tensor map into shared
// memory at dst; completion (its bytes) is signalled on barrier bar. Out-of-range parts of the
// box are filled with zeros and still count their bytes.
__device__ __forceinline__ void jf_tma_load_2d(unsigned dst, const jf_tensor_map* map, int x, int y,
                                               unsigned bar) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
      ::"r"(dst), "l"(map), "r"(x), "r"(y), "r"(bar)
      : "memory");
}

// --- clusters ---

__device__ __forceinline__ unsigned jf_cluster_ctarank() {
  unsigned r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;\n" : "=r"(r));
  return r;
}

// Programmatic dependent launch (sm_90). jf_grid_dependency_wait: waits until the grids this one
// depends on have completed and their memory is visible to it. jf_grid_launch_dependents: lets
// the next grid, if launched with programmatic stream serialization, start its CTAs once every
// CTA of this one has got here (they wait the same way before touching memory). Both are no-ops
// for a grid launched without that attribute.
__device__ __forceinline__ void jf_grid_dependency_wait() {
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
}
__device__ __forceinline__ void jf_grid_launch_dependents() {
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
}

// Every thread of every CTA in the cluster: a barrier with release/acquire ordering.
__device__ __forceinline__ void jf_cluster_sync() {
  asm volatile("barrier.cluster.arrive.release.aligned;\nbarrier.cluster.wait.acquire.aligned;\n" ::: "memory");
}

// Arrives once on the barrier at the same shared-memory offset as `bar` in CTA `rank` of the
// cluster (this CTA included). CTA-scope release, the default: the arrival only says that this
// thread's earlier reads (finished wgmma) are done, and .release.cluster costs far more.
__device__ __forceinline__ void jf_mbar_arrive_cluster(unsigned bar, unsigned rank) {
  asm volatile(
      "{\n.reg .b32 remote;\nmapa.shared::cluster.u32 remote, %0, %1;\n"
      "mbarrier.arrive.shared::cluster.b64 _, [remote];\n}\n"
      ::"r"(bar), "r"(rank)
      : "memory");
}

// Two floats at shared-memory offset `addr` of cluster CTA `rank` (distributed shared memory).
__device__ __forceinline__ float2 jf_dsmem_ld2(unsigned addr, unsigned rank) {
  float2 v;
  asm volatile(
      "{\n.reg .b32 remote;\nmapa.shared::cluster.u32 remote, %2, %3;\n"
      "ld.shared::cluster.v2.f32 {%0, %1}, [remote];\n}\n"
      : "=f"(v.x), "=f"(v.y)
      : "r"(addr), "r"(rank)
      : "memory");
  return v;
}

// As jf_tma_load_2d, but the box lands at the same offset in every CTA of `mask` (bit r: CTA
// rank r), each signalling its own barrier at bar's offset.
__device__ __forceinline__ void jf_tma_load_2d_multicast(unsigned dst, const jf_tensor_map* map, int x,
                                                         int y, unsigned bar, unsigned short mask) {
  asm volatile(
      "cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
      " [%0], [%1, {%2, %3}], [%4], %5;\n"
      ::"r"(dst), "l"(map), "r"(x), "r"(y), "r"(bar), "h"(mask)
      : "memory");
}

// --- wgmma ---

// The descriptor of a K-major operand tile in shared memory written by TMA with 128-byte
// swizzling: rows of 128 bytes, 8-row groups 1024 bytes apart (the stride byte offset). The tile
// must start on a 1024-byte boundary; `addr` may then step along K within the 128-byte row in
// 32-byte (one k-step of 16-bit or tf32 elements) increments.
__device__ __forceinline__ unsigned long long jf_wgmma_desc_sw128(unsigned addr) {
  unsigned long long d = 0;
  d |= static_cast<unsigned long long>((addr & 0x3FFFF) >> 4);
  d |= 1ULL << 16;                 // leading byte offset: unused for swizzled K-major tiles
  d |= (1024ULL >> 4) << 32;       // stride byte offset: 8 rows of 128 bytes
  d |= 1ULL << 62;                 // 128-byte swizzle
  return d;
}

// As jf_wgmma_desc_sw128 for 64-byte swizzling: rows of 64 bytes, 8-row groups 512 bytes apart,
// the tile on a 512-byte boundary.
__device__ __forceinline__ unsigned long long jf_wgmma_desc_sw64(unsigned addr) {
  unsigned long long d = 0;
  d |= static_cast<unsigned long long>((addr & 0x3FFFF) >> 4);
  d |= 1ULL << 16;
  d |= (512ULL >> 4) << 32;
  d |= 2ULL << 62;                 // 64-byte swizzle
  return d;
}

// Orders this warpgroup's register accesses before the wgmma that follow.
__device__ __forceinline__ void jf_wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void jf_wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
// Waits until at most N committed wgmma groups of this warpgroup are pending.
template <int N>
__device__ __forceinline__ void jf_wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Keeps the compiler from touching the accumulators while a wgmma may still write them.
template <int N>
__device__ __forceinline__ void jf_wgmma_fence_regs(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i) asm volatile("" : "+f"(d[i])::"memory");
}

// --- registers per warpgroup ---

template <int N>
__device__ __forceinline__ void jf_setmaxnreg_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(N));
}
template <int N>
__device__ __forceinline__ void jf_setmaxnreg_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(N));
}
