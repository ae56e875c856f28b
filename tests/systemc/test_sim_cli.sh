#!/bin/sh
# tandem sim and tandem regress command lines: JSON keys, the JUnit file, exit codes and
# usage errors (docs/sim.md).
set -u
T="$TANDEM_BUILD_DIR/tandem"
S="$TANDEM_SOURCE_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # name, condition result
    if [ "$2" -ne 0 ]; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi
}

"$T" sim --net ref-cnn --hw tests/none.yaml >"$tmp/o" 2>"$tmp/e"; rc=$?
check "sim: missing hw file exits 1" $([ $rc -eq 1 ] && echo 0 || echo 1)
"$T" sim --hw gemmini-16x16-int8 >"$tmp/o" 2>"$tmp/e"; rc=$?
check "sim: --net required (exit 2)" $([ $rc -eq 2 ] && grep -q -- "--net is required" "$tmp/e" && echo 0 || echo 1)
"$T" sim --net ref-cnn --hw gemmini-16x16-int8 --core vhdl >"$tmp/o" 2>"$tmp/e"; rc=$?
check "sim: bad --core (exit 2)" $([ $rc -eq 2 ] && grep -q "neither 'rtl' nor 'twin'" "$tmp/e" && echo 0 || echo 1)
"$T" sim --net ref-cnn --hw gemmini-16x16-int8 --core rtl >"$tmp/o" 2>"$tmp/e"; rc=$?
check "sim: no RTL for 16x16 says so" $([ $rc -ne 0 ] && grep -q "no Verilated core" "$tmp/e" && echo 0 || echo 1)

"$T" sim --net ref-cnn --hw "$S/tests/regress/hw/rtl-4x4-os.yaml" --json >"$tmp/j" 2>"$tmp/e"; rc=$?
check "sim --json exits 0" $rc
for k in '"cycles"' '"latency_ms"' '"energy_uj"' '"analytical_latency_ms"' '"error_pct"' \
         '"layers"' '"compute_cycles"' '"memory_cycles"' '"vector_cycles"' '"utilization"' \
         '"values_match": true' '"weights": "random'; do
    grep -q "$k" "$tmp/j"; check "sim --json has $k" $?
done
"$T" sim --net ref-cnn --hw "$S/tests/regress/hw/rtl-4x4-ws.yaml" --core rtl >"$tmp/o" 2>"$tmp/e"; rc=$?
if grep -q "Verilator not found at configure time" "$tmp/e"; then
    echo "skip: no Verilated core in this build (Verilator missing): rtl checks and regress skipped"
    exit 77
fi
check "sim --core rtl exits 0" $rc
grep -q "model_cyc" "$tmp/o"; check "sim table shows the analytical cycles" $?
grep -q "core: rtl" "$tmp/o"; check "sim table names the core" $?
"$T" sim --net ref-cnn --hw gemmini-16x16-int8 --trace "$tmp/t.vcd" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "sim --trace exits 0" $rc
grep -q '\$var' "$tmp/t.vcd" 2>/dev/null; check "sim --trace writes a VCD" $?

"$T" regress "$S/tests/regress/ci.yaml" --junit "$tmp/j.xml" -j 2 >"$tmp/o" 2>"$tmp/e"; rc=$?
check "regress ci suite passes" $rc
grep -q "passed, 0 failed" "$tmp/o"; check "regress summary" $?
grep -q 'failures="0"' "$tmp/j.xml"; check "regress JUnit written" $?
"$T" regress >"$tmp/o" 2>"$tmp/e"; rc=$?
check "regress: suite required (exit 2)" $([ $rc -eq 2 ] && echo 0 || echo 1)
"$T" regress "$tmp/nope.yaml" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "regress: missing suite names the file" $([ $rc -eq 1 ] && grep -q "nope.yaml: cannot open" "$tmp/e" && echo 0 || echo 1)
"$T" regress "$S/tests/regress/ci.yaml" -j 0 >"$tmp/o" 2>"$tmp/e"; rc=$?
check "regress: -j 0 rejected (exit 2)" $([ $rc -eq 2 ] && echo 0 || echo 1)

# a failing case: exit 1, FAIL line and the first mismatch line
cat >"$tmp/f.yaml" <<EOS
cases:
  - {name: no-rtl, hw: gemmini-16x16-int8, gemm: {m: 2, k: 2, n: 2}}
EOS
"$T" regress "$tmp/f.yaml" --junit "$tmp/f.xml" >"$tmp/o" 2>"$tmp/e"; rc=$?
check "regress: failing case exits 1" $([ $rc -eq 1 ] && grep -q "FAIL no-rtl" "$tmp/o" && grep -q "first mismatch: case 'no-rtl'" "$tmp/o" && echo 0 || echo 1)
grep -q '<failure message="rtl core: no Verilated core' "$tmp/f.xml"; check "regress: JUnit failure" $?

exit $fail
