#!/usr/bin/env bash
# Builds everything (with the benchmark) and copies what the GPU machine runs into .devcarry/,
# an ignored folder that the device tool carries: scripts/device_run.sh .devcarry OUT, and
# scripts/device_pytorch.sh .devcarry OUT (which links lib/libjitfuse.a into the PyTorch bridge
# there, with lib/libfmt.so.9, and uses bin/ninja where the machine has no ninja).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=build JITFUSE_CMAKE_ARGS=-DJITFUSE_BUILD_BENCH=ON ./scripts/setup.sh
rm -rf .devcarry && mkdir -p .devcarry/lib
cp build/tools/jitfuse build/tests/jitfuse_gpu_tests build/bench/jitfuse_bench build/bench/jitfuse_bench_cache \
   build/bench/jitfuse_bench_elementwise .devcarry/
cp -L "$(ldconfig -p | awk '/libfmt.so.9 /{print $NF; exit}')" .devcarry/lib/
cp build/libjitfuse.a .devcarry/lib/
mkdir -p .devcarry/bin && cp -L "$(command -v ninja)" .devcarry/bin/
du -sh .devcarry
