# Sourced by the GPU-machine scripts (device_run.sh, device_check.sh): runs the GPU test suite
# one case at a time, each under its own time limit, so that a hang costs one case.
#   run_gpu_test_cases BIN_DIR OUT_DIR
# JITFUSE_GPU_TEST_CASES (doctest patterns separated by ';') replaces the list. Prints each
# case's exit status, its failures and its doctest summary; the whole output goes to
# OUT_DIR/gpu-tests.log.
run_gpu_test_cases() {
  local bin=$1 out=$2 tc
  local all="gpu: the wgmma*;gpu: the example*;gpu: odd*;gpu: fixed*;gpu: every op*;gpu: broadcast*"
  all+=";gpu: fused*;gpu: a DAG*;gpu: a launch*;gpu: bad*;gpu: elementwise vector*;gpu: launch_one*"
  all+=";gpu: a GEMM*"
  local cases
  IFS=';' read -r -a cases <<<"${JITFUSE_GPU_TEST_CASES:-$all}"
  for tc in "${cases[@]}"; do
    echo "--- $tc"
    timeout 300 "$bin/jitfuse_gpu_tests" -tc="$tc" >/tmp/tc.log 2>&1
    echo "exit: $?"
    grep -vE '^\[(gpu|doctest)\]|^$' /tmp/tc.log | grep -E "ERROR|FAILED|CHECK|REQUIRE|error|skipped" | head -20
    grep -E '^\[doctest\] (test cases|assertions)' /tmp/tc.log
    cat /tmp/tc.log >>"$out/gpu-tests.log"
  done
}
