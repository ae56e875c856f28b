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

# --print-hw writes YAML that loads back to the same config
for p in gemmini-16x16-int8 edge-8x16-int8 cloud-64x64-int8; do
  "$T" eval --hw $p --print-hw >"$tmp/a.yaml" && "$T" eval --hw "$tmp/a.yaml" --print-hw >"$tmp/b.yaml"
  if [ -s "$tmp/a.yaml" ] && cmp -s "$tmp/a.yaml" "$tmp/b.yaml"; then echo "ok   print-hw round trip $p";
  else echo "FAIL print-hw round trip $p"; fails=$((fails + 1)); fi
done
echo "$fails failed"
[ $fails -eq 0 ]
