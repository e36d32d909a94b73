// cp.async (sm_80+): asynchronous 16-byte global -> shared copies, grouped and waited on per thread.
#pragma once

// Starts a 16-byte copy from global src to shared address dst; when !full, writes 16 zero bytes
// and reads nothing (src must still be a valid address: pass the tensor's base pointer).
__device__ __forceinline__ void jf_cp_async_16(unsigned dst, const void* src, bool full) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(full ? 16 : 0)
               : "memory");
}

// Closes the group of copies this thread started since the last commit (an empty group is fine).
__device__ __forceinline__ void jf_cp_async_commit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}

// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void jf_cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

