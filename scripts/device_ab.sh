#!/usr/bin/env bash
# A/B of code-generation knobs on the GPU machine: the jitfuse-vs-cuBLASLt benchmark on the large
# shapes under each setting given, e.g.
#   scripts/device_ab.sh BIN_DIR OUT_DIR "" "JITFUSE_WGMMA_BK=64B" "JITFUSE_WGMMA_CLUSTER=2"
# ("" is the default). Each setting's JSON goes to OUT_DIR/bench_<n>.json.
set -uo pipefail
bin=$(realpath "$1")
out=$(realpath "$2")
shift 2
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
export JITFUSE_SOURCE_DIR="$PWD" JITFUSE_CACHE_DIR=/tmp/jitfuse-cache
sed 's/"f32"/"bf16"/g' examples/linear_scale_hardtanh_gelu.json > /tmp/example_bf16.json
n=0
for setting in "$@"; do
  n=$((n + 1))
  echo "===== [$n] ${setting:-default} ($(date -u +%T))"
  env $setting timeout 150 "$bin/jitfuse_bench" --only "${JITFUSE_AB_ONLY:-8192x8192}" --out "$out/bench_$n.json" 2>&1 | tail -7
  env $setting timeout 60 "$bin/jitfuse" run /tmp/example_bf16.json --dims M=2048 --random 1 --check 2>&1 | grep -E "check|error"
  env $setting timeout 60 "$bin/jitfuse" run examples/linear_scale_hardtanh_gelu.json --math tf32x3 --dims M=2048 --random 1 --check 2>&1 | grep -E "check|error"
done
