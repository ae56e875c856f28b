#!/usr/bin/env bash
# Quality bar of issue #8: the array-area model fitted by `tandem calibrate` against Yosys's
# area for 8-bit WS arrays it was not fitted on. Prints the markdown table of
# docs/benchmarks.md ("Calibration"). 16x16 takes minutes on 2 shared cores.
# Usage: scripts/calibrate-validate.sh [TANDEM_BINARY] [ARRAYS] [CALIBRATION_JSON]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
T=${1:-$root/build/tandem}
arrays=${2:-3x5,12x12,16x16}
calib=${3:-$root/hw_model/calibration/osu018.json}
work=${TMPDIR:-/tmp}/tandem-calibrate-validate
rm -rf "$work"
echo "command: scripts/calibrate-validate.sh ($arrays), $(date -u +%F), $(uname -n), $(nproc) cores"
echo
start=$(date +%s)
TANDEM_SOURCE_DIR=$root "$T" calibrate --validate "$arrays" --calib "$calib" --work "$work"
echo "($(( $(date +%s) - start )) s)"
