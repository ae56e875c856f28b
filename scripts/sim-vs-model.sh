#!/usr/bin/env bash
# The sim quality-bar table (issue #7): whole-network latency of the SystemC model (twin core)
# against hw_model on 25 (network, accelerator) pairs, compute- and memory-bound, WS and OS,
# and the simulation speed of the twin and the Verilated RTL core. Builds the `sim` target in
# BUILD_DIR (default build-sim; CMake Release, CUDA off), compiles scripts/sim-vs-model.c
# against it, and prints Markdown for docs/benchmarks.md.
# Usage: scripts/sim-vs-model.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
b=${1:-$root/build-sim}
if [ ! -f "$b/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Release -DTANDEM_CUDA=OFF >/dev/null
fi
cmake --build "$b" -j2 --target sim >/dev/null
c++ -O2 -x c -std=gnu11 -Wall -Wextra -Werror "$root/scripts/sim-vs-model.c" -x none \
  -I"$root/sim" -I"$root/hw_model" -I"$root/nn_search" -I"$root/common" -I"$root/rtl_templates" \
  -I"$b/common" \
  "$b/sim/libsim.a" "$b/rtl_templates/librtl_templates.a" "$b/hw_model/libhw_model.a" \
  "$b/nn_search/libnn_search.a" "$b/common/libtd_common.a" \
  $(pkg-config --libs systemc libfyaml jansson gsl libxxhash sqlite3 openblas zlib) \
  -fopenmp -lpthread -lm -o "$b/sim-vs-model"
echo "command: scripts/sim-vs-model.sh"
echo "machine: $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "commit:  $(git -C "$root" rev-parse --short HEAD)"
echo
"$b/sim-vs-model" "$root/tests/regress/hw"
