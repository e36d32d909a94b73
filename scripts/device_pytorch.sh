#!/usr/bin/env bash
# The GPU machine's PyTorch-bridge run: builds python/jitfuse_torch's extension there (its g++
# and PyTorch, with load_inline) against a carried libjitfuse.a, runs
# tests/python/test_torch_bridge.py, then examples/pytorch/model_new.py for f32 (math ieee, tf32x3 and
# bf16x3) and bf16. From the repository root:
#   scripts/device_pytorch.sh BUILD_OR_PREFIX OUT_DIR
# BUILD_OR_PREFIX: .devcarry (made here by scripts/pack_device.sh: lib/libjitfuse.a,
# lib/libfmt.so.9, bin/ninja), a build directory, or an install prefix (it has include/jitfuse/).
# Results go to OUT_DIR: log.txt, test_torch_bridge.log, model_new_*.json. Every step runs under
# `timeout`, prints its exit status, and the whole stays within $JITFUSE_DEVICE_BUDGET_S (560 s).
set -uo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 BUILD_OR_PREFIX OUT_DIR" >&2; exit 2; fi
cd "$(dirname "$0")/.."
where=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
if [ -f "$where/include/jitfuse/jitfuse.hpp" ]; then
  export JITFUSE_PREFIX="$where"; unset JITFUSE_BUILD_DIR
else
  export JITFUSE_BUILD_DIR="$where"; unset JITFUSE_PREFIX
fi
export JITFUSE_CACHE_DIR=/tmp/jitfuse-cache-torch
export JITFUSE_TORCH_BUILD_DIR=${JITFUSE_TORCH_BUILD_DIR:-/tmp/jitfuse-torch-build}
export LD_LIBRARY_PATH="/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
rm -rf "$JITFUSE_CACHE_DIR"
# load_inline needs ninja: the Python environment's, else the one pack_device.sh carried.
py_bin=$(dirname "$(python3 -c 'import sys; print(sys.executable)')")
command -v ninja >/dev/null || export PATH="$PATH:$py_bin"
command -v ninja >/dev/null || export PATH="$PATH:$where/bin"

start=$SECONDS
budget=${JITFUSE_DEVICE_BUDGET_S:-560}   # stay inside the device tool's 600 s per command
step() { echo; echo "===== $* ($(date -u +%H:%M:%S), $((SECONDS - start))s)"; }
left() { echo $((budget - (SECONDS - start))); }
# limited CAP NAME CMD...: runs CMD under timeout (CAP, or what is left of the budget if less),
# prints and records its exit status.
declare -A status
limited() {
  local cap=$1 name=$2; shift 2
  local t; t=$(left); [ "$t" -gt "$cap" ] && t=$cap
  if [ "$t" -lt 20 ]; then echo "skipped $name: the time budget is spent"; status[$name]=skipped; return; fi
  timeout "$t" "$@"
  local rc=$?
  [ "$rc" -eq 124 ] && echo "$name: timed out after ${t}s"
  echo "exit: $rc ($name)"
  status[$name]=$rc
}

{
step "machine"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu --format=csv
echo "cores: $(nproc)"
python3 - <<'PY'
import sys
print("python", sys.version.split()[0], sys.executable)
try:
    import torch
    print("torch", torch.__version__, "CUDA", torch.version.cuda, "cxx11 abi",
          torch._C._GLIBCXX_USE_CXX11_ABI, "devices", torch.cuda.device_count(),
          torch.cuda.get_device_name() if torch.cuda.is_available() else "")
    from torch.utils import cpp_extension
    print("CUDA_HOME", cpp_extension.CUDA_HOME)
except Exception as e:
    print("torch: not usable:", type(e).__name__, e)
PY
echo "c++: $(c++ --version | head -1); ninja: $(command -v ninja) $(ninja --version 2>&1)"
echo "JITFUSE_PREFIX=${JITFUSE_PREFIX:-} JITFUSE_BUILD_DIR=${JITFUSE_BUILD_DIR:-}"
ls -la "$where" "$where/lib" 2>&1
ldconfig -p | grep -E 'libfmt|libnvrtc\.so' || echo "(no libfmt/libnvrtc in ldconfig's cache)"
ls /usr/local/cuda/lib64/libnvrtc* 2>&1 | head -4

step "build the extension (load_inline, verbose: the compiler's commands and output)"
limited 300 build python3 - <<'PY'
import sys
sys.path.insert(0, "python")
import jitfuse_torch
for k, v in jitfuse_torch.find_jitfuse().items():
    print(f"{k}: {v}")
ext = jitfuse_torch.load(verbose=True)
print("built:", ext.__file__, "libjitfuse", ext.version())
PY
so=$(ls -t "$JITFUSE_TORCH_BUILD_DIR"/*/*.so 2>/dev/null | head -1)
if [ "${status[build]}" != 0 ]; then
  echo "--- the build failed; what the build directory holds:"
  for d in "$JITFUSE_TORCH_BUILD_DIR"/*/; do ls -la "$d"; cat "$d/build.ninja" 2>/dev/null; done
elif [ -n "$so" ]; then
  readelf -d "$so" | grep -E 'NEEDED|RUNPATH'
  ldd "$so" | grep -E "fmt|nvrtc"
fi

if [ "${status[build]}" = 0 ]; then
  step "tests/python/test_torch_bridge.py"
  limited 240 test bash -o pipefail -c 'python3 tests/python/test_torch_bridge.py 2>&1 | tee "$0"' \
    "$out/test_torch_bridge.log"
  step "examples/pytorch/model_new.py: f32, math ieee (2048 x 8192 -> 8192)"
  limited 160 f32_ieee python3 examples/pytorch/model_new.py --dtype f32 --math ieee \
    --out "$out/model_new_f32_ieee.json"
  step "examples/pytorch/model_new.py: bf16"
  limited 160 bf16 python3 examples/pytorch/model_new.py --dtype bf16 --out "$out/model_new_bf16.json"
  step "examples/pytorch/model_new.py: f32, math tf32x3"
  # Eager and torch.compile were timed for f32 above; skip torch.compile when time is short.
  nocompile=""; [ "$(left)" -lt 150 ] && nocompile="--no-compile"
  limited 160 f32_tf32x3 python3 examples/pytorch/model_new.py --dtype f32 --math tf32x3 $nocompile \
    --out "$out/model_new_f32_tf32x3.json"
  step "examples/pytorch/model_new.py: f32, math bf16x3"
  limited 160 f32_bf16x3 python3 examples/pytorch/model_new.py --dtype f32 --math bf16x3 --no-compile \
    --out "$out/model_new_f32_bf16x3.json"
else
  echo "skipping the tests and the example: the extension did not build"
fi

step "summary"
rc=0
for name in build test f32_ieee bf16 f32_tf32x3 f32_bf16x3; do
  echo "$name: exit ${status[$name]:-not run}"
  [ "${status[$name]:-x}" = 0 ] || rc=1
done
exit $rc
} 2>&1 | tee "$out/log.txt"
exit "${PIPESTATUS[0]}"
