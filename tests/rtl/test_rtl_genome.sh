#!/bin/sh
# End to end: a network of the default search space (depthwise-separable and MBConv blocks,
# residual adds, global average pool + fc; `--net genome:23`) compiled for the edge-8x16-int8
# accelerator by `tandem rtl ... --test` passes its own testbench (every layer's output and
# every fixed-duration command's cycles). Usage: test_rtl_genome.sh TANDEM
set -eu
TANDEM=$1
command -v verilator >/dev/null || { echo "verilator not installed"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$TANDEM" rtl --net genome:23 --hw edge-8x16-int8 -o "$WORK/b" --images 2 --test --json \
    > "$WORK/out.json" 2> "$WORK/err.txt" || { cat "$WORK/err.txt" "$WORK/out.json"; exit 1; }
grep -q '"testbench": "passed"' "$WORK/out.json" || { cat "$WORK/out.json"; exit 1; }
# the network has every op of the default space: grouped convs (scatter), GAP (transpose), ADD
for step in scatter transpose; do
  grep -q "^$step " "$WORK/b/data/host.txt" || { echo "no $step host step"; exit 1; }
done
# ADD (opcode 12) appears in the program: low nibble of the last hex digit of a command line
grep -q 'c$' "$WORK/b/data/program.hex" || { echo "no ADD command in the program"; exit 1; }
# a malformed seed is a usage error naming the argument
rc=0
"$TANDEM" rtl --net genome:2x --hw edge-8x16-int8 -o "$WORK/bad" 2> "$WORK/bad.txt" || rc=$?
[ "$rc" = 2 ] && grep -q "genome:2x': genome:SEED needs a decimal seed" "$WORK/bad.txt" ||
  { echo "genome:2x: rc $rc"; cat "$WORK/bad.txt"; exit 1; }
echo "genome:23 on edge-8x16-int8: testbench passed"
