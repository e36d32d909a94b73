#!/usr/bin/env bash
# A compact GPU-machine call for kernel work: every GPU test case, compute-sanitizer memcheck and
# racecheck on the wgmma cases (small shapes), a list of benchmark cases, and the SASS of chosen
# kernels. Run from the repository root there:
#   scripts/device_check.sh BIN_DIR OUT_DIR
# BIN_DIR as for scripts/device_run.sh (built by scripts/pack_device.sh). Environment:
#   JITFUSE_CHECK_TESTS=0      skip the GPU tests and sanitizers (JITFUSE_GPU_TEST_CASES: which;
#                              scripts/gpu_test_cases.sh)
#   JITFUSE_CHECK_BENCH        benchmark runs separated by ';', each "ONLY|GEMM" or
#                              "ONLY|GEMM|FLAGS" (jitfuse_bench --only ONLY --gemm GEMM FLAGS;
#                              GEMM may be empty; FLAGS e.g. --gemm-only)
#   JITFUSE_CHECK_SASS         "GRAPH|DIMS|ARGS" entries separated by ';': compiled for sm_90a, SASS
#                              written to OUT_DIR/sass_<n>.txt
# Everything goes to OUT_DIR/log.txt, the benchmark JSON to OUT_DIR/bench_<n>.json.
set -uo pipefail
source "$(dirname "$0")/gpu_test_cases.sh"
bin=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
export JITFUSE_SOURCE_DIR="$PWD" JITFUSE_CACHE_DIR=/tmp/jitfuse-cache
rm -rf "$JITFUSE_CACHE_DIR"
start=$SECONDS
step() { echo; echo "===== $* ($(date -u +%H:%M:%S), $((SECONDS - start))s)"; }
python3 - <<'PY'
import json
g = json.load(open("examples/linear_scale_hardtanh_gelu.json"))
for v in g["inputs"].values(): v["dtype"] = "bf16"
json.dump(g, open("/tmp/example_bf16.json", "w"))
g = json.load(open("examples/linear_scale_hardtanh_gelu.json"))
g["inputs"]["x"]["shape"] = ["M", 512]; g["inputs"]["w"]["shape"] = [1024, 512]; g["inputs"]["bias"]["shape"] = [1024]
json.dump(g, open("/tmp/small_f32.json", "w"))
for v in g["inputs"].values(): v["dtype"] = "bf16"
json.dump(g, open("/tmp/small_bf16.json", "w"))
PY
{
step "machine"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv

if [ "${JITFUSE_CHECK_TESTS:-1}" != 0 ]; then
  step "GPU tests"
  run_gpu_test_cases "$bin" "$out"
  step "compute-sanitizer memcheck, wgmma cases (small shapes)"
  JITFUSE_GPU_TESTS_SMALL=1 timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 \
    "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*' 2>&1 | tail -6
  echo "memcheck exit: ${PIPESTATUS[0]}"
  step "compute-sanitizer racecheck, wgmma cases (small shapes)"
  JITFUSE_GPU_TESTS_SMALL=1 timeout 200 compute-sanitizer --tool racecheck --error-exitcode 9 \
    "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*' 2>&1 | tail -6
  echo "racecheck exit: ${PIPESTATUS[0]}"
fi

n=0
IFS=';' read -r -a runs <<<"${JITFUSE_CHECK_BENCH:-}"
for r in "${runs[@]}"; do
  [ -z "$r" ] && continue
  n=$((n + 1))
  IFS='|' read -r only gemm flags <<<"$r"
  step "bench [$n] --only '$only' --gemm '${gemm:-auto}' ${flags:-}"
  # shellcheck disable=SC2086 # FLAGS are words
  timeout 150 "$bin/jitfuse_bench" --only "$only" ${gemm:+--gemm "$gemm"} ${flags:-} --out "$out/bench_$n.json" 2>&1 | tail -n +2
done

n=0
IFS=';' read -r -a sass <<<"${JITFUSE_CHECK_SASS:-}"
for e in "${sass[@]}"; do
  [ -z "$e" ] && continue
  n=$((n + 1))
  IFS='|' read -r graph dims args <<<"$e"
  step "SASS [$n] $graph --dims $dims $args"
  rm -rf /tmp/sass && "$bin/jitfuse" compile "$graph" --arch sm_90a --dims $dims $args --emit cubin -o /tmp/sass >/dev/null
  for c in /tmp/sass/*.cubin; do
    cuobjdump --dump-resource-usage "$c" 2>/dev/null | grep -o 'REG:[0-9]*.*' | head -1
    cuobjdump --dump-sass "$c" >"$out/sass_$n.txt"
    grep -oE '\b(HGMMA|LDS|STS|WARPGROUP|DEPBAR|SYNCS|BAR|LDL|STL)[.A-Z0-9]*' "$out/sass_$n.txt" | sort | uniq -c | sort -rn | head -20
  done
done
step "done"
} 2>&1 | tee "$out/log.txt"
