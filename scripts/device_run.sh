#!/usr/bin/env bash
# The GPU machine's one call: GPU tests, compute-sanitizer, checked CLI runs, benchmarks.
# Run from the repository root there:  scripts/device_run.sh BIN_DIR OUT_DIR [full|nocompile|quick|lean]
# (full also times torch.compile; quick shortens the benchmark; lean skips the PyTorch baseline).
# BIN_DIR holds jitfuse, jitfuse_gpu_tests, jitfuse_bench (built here by scripts/pack_device.sh)
# and lib/ (libfmt.so.9, used only where the machine lacks it). Results go to OUT_DIR.
set -uo pipefail
source "$(dirname "$0")/gpu_test_cases.sh"
bin=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
mode=${3:-full}
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
export JITFUSE_SOURCE_DIR="$PWD"
export JITFUSE_CACHE_DIR=/tmp/jitfuse-cache
rm -rf "$JITFUSE_CACHE_DIR"
jf="$bin/jitfuse"
graph=examples/linear_scale_hardtanh_gelu.json
start=$SECONDS
budget=${JITFUSE_DEVICE_BUDGET_S:-560}   # stay inside the device tool's 600 s per command
step() { echo; echo "===== $* ($(date -u +%H:%M:%S), ${SECONDS}s)"; }
# True while at least $1 seconds of the budget are left.
have() { [ $((budget - (SECONDS - start))) -ge "$1" ]; }
# Runs a command with a time limit and prints its exit status.
limited() { timeout "$1" "${@:2}"; echo "exit: $?"; }

{
step "machine"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw --format=csv
nproc

step "GPU tests"
run_gpu_test_cases "$bin" "$out"

step "jitfuse run: the example, f32 ieee, M=2048 (cold compile, then a disk hit)"
limited 90 "$jf" -v run "$graph" --dims M=2048 --random 1 --check --bench
limited 90 "$jf" -v run "$graph" --dims M=2048 --random 2 --check
sed 's/"f32"/"bf16"/g' "$graph" > /tmp/example_bf16.json
step "jitfuse run: bf16"
limited 90 "$jf" run /tmp/example_bf16.json --dims M=2048 --random 1 --check --bench
step "jitfuse run: f32 tf32x3 and tf32"
limited 90 "$jf" run "$graph" --dims M=2048 --random 1 --check --bench --math tf32x3
limited 90 "$jf" run "$graph" --dims M=2048 --random 1 --check --bench --math tf32 --atol 1e-2 --rtol 1e-2
step "jitfuse run: 128x1024x512"
python3 - <<'PY'
import json
g = json.load(open("examples/linear_scale_hardtanh_gelu.json"))
g["inputs"]["x"]["shape"] = ["M", 512]; g["inputs"]["w"]["shape"] = [1024, 512]; g["inputs"]["bias"]["shape"] = [1024]
json.dump(g, open("/tmp/small_f32.json", "w"))
for v in g["inputs"].values(): v["dtype"] = "bf16"
json.dump(g, open("/tmp/small_bf16.json", "w"))
PY
limited 90 "$jf" run /tmp/small_f32.json --dims M=128 --random 1 --check --bench
limited 90 "$jf" run /tmp/small_bf16.json --dims M=128 --random 1 --check --bench

step "jitfuse explain --bench: measured beside the roofline (fused, then one kernel per node)"
limited 90 "$jf" explain "$graph" --dims M=2048 --bench
limited 90 "$jf" explain "$graph" --dims M=2048 --bench --no-fuse --format md
timeout 90 "$jf" explain "$graph" --dims M=2048 --bench --format json --bench-runs 20 >"$out/explain-bench.json"
echo "exit: $?"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("explain json:", j["measured"]["gpu"], [round(k["measured_median_us"], 1) for k in j["kernels"]])' "$out/explain-bench.json"

step "benchmark: elementwise bandwidth vs cuMemcpyDtoD (256 MB tensors)"
limited 120 "$bin/jitfuse_bench_elementwise" --out "$out/bench-elementwise.json"

step "ptxas resources and SASS instruction mix"
for f in "$graph" /tmp/example_bf16.json; do
  "$jf" compile "$f" --dims M=2048 --emit cubin -o /tmp/cubins >/dev/null
done
for c in /tmp/cubins/*.cubin; do
  echo "$c: $(cuobjdump --dump-resource-usage "$c" 2>/dev/null | grep -o 'REG:[0-9]*.*' | head -1)"
  cuobjdump --dump-sass "$c" | grep -oE '\b(HGMMA|HMMA|FFMA|LDSM|LDGSTS|UTMALDG|LDS|LDG|STG|LDL|STL)[.A-Z0-9]*' | cut -d. -f1 | sort | uniq -c | tr '\n' ' '; echo
done

step "benchmark: jitfuse vs cuBLASLt"
have 60 && if [ "$mode" = quick ]; then limited 120 "$bin/jitfuse_bench" --quick --out "$out/bench.json"; else limited 150 "$bin/jitfuse_bench" --out "$out/bench.json"; fi
step "benchmark: PyTorch"
[ "$mode" != lean ] && have 200 && if [ "$mode" = full ]; then PYTHONUNBUFFERED=1 timeout 400 python3 bench/torch_baseline.py --out "$out/torch.json" --compile
else PYTHONUNBUFFERED=1 timeout 200 python3 bench/torch_baseline.py --out "$out/torch.json"; fi
have 120 && { step "compute-sanitizer memcheck (small shapes)"
JITFUSE_GPU_TESTS_SMALL=1 timeout $((budget - (SECONDS - start) - 60)) compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*,gpu: odd*,gpu: every op*,gpu: a DAG*,gpu: elementwise vector*' 2>&1 | tail -15
echo "memcheck exit: ${PIPESTATUS[0]}"; }
have 90 && { step "compute-sanitizer racecheck (small shapes)"
JITFUSE_GPU_TESTS_SMALL=1 timeout $((budget - (SECONDS - start) - 5)) compute-sanitizer --tool racecheck --error-exitcode 9 \
  "$bin/jitfuse_gpu_tests" -tc='gpu: the wgmma*,gpu: odd*' 2>&1 | tail -15
echo "racecheck exit: ${PIPESTATUS[0]}"; }

step "done"
} 2>&1 | tee "$out/log.txt"
