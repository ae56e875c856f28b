#!/bin/sh
# `tandem regress` on the deliberately broken RTL (rounding constant 0 in the vector unit):
# must exit 1 and print a readable first mismatch: layer, tile, index, expected, actual.
set -u
B="$1"
S="$TANDEM_SOURCE_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/suite.yaml" <<EOS
suite: broken
cores: [rtl]
cases:
  - {name: gemm-odd, hw: $S/tests/regress/hw/rtl-4x4-ws.yaml, gemm: {m: 9, k: 13, n: 7}, seed: 2}
  - {name: conv-3x3, hw: $S/tests/regress/hw/rtl-4x4-ws.yaml, conv: {c_in: 3, h: 7, w: 6, c_out: 5, k: 3, stride: 1, pad: 1}, seed: 6}
EOS
"$B" regress "$tmp/suite.yaml" --junit "$tmp/j.xml" >"$tmp/out" 2>"$tmp/err"; rc=$?
cat "$tmp/out" "$tmp/err"
fail=0
[ $rc -eq 1 ] || { echo "FAIL: exit code $rc, expected 1"; fail=1; }
grep -Eq "^first mismatch: case 'gemm-odd' \(.*suite.yaml:[0-9]+:[0-9]+\): rtl core: layer 'gemm-odd' tile \(m [0-9]+, n [0-9]+\) index \[[0-9]+\]\[[0-9]+\]: expected -?[0-9]+, actual -?[0-9]+$" "$tmp/out" \
    || { echo "FAIL: no readable first mismatch line"; fail=1; }
grep -q "0 passed, 2 failed" "$tmp/out" || { echo "FAIL: summary"; fail=1; }
grep -q '<failure message="rtl core: layer' "$tmp/j.xml" || { echo "FAIL: JUnit failure"; fail=1; }
[ $fail -eq 0 ] && echo "ok: tandem regress catches the broken rounding"
exit $fail
