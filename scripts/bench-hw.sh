#!/usr/bin/env bash
# Benchmark of the analytical hardware model (issue #5 quality bar: >= 100,000
# (network, accelerator) evaluations per second on one core for a default-space network).
# Builds hw_model in BUILD_DIR (default build-bench-hw, Release, CPU only), compiles
# scripts/bench-hw.c against it and runs it pinned to one core.
# Usage: scripts/bench-hw.sh [SECONDS_PER_NETWORK] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-3}
build=${2:-$root/build-bench-hw}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTANDEM_CUDA=OFF >/dev/null
cmake --build "$build" -j2 --target hw_model >/dev/null
cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$build/bench-hw" "$root/scripts/bench-hw.c" \
  -I"$root/hw_model" -I"$root/nn_search" -I"$root/common" -I"$build/common" \
  $(pkg-config --cflags jansson) \
  "$build/hw_model/libhw_model.a" "$build/nn_search/libnn_search.a" \
  "$build/common/libtd_common.a" \
  $(pkg-config --libs libfyaml jansson gsl libxxhash) -lpthread -lm
echo "command: scripts/bench-hw.sh $seconds"
echo "machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD)"
if command -v taskset >/dev/null; then
  taskset -c 0 "$build/bench-hw" "$seconds"
else
  "$build/bench-hw" "$seconds"
fi
