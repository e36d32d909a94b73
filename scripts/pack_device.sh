#!/usr/bin/env bash
# Builds everything (with the benchmark) and copies what the GPU machine runs into .devcarry/,
# an ignored folder that the device tool carries: scripts/device_run.sh .devcarry OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build JITFUSE_CMAKE_ARGS=-DJITFUSE_BUILD_BENCH=ON ./scripts/setup.sh
rm -rf .devcarry && mkdir -p .devcarry/lib
cp build/tools/jitfuse build/tests/jitfuse_gpu_tests build/bench/jitfuse_bench build/bench/jitfuse_bench_cache .devcarry/
cp -L "$(ldconfig -p | awk '/libfmt.so.9 /{print $NF; exit}')" .devcarry/lib/
du -sh .devcarry
