#!/usr/bin/env bash
# The main job: build, then take the example graph (Linear -> *0.5 -> Hardtanh(-2,2) -> GELU)
# through plan, compile and PTX, and where a GPU exists a checked run in f32 and bf16.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build="${BUILD_DIR:-build}"
jitfuse="$build/tools/jitfuse"
graph=examples/linear_scale_hardtanh_gelu.json
out="$build/quickstart"

echo "== plan =="
"$jitfuse" explain "$graph" --arch sm_90a --dims M=2048
echo "== compile (sm_90a and sm_80), with source, PTX and cubin =="
"$jitfuse" -v compile "$graph" --arch sm_90a --dims M=2048 --emit cu,ptx,cubin -o "$out"
"$jitfuse" compile "$graph" --arch sm_80 --dims M=2048
grep -m1 -E '^\.target' "$out"/jf_linear_scale_hardtanh_gelu_0.ptx

echo "== checked run =="
if "$jitfuse" run "$graph" --dims M=1 --random 1 >/dev/null 2>&1; then
  "$jitfuse" -v run "$graph" --dims M=2048 --random 1 --check --bench
  bf16="$out/linear_scale_hardtanh_gelu_bf16.json"
  sed 's/"f32"/"bf16"/g' "$graph" > "$bf16"
  "$jitfuse" run "$bf16" --dims M=2048 --random 1 --check --bench
else
  echo "skipped: no CUDA driver (or no GPU): the checked run needs one"
fi
echo "quickstart: ok"
