#!/usr/bin/env bash
# Benchmark of the analytical hardware model (issue #5 quality bar: >= 100,000
# (network, accelerator) evaluations per second on one core for a default-space network).
# Compiles scripts/bench-hw.c with the hw_model sources directly (-O2, the Release flags;
# no CMake, so a half-configured tree does not stop it) and runs it pinned to one core.
# Usage: scripts/bench-hw.sh [SECONDS_PER_NETWORK] [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-3}
out=${2:-$root/build-bench-hw}
mkdir -p "$out"
cc -std=gnu11 -O2 -DNDEBUG -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -o "$out/bench-hw" \
  "$root/scripts/bench-hw.c" "$root"/hw_model/hw_*.c \
  "$root/nn_search/nn_graph.c" "$root/nn_search/nn_intmath.c" \
  "$root"/common/td_{status,hash,rng,config,json,log}.c \
  -DTANDEM_CALIB_SOURCE_PATH="\"$root/hw_model/calibration/osu018.json\"" \
  -I"$root/hw_model" -I"$root/nn_search" -I"$root/common" \
  $(pkg-config --cflags --libs libfyaml jansson gsl libxxhash) -lpthread -lm
echo "command: scripts/bench-hw.sh $seconds"
echo "machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD)"
if command -v taskset >/dev/null; then
  taskset -c 0 "$out/bench-hw" "$seconds"
else
  "$out/bench-hw" "$seconds"
fi
