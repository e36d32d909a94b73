#!/usr/bin/env bash
# A/B of GEMM configs on the GPU machine: the jitfuse-vs-cuBLASLt benchmark on the large shapes
# once per CompileOptions::gemm choice given, plus a checked bf16 and tf32x3 run of the example:
#   scripts/device_ab.sh BIN_DIR OUT_DIR auto "wgmma,cluster=1" mma
# Each choice's JSON goes to OUT_DIR/bench_<n>_<filter>.json; JITFUSE_AB_ONLY narrows the cases
# (filters separated by ';', each a jitfuse_bench --only).
set -uo pipefail
bin=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
shift 2
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
export JITFUSE_SOURCE_DIR="$PWD" JITFUSE_CACHE_DIR=/tmp/jitfuse-cache
sed 's/"f32"/"bf16"/g' examples/linear_scale_hardtanh_gelu.json > /tmp/example_bf16.json
n=0
for gemm in "$@"; do
  n=$((n + 1))
  echo "===== [$n] --gemm $gemm ($(date -u +%T))"
  IFS=';' read -r -a only <<<"${JITFUSE_AB_ONLY:-8192x8192}"
  for o in "${only[@]}"; do
    timeout 150 "$bin/jitfuse_bench" --only "$o" --gemm "$gemm" --out "$out/bench_${n}_${o// /_}.json" 2>&1 | tail -n +2
  done
  timeout 60 "$bin/jitfuse" run /tmp/example_bf16.json --gemm "$gemm" --dims M=2048 --random 1 --check 2>&1 | grep -E "check|error"
  timeout 60 "$bin/jitfuse" run examples/linear_scale_hardtanh_gelu.json --gemm "$gemm" --math tf32x3 --dims M=2048 --random 1 --check 2>&1 | grep -E "check|error"
done
