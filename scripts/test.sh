#!/usr/bin/env bash
# Builds and runs the test suites through CTest: the CPU suite, the fuzzer's fixed-seed run, an
# installed copy used from another project, then the GPU suite (which
# prints "skipped: no CUDA driver" and passes on machines without a GPU), then the PyTorch
# bridge (which prints "skipped: no torch" or "skipped: no CUDA device" where it cannot run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
build="${BUILD_DIR:-build}"
ctest --test-dir "$build" --output-on-failure -R '^(cpu|fuzz|install)$'
log="$build/gpu-tests.log"
if ! ctest --test-dir "$build" --output-on-failure -V -R '^gpu$' >"$log" 2>&1; then
  cat "$log"
  exit 1
fi
sed -E 's/^[0-9]+: //' "$log" | grep -E '^(skipped: no CUDA driver|GPU tests on|\[doctest\] test cases)' | sort -u
listed=$(ctest --test-dir "$build" -N -R '^pytorch_bridge$')
if [[ $listed == *pytorch_bridge* ]]; then
  log="$build/pytorch-bridge.log"
  if ! ctest --test-dir "$build" --output-on-failure -V -R '^pytorch_bridge$' >"$log" 2>&1; then
    cat "$log"
    exit 1
  fi
  sed -E 's/^[0-9]+: //' "$log" | grep -E '^skipped: ' | sort -u
else
  echo "skipped: pytorch_bridge (CMake found no python3)"
fi
echo "tests: ok"
