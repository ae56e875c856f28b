#!/usr/bin/env bash
# Full calibration from synthesis (docs/calibration.md): every PE bit width and dataflow, the
# 2x2 arrays with power, the 8-bit arrays for the area fit, single operators, the vector unit
# and the controller. Takes tens of minutes on 2 shared cores: run it once, e.g.
#   nohup scripts/calibrate.sh > calibrate.log 2>&1 &
# Usage: scripts/calibrate.sh [TANDEM_BINARY] [OUT_JSON] [WORK_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
T=${1:-$root/build/tandem}
out=${2:-$root/hw_model/calibration/osu018.json}
work=${3:-${TMPDIR:-/tmp}/tandem-calibrate-full}
rm -rf "$work"
echo "calibrate: $(date -u +%FT%TZ) on $(uname -n) ($(nproc) cores), work $work"
start=$(date +%s)
TANDEM_SOURCE_DIR=$root "$T" calibrate --lib osu018 -o "$out" --work "$work"
echo "calibrate: done in $(( $(date +%s) - start )) s: $out"
