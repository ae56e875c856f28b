#!/usr/bin/env bash
# `make test`: install what is missing, build (Release, CUDA where nvcc exists), run every
# CTest label, then rebuild with ASan+UBSan (CUDA off) and run the unit tests under it.
# This is exactly what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
start=$(date +%s)
scripts/install-deps.sh all
echo "== build (Release) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"
echo "== tests: all labels =="
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 1500
echo "== sanitizers (ASan+UBSan): unit tests =="
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON -DTANDEM_CUDA=OFF
cmake --build build-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan -L unit --output-on-failure -j "$jobs"
echo "== make test: all passed in $(( $(date +%s) - start )) s =="
