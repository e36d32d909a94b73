#!/usr/bin/env bash
# On the GPU machine: use a cache warmed on a machine with no GPU, and measure cache costs.
#   scripts/device_cache_proof.sh BIN_DIR WARMED_CACHE_DIR OUT_DIR
# The run must show a disk hit and zero NVRTC compiles.
set -uo pipefail
bin=$(realpath "$1"); warmed=$(realpath "$2"); out=$(realpath "$3")
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -q libfmt.so.9 || export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$bin/lib"
cache=/tmp/warmed-cache
rm -rf "$cache" && cp -r "$warmed" "$cache"
{
  echo "== machine"; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; date -u
  echo "== entries carried from the build machine"; "$bin/jitfuse" --cache-dir "$cache" cache ls
  for g in examples/linear_scale_hardtanh_gelu.json examples/linear_scale_hardtanh_gelu_bf16.json; do
    echo "== jitfuse -v run $g --dims M=2048 (must be a disk hit, 0 compiled)"
    JITFUSE_CACHE_DIR="$cache" timeout 120 "$bin/jitfuse" -v run "$g" --dims M=2048 --random 1 --check --bench
    echo "exit: $?"
  done
  echo "== cache stats"; "$bin/jitfuse" --cache-dir "$cache" cache stats
  echo "== cache verify"; "$bin/jitfuse" --cache-dir "$cache" cache verify
  echo "== cache and launch costs"; timeout 120 "$bin/jitfuse_bench_cache" --out "$out/cache-bench.json"; echo "exit: $?"
} 2>&1 | tee "$out/cache-proof.log"
