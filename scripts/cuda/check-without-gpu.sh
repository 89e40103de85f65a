#!/usr/bin/env bash
# Checks a CUDA build of eegrun on a machine without a GPU (CI runs it after
# scripts/cuda-build.sh): it starts, trains on the CPU, and for --device cuda prints one
# line naming what is missing -- with no driver, and with scripts/cuda/fake_driver.c as
# the driver (no device; one device that refuses to work), which also shows that every
# driver function is bound and called with its arguments. Exit 1 on the first mismatch.
#   scripts/cuda/check-without-gpu.sh [BINARY]     (default target/cuda/eegrun)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/cuda/eegrun}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# expect NAME EXPECTED_EXIT PATTERN COMMAND...: the command's exit status and one line of
# its output matching PATTERN (grep -E).
expect() {
  local name=$1 status=$2 pattern=$3
  shift 3
  local got=0
  "$@" > "$work/out" 2>&1 || got=$?
  if [ "$got" = "$status" ] && grep -Eq "$pattern" "$work/out"; then
    echo "ok   $name: $(grep -E "$pattern" "$work/out" | head -1)"
  else
    echo "FAIL $name: exit $got (expected $status), output:"; sed 's/^/     /' "$work/out"
    failures=$((failures + 1))
  fi
}

train=(train --epochs 1 --data synthetic:0:64)
expect "version" 0 'devices: cpu, cuda' "$bin" --version
expect "trains on the CPU" 0 '^highest test accuracy' "$bin" "${train[@]}"
if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
  echo "skip no-driver case: this machine has an NVIDIA driver"
else
  expect "devices, no driver" 0 '^cuda  in this build, not usable here: no NVIDIA driver found' "$bin" devices
  expect "--device cuda, no driver" 1 '^error: device cuda: no NVIDIA driver found: libcuda\.so\.1' "$bin" "${train[@]}" --device cuda
fi

gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$work/libcuda.so.1" scripts/cuda/fake_driver.c
export LD_LIBRARY_PATH=$work${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
FAKE_CUDA_DEVICES=0 expect "devices, driver without a device" 0 \
  'not usable here: the NVIDIA driver did not start: CUDA_ERROR_NO_DEVICE \(no CUDA-capable device is detected\)' "$bin" devices
FAKE_CUDA_DEVICES=0 expect "--device cuda, driver without a device" 1 \
  '^error: device cuda: the NVIDIA driver did not start: CUDA_ERROR_NO_DEVICE' "$bin" "${train[@]}" --device cuda
expect "devices, one GPU" 0 '^cuda  GPU 0: Fake GPU, compute capability 9\.0, 141 GiB$' "$bin" devices
expect "--device cuda, a GPU that refuses" 1 '^error: device cuda: cannot open GPU 0: CUDA_ERROR_NOT_SUPPORTED \(operation not supported\)$' "$bin" "${train[@]}" --device cuda
if [ "$(wc -l < "$work/out")" -gt 2 ]; then
  echo "FAIL the refusal takes more than one line of error"; failures=$((failures + 1))
fi
gcc -shared -fPIC -DOLD_DRIVER -Wl,-soname,libcuda.so.1 -o "$work/libcuda.so.1" scripts/cuda/fake_driver.c
expect "--device cuda, a driver that lacks a function" 1 \
  '^error: device cuda: libcuda\.so\.1 lacks the function cuLaunchKernel: .*update the NVIDIA driver' "$bin" "${train[@]}" --device cuda

[ "$failures" = 0 ] && echo "check-without-gpu: all passed" || { echo "check-without-gpu: $failures failed"; exit 1; }
