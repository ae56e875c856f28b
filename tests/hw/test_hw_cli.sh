#!/usr/bin/env bash
# tandem eval: JSON contract, layer table, mapping, --print-hw round trip, error messages.
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check NAME WANT_RC WANT_FRAGMENT -- cmd...
  local name=$1 want=$2 frag=$3
  shift 4
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$want" ] || ! grep -qF -- "$frag" "$tmp/err" "$tmp/out"; then
    echo "FAIL $name: rc $rc (want $want), wanted '$frag' in output:"; cat "$tmp/err" "$tmp/out" | head -5
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
}
check help 0 "usage: tandem eval" -- "$T" eval --help
check no-net 2 "tandem eval: --net is required" -- "$T" eval --hw gemmini-16x16-int8
check mapping-no-hw 2 "--mapping needs --hw" -- "$T" eval --net ref-cnn --mapping
check bad-hw 1 "accelerator 'nosuch' is neither a preset (gemmini-16x16-int8" -- "$T" eval --net ref-cnn --hw nosuch
check bad-net 1 "--net 'nosuch' is neither a built-in network (ref-cnn" -- "$T" eval --net nosuch --hw gemmini-16x16-int8
printf 'rows: 16\nbits: 7\n' >"$tmp/bad.yaml"
check bad-yaml 1 "bad.yaml:2:7: key 'bits': 7 is not one of 4, 8, 16, 32" -- "$T" eval --net ref-cnn --hw "$tmp/bad.yaml"
check text 0 "inferences/s" -- "$T" eval --net ref-cnn --hw gemmini-16x16-int8
check mapping 0 "gemm MxKxN" -- "$T" eval --net ref-cnn --hw gemmini-16x16-int8 --mapping
check table 0 "total:" -- "$T" eval --net ref-cnn
printf 'bits: 8\nacc_bits: 20\n' >"$tmp/narrow.yaml"
check violation 0 "violation: acc_bits: needs 28 bits for layer 'fc', has 20" -- "$T" eval --net ref-cnn --hw "$tmp/narrow.yaml"

# --json: one object with the interface's keys
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 --mapping --json >"$tmp/e.json" 2>"$tmp/err"
if python3 - "$tmp/e.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ["latency_ms", "inferences_per_s", "energy_uj", "power_mw", "area_mm2", "peak_tops",
          "effective_tops", "utilization", "macs", "layers", "violations"]:
    assert k in d, k
assert d["macs"] > 0 and d["latency_ms"] > 0 and d["energy_uj"] > 0
for l in d["layers"]:
    for k in ["cycles", "compute_cycles", "memory_cycles", "bound", "energy_uj"]:
        assert k in l, k
    assert l["bound"] in ("compute", "memory")
    assert l["cycles"] >= max(l["compute_cycles"], l["memory_cycles"])
assert abs(sum(l["cycles"] for l in d["layers"]) - d["cycles"]) == 0
PY
then echo "ok   eval --json"; else echo "FAIL eval --json"; fails=$((fails + 1)); fi

"$T" eval --net ref-cnn --json >"$tmp/n.json" 2>"$tmp/err"
if python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['macs'] > 0 and d['params'] > 0 and len(d['layers']) > 5
assert sum(l['macs'] for l in d['layers']) == d['macs']" "$tmp/n.json"; then
  echo "ok   net table --json"; else echo "FAIL net table --json"; fails=$((fails + 1)); fi

# the calibrated table by default: provenance of every breakdown number, the clock checked
# against the PE's fmax (gemmini's 1000 MHz is above the 8-bit WS PE's 865 MHz at 45 nm)
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 --json >"$tmp/c.json" 2>"$tmp/err"
if python3 - "$tmp/c.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = d["provenance"]
assert p["tech"] == "calibrated", p["tech"]
for g in ("energy_breakdown", "area_breakdown"):
    assert set(p["origins"][g]) == set(d[g]), g
assert p["origins"]["area_breakdown"]["pe_array_mm2"] == "synthesis+scaled"
assert p["origins"]["area_breakdown"]["l2_mm2"] == "published+assumption"
v = [x for x in d["violations"] if x["name"] == "clock_mhz"]
assert len(v) == 1 and abs(v[0]["amount"] - (1000 - d["pe_fmax_mhz"])) < 1e-6, v
assert "above the PE's fmax" in v[0]["message"]
assert d["feasible"] is False
PY
then echo "ok   eval: calibrated provenance and clock check"; else echo "FAIL eval calibrated"; fails=$((fails + 1)); fi
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 >"$tmp/c.txt" 2>"$tmp/err"
if grep -q "^violation: clock_mhz: 1000 MHz is above the PE's fmax 865.3 MHz (ws, 8 bits, 45 nm) by 134.7 MHz" "$tmp/c.txt" &&
   grep -q "^technology: calibrated table" "$tmp/c.txt" && grep -q "area from: pe_array_mm2 synthesis+scaled" "$tmp/c.txt"; then
  echo "ok   eval text: technology and clock violation"; else echo "FAIL eval text"; cat "$tmp/c.txt"; fails=$((fails + 1)); fi
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 --tech published --json >"$tmp/p.json" 2>"$tmp/err"
if python3 -c "
import json,sys; d=json.load(open(sys.argv[1]))
assert d['provenance']['tech'] == 'published' and d['pe_fmax_mhz'] is None and d['feasible']" "$tmp/p.json"; then
  echo "ok   eval --tech published"; else echo "FAIL eval --tech published"; fails=$((fails + 1)); fi
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 --tech synth >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "technology table 'synth' is neither 'calibrated' nor 'published'" "$tmp/err"; then
  echo "ok   eval --tech error"; else echo "FAIL eval --tech error (rc $rc)"; cat "$tmp/err"; fails=$((fails + 1)); fi
"$T" eval --net ref-cnn --hw gemmini-16x16-int8 --calibration /nonexistent/c.json >/dev/null 2>"$tmp/err"; rc=$?
if [ $rc -ne 0 ] && grep -q "/nonexistent/c.json: cannot open calibration file" "$tmp/err"; then
  echo "ok   eval --calibration error"; else echo "FAIL eval --calibration error (rc $rc)"; cat "$tmp/err"; fails=$((fails + 1)); fi
# no calibration file to be found: one warning naming why, then the published table
TANDEM_CALIBRATION=/nonexistent/env.json "$T" eval --net ref-cnn --hw edge-8x16-int8 --json >"$tmp/f.json" 2>"$tmp/err"; rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c 'calibrated table not installed' "$tmp/err")" = 1 ] &&
   grep -q "/nonexistent/env.json" "$tmp/err" &&
   python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['provenance']['tech'] == 'published'" "$tmp/f.json"; then
  echo "ok   eval falls back to the published table with one warning"; else echo "FAIL fallback (rc $rc)"; cat "$tmp/err"; fails=$((fails + 1)); fi

# --print-hw writes YAML that loads back to the same config
for p in gemmini-16x16-int8 edge-8x16-int8 cloud-64x64-int8; do
  "$T" eval --hw $p --print-hw >"$tmp/a.yaml" && "$T" eval --hw "$tmp/a.yaml" --print-hw >"$tmp/b.yaml"
  if [ -s "$tmp/a.yaml" ] && cmp -s "$tmp/a.yaml" "$tmp/b.yaml"; then echo "ok   print-hw round trip $p";
  else echo "FAIL print-hw round trip $p"; fails=$((fails + 1)); fi
done
echo "$fails failed"
[ $fails -eq 0 ]
