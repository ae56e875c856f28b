#!/bin/sh
# End to end with trained weights: a small MBConv-like network (tests/rtl/data/mbnet.yaml:
# depthwise + relu6, linear pointwise, residual add, global average pool, fc) trained briefly
# at 8 bits, its bundle from `tandem rtl --net MODEL.tdm --test` (the integer model's weights,
# GAP and add requantization, real test images) passes its testbench, and the bundle's
# expected outputs equal nn_qmodel_infer_ref layer by layer (rtl_check_trained).
# Usage: test_rtl_trained.sh TANDEM CHECK_TOOL DATA_DIR
set -eu
TANDEM=$1
CHECK=$2
DATA=$3
command -v verilator >/dev/null || { echo "verilator not installed"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$TANDEM" train --net "$DATA/mbnet.yaml" --epochs 1 --train-images 2000 --threads 2 --bits 8 \
    -o "$WORK/mb.tdm" > "$WORK/train.txt" 2>&1 || { cat "$WORK/train.txt"; exit 1; }
"$TANDEM" rtl --net "$WORK/mb.tdm" --hw edge-8x16-int8 -o "$WORK/b" --images 2 --test --json \
    > "$WORK/out.json" 2> "$WORK/err.txt" || { cat "$WORK/err.txt" "$WORK/out.json"; exit 1; }
grep -q '"trained_weights": true' "$WORK/out.json" || { cat "$WORK/out.json"; exit 1; }
grep -q '"testbench": "passed"' "$WORK/out.json" || { cat "$WORK/out.json"; exit 1; }
"$CHECK" "$WORK/mb.tdm" 8 "$WORK/b"
echo "trained mbnet on edge-8x16-int8: testbench passed, expected = nn_qmodel_infer_ref"
