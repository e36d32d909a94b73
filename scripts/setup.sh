#!/usr/bin/env bash
# Installs what is missing (Debian/Ubuntu packages), then configures and builds jitfuse into
# ${BUILD_DIR:-build}. Needs the CUDA Toolkit (NVRTC and cuda.h), e.g. in /usr/local/cuda.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake ninja-build g++ libfmt-dev nlohmann-json3-dev libspdlog-dev doctest-dev
          libcli11-dev libxxhash-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cuda_root="${CUDAToolkit_ROOT:-}"
if [ -z "$cuda_root" ]; then
  if command -v nvcc >/dev/null; then cuda_root="$(dirname "$(dirname "$(command -v nvcc)")")"
  elif [ -d /usr/local/cuda ]; then cuda_root=/usr/local/cuda
  else echo "error: no CUDA Toolkit found (looked for nvcc and /usr/local/cuda); set CUDAToolkit_ROOT" >&2; exit 2
  fi
fi

build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUDAToolkit_ROOT="$cuda_root" \
      ${JITFUSE_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)"
