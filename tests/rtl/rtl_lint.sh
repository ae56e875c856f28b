#!/bin/sh
# Lints every RTL template with `verilator --lint-only -Wall` at every parameter corner:
# rows/cols 1, 2, 3, 8, 16; bits 4, 8, 16, 32; WS and OS; narrowest and widest accumulators.
# Waivers live only in rtl_templates/sv/lint_waivers.vlt. Usage: rtl_lint.sh SV_DIR [JOBS]
set -eu
SV=$1
JOBS=${2:-2}
command -v verilator >/dev/null || { echo "verilator not installed"; exit 77; }
LIST=$(mktemp)
LOGS=$(mktemp -d)
trap 'rm -rf "$LIST" "$LOGS"' EXIT
DIMS="1 2 3 8 16"
BITS="4 8 16 32"
acc_for() { # typical accumulator for bits: min(2b+16, 96)
  a=$(( 2 * $1 + 16 )); [ $a -gt 96 ] && a=96; echo $a; }
acc_max() { echo 96; } # AccBits in [2*Bits, 96] at every width
for b in $BITS; do
  for df in 0 1; do
    for acc in $(( 2 * b )) $(acc_max $b); do
      echo "rtl_mac_pe -GBits=$b -GDataflow=$df -GAccBits=$acc" >> "$LIST"
      if [ $df = 0 ]; then
        for l in $DIMS; do
          echo "rtl_vector_unit -GLanes=$l -GBits=$b -GAccBits=$acc" >> "$LIST"
        done
      fi
    done
    for r in $DIMS; do
      for c in $DIMS; do
        echo "rtl_systolic_array -GRows=$r -GCols=$c -GBits=$b -GAccBits=$(acc_for $b) -GDataflow=$df" >> "$LIST"
        echo "rtl_top -GRows=$r -GCols=$c -GBits=$b -GAccBits=$(acc_for $b) -GDataflow=$df" >> "$LIST"
      done
    done
  done
done
for r in $DIMS; do
  for c in $DIMS; do
    cb=1; [ $c -gt 1 ] && cb=$(awk -v c=$c 'BEGIN{n=0; while (2^n < c) n++; print n}')
    for df in 0 1; do
      echo "rtl_controller -GRows=$r -GCols=$c -GDataflow=$df -GColBits=$cb" >> "$LIST"
    done
  done
  for w in 4 8 16 32; do
    for d in 2 3 64; do
      echo "rtl_spad -GBanks=$r -GWidth=$w -GDepth=$d" >> "$LIST"
    done
  done
  for acc in 8 32 96; do
    echo "rtl_acc_buffer -GBanks=$r -GAccBits=$acc -GDepth=16" >> "$LIST"
  done
done
# Depth corners of the top (non-power-of-two and minimal buffers).
echo "rtl_top -GXDepth=2 -GWDepth=3 -GAccDepth=5 -GOutDepth=65536" >> "$LIST"
N=$(wc -l < "$LIST")
i=0
# shellcheck disable=SC2016
xargs -P "$JOBS" -L 1 sh -c '
  top=$1; shift
  log='"$LOGS"'/$(echo "$top $*" | tr " =" "__").log
  if ! verilator --lint-only -Wall '"$SV"'/lint_waivers.vlt '"$SV"'/*.sv --top-module "$top" "$@" > "$log" 2>&1; then
    echo "FAIL: $top $*"; cat "$log"; exit 255
  fi' sh < "$LIST" || { echo "rtl_lint: a corner failed"; exit 1; }
echo "rtl_lint: $N template/parameter corners pass verilator --lint-only -Wall"
