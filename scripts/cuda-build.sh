#!/usr/bin/env bash
# Builds eegrun with CUDA on a machine of this kind, with or without a GPU or NVIDIA driver:
#   scripts/cuda-build.sh              # release build -> target/cuda/eegrun
#   scripts/cuda-build.sh --debug      # the same in the dev profile -> target/cuda/eegrun
# Everything comes from PyPI into target/cuda/ (about 800 MB, kept between builds):
#   - the CUDA 12.4 libraries dfdx calls through cudarc 0.9 (cuBLAS with cuBLASLt, NVRTC)
#     and cuda.h (cuRAND, which cudarc also binds, is never called: weights and dropout
#     masks are drawn on the host);
#   - no nvcc: PyPI's CUDA 12 wheels carry none (nvidia-cuda-nvcc-cu12 holds ptxas and NVVM
#     only), so dfdx's kernels are compiled to PTX by NVRTC through scripts/cuda/nvcc, a
#     stand-in for exactly the nvcc calls dfdx's build script makes.
# The binary links no CUDA library: it loads them when --device cuda first needs them
# (src/nn/cuda/libraries.rs), from the folders baked in here or EEGRUN_CUDA_LIBRARY_PATH,
# and libcuda.so.1 from the NVIDIA driver. Without a driver it trains on the CPU and says
# so for --device cuda. Kernels are PTX for compute capability CUDA_COMPUTE_CAP (default 70,
# Volta), which the driver compiles for any newer GPU.
# Note: the build replaces target/release/eegrun (same target folder, so dependencies are
# shared); `cargo build --release` gives back the CPU-only binary.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
case "${1:-}" in
  --debug) profile=debug ;;
  "") ;;
  *) echo "usage: scripts/cuda-build.sh [--debug]" >&2; exit 2 ;;
esac

cuda=target/cuda
venv=$cuda/venv
wheels=(
  "nvidia-cuda-runtime-cu12==12.4.127"
  "nvidia-cuda-nvrtc-cu12==12.4.127"
  "nvidia-cublas-cu12==12.4.5.8"
)
stamp=$cuda/wheels.txt
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${wheels[*]}" ]; then
  echo "== CUDA 12.4 libraries from PyPI into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${wheels[@]}"
  echo "${wheels[*]}" > "$stamp"
fi
nvidia=$("$venv/bin/python" -c 'import nvidia.cuda_runtime as r, os; print(os.path.dirname(list(r.__path__)[0]))')

# A toolkit folder as cudarc's and dfdx's build scripts expect it: include/cuda.h, and
# empty link archives for the -lcuda -lnvrtc -lcublas -lcublasLt -lcurand they ask for
# (every function they call is defined by eegrun itself and bound at run time).
root=$PWD/$cuda/root
mkdir -p "$root/lib64" "$cuda/bin"
ln -sfn "$nvidia/cuda_runtime/include" "$root/include"
for lib in cuda nvrtc cublas cublasLt curand; do
  printf '!<arch>\n' > "$root/lib64/lib$lib.a"
done

# dfdx's build script asks nvidia-smi for the GPU's compute capability before it reads
# CUDA_COMPUTE_CAP; where there is no working nvidia-smi, one that answers with it.
export CUDA_COMPUTE_CAP=${CUDA_COMPUTE_CAP:-70}
if ! nvidia-smi --query-gpu=compute_cap --format=csv >/dev/null 2>&1; then
  cat > "$cuda/bin/nvidia-smi" <<'EOF'
#!/bin/sh
# Written by scripts/cuda-build.sh for dfdx's build script on a machine without a GPU.
echo compute_cap
echo "$((CUDA_COMPUTE_CAP / 10)).$((CUDA_COMPUTE_CAP % 10))"
EOF
  chmod +x "$cuda/bin/nvidia-smi"
fi

libraries="$nvidia/cuda_nvrtc/lib:$nvidia/cublas/lib"
export CUDA_ROOT=$root
export NVRTC_LIBRARY=$nvidia/cuda_nvrtc/lib/libnvrtc.so.12
export EEGRUN_CUDA_LIBRARY_PATH=$libraries
export PATH=$PWD/scripts/cuda:$PWD/$cuda/bin:$PATH

echo "== cargo build ($profile) --features cuda, PTX for sm_$CUDA_COMPUTE_CAP"
if [ "$profile" = release ]; then
  cargo build --release --features cuda
else
  cargo build --features cuda
fi
cp "target/$profile/eegrun" "$cuda/eegrun"

# The binary must start where no CUDA library is installed: it may not need any at load.
if readelf -d "$cuda/eegrun" | grep -E 'NEEDED.*(cuda|cublas|curand|nvrtc)'; then
  echo "cuda-build: $cuda/eegrun links a CUDA library at load time (see above)" >&2
  exit 1
fi
echo "== built $cuda/eegrun ($(du -h "$cuda/eegrun" | cut -f1)); CUDA libraries from $libraries"
"$cuda/eegrun" --version
"$cuda/eegrun" devices
