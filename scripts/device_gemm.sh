#!/usr/bin/env bash
# A short GPU-machine call for GEMM kernel work: the GEMM GPU tests, checked example runs, the
# jitfuse-vs-cuBLASLt benchmark, SASS of the example kernels, and compute-sanitizer on the
# wgmma template. Run from the repository root there:
#   scripts/device_gemm.sh BIN_DIR OUT_DIR [BENCH_ARGS...]
set -uo pipefail
bin=$(realpath "$1")
out=$(realpath "$2")
shift 2
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
export JITFUSE_SOURCE_DIR="$PWD"
export JITFUSE_CACHE_DIR=/tmp/jitfuse-cache
jf="$bin/jitfuse"
step() { echo; echo "===== $* ($(date -u +%H:%M:%S), ${SECONDS}s)"; }
limited() { timeout "$1" "${@:2}"; echo "exit: $?"; }
{
step "machine"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw --format=csv

step "GPU tests: wgmma at odd shapes, then the example"
for tc in 'gpu: the wgmma*' 'gpu: the example*'; do
  echo "--- $tc"
  timeout 240 "$bin/jitfuse_gpu_tests" -tc="$tc" >/tmp/tc.log 2>&1
  echo "exit: $?"
  grep -vE '^\[gpu\]|^$' /tmp/tc.log | tail -30
  grep -E '^\[gpu\]' /tmp/tc.log | tail -3
  cat /tmp/tc.log >>"$out/gpu-tests.log"
done

step "checked runs of the example at M=2048"
sed 's/"f32"/"bf16"/g' examples/linear_scale_hardtanh_gelu.json > /tmp/example_bf16.json
limited 90 "$jf" run /tmp/example_bf16.json --dims M=2048 --random 1 --check --bench
limited 90 "$jf" run examples/linear_scale_hardtanh_gelu.json --dims M=2048 --random 1 --check --bench --math tf32 --atol 1e-2 --rtol 1e-2

step "benchmark: jitfuse vs cuBLASLt"
limited 200 "$bin/jitfuse_bench" --out "$out/bench.json" "$@"

step "SASS of the example kernels"
for a in "/tmp/example_bf16.json" "examples/linear_scale_hardtanh_gelu.json --math tf32"; do
  rm -rf /tmp/cubins
  "$jf" compile $a --dims M=2048 --emit cubin -o /tmp/cubins >/dev/null
  for c in /tmp/cubins/*.cubin; do
    echo "$a: $(cuobjdump --dump-resource-usage "$c" 2>/dev/null | grep -o 'REG:[0-9]*.*' | head -1)"
    cuobjdump --dump-sass "$c" > "$out/$(basename "$c" .cubin)$(echo "$a" | grep -o tf32).sass"
    grep -oE '\b(HGMMA|HMMA|UTMALDG|SYNCS|WARPSYNC|BAR|LDL|STL|STG|LDG|USETMAXREG)[.A-Z0-9_]*' \
      "$out/$(basename "$c" .cubin)$(echo "$a" | grep -o tf32).sass" | sort | uniq -c | sort -rn | head -20 | tr '\n' ' '; echo
  done
done

step "compute-sanitizer on the wgmma template (small shapes)"
JITFUSE_GPU_TESTS_SMALL=1 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*' 2>&1 | tail -8
echo "memcheck exit: ${PIPESTATUS[0]}"
JITFUSE_GPU_TESTS_SMALL=1 timeout 150 compute-sanitizer --tool racecheck --error-exitcode 9 \
  "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*' 2>&1 | tail -8
echo "racecheck exit: ${PIPESTATUS[0]}"
step "done"
} 2>&1 | tee "$out/log.txt"
