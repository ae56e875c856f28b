#!/usr/bin/env bash
# tandem rtl: the Verilog bundle of a trained network (bit-exact testbench on real test
# images passes), of a search run's finalist with its trained network, and the error paths.
set -u
. "$(dirname "$0")/search_common.sh"
check_err() { # NAME WANT_RC FRAGMENT -- cmd...
  local name=$1 want=$2 frag=$3; shift 4
  "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [ "$rc" = "$want" ] && grep -qF -- "$frag" "$tmp/err" && ok "$name" || { bad "$name (rc $rc)"; cat "$tmp/err"; }
}
check_err "needs -o" 2 "-o DIR is required" -- "$T" rtl --net ref-cnn --hw gemmini-16x16-int8
check_err "needs net and hw" 2 "give --net and --hw, or --run DIR with --design ID" -- "$T" rtl --net ref-cnn -o "$tmp/x"
check_err "unknown preset" 1 "gemmini-99" -- "$T" rtl --net ref-cnn --hw gemmini-99 -o "$tmp/x"
# A trained model: its integer weights and real test images; the testbench must pass.
"$T" train --net ref-cnn --epochs 1 --train-images 1000 --threads 2 --bits 8 -o "$tmp/m.tdm" >/dev/null 2>"$tmp/t.err" || { bad "train"; cat "$tmp/t.err"; }
"$T" rtl --net "$tmp/m.tdm" --hw gemmini-16x16-int8 -o "$tmp/b" --images 2 --test --json >"$tmp/b.json" 2>"$tmp/b.err"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['trained_weights'] and d['testbench'] == 'passed' and 'Makefile' in d['files'], d" "$tmp/b.json" \
  && ok "trained bundle passes its testbench" || { bad "trained bundle"; tail -20 "$tmp/b.err"; }
# A design of a search run: decoded from the archive with the run's config, with the trained
# network its finalist retraining kept (runs/NAME/models/<candidate>.tdm) at the design's
# bit width; the bundle's testbench passes. A design that is not a finalist has no trained
# model: the command says so and names the designs that have one.
"$T" search -o "$tmp/run" "${SMALL[@]}" --set finalists.count=1 --set finalists.epochs=1 \
  --set finalists.images=1000 --json >"$tmp/run.json" 2>"$tmp/s.err" || { bad "search"; cat "$tmp/s.err"; }
fid=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['finalists'][0]['id'])" "$tmp/run.json")
other=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select min(id) from evaluations where fidelity=\"analytical\" and id != ?', (int(sys.argv[2]),)).fetchone()[0])" "$tmp/run/archive.sqlite" "$fid")
"$T" rtl --run "$tmp/run" --design "$fid" -o "$tmp/d" --images 2 --test --json >"$tmp/d.json" 2>"$tmp/d.err"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['trained_weights'] and d['testbench'] == 'passed', d" "$tmp/d.json" \
  && ok "run design: trained bundle passes its testbench" || { bad "run design bundle"; tail -20 "$tmp/d.err"; }
grep -q "design $fid: trained model $tmp/run/models/" "$tmp/d.err" && ok "run design: uses the finalist's model" || bad "run design: model not named"
check_err "run design without a trained model" 1 "design $other has no trained model: only the finalists' networks are kept (designs with a model: $fid)" -- "$T" rtl --run "$tmp/run" --design "$other" -o "$tmp/y2"
check_err "unknown design" 1 "no evaluation with id 99999" -- "$T" rtl --run "$tmp/run" --design 99999 -o "$tmp/y"
finish
