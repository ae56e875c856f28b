#!/bin/sh
# tandem report: usage errors (exit 2, one line naming the problem), a missing run (exit 1),
# the files written, --json output, --format, and --compare.
set -u
TANDEM="$1"
FIXTURE="$2"
T=$(mktemp -d /tmp/td_test_report_cli_XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect() { # expect CODE PATTERN -- command...
    code=$1; pat=$2; shift 3
    out=$("$@" 2>&1); rc=$?
    [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, expected $code: $out"
    echo "$out" | grep -q -- "$pat" || fail "'$*' said '$out', expected /$pat/"
}

"$FIXTURE" "$T/runA" 80 --population 16 || fail "fixture A"
"$FIXTURE" "$T/runB" 60 --population 12 --seed 5 --no-front --running || fail "fixture B"

expect 2 "give the run directory" -- "$TANDEM" report
expect 2 "format expects all, html, csv or json, got 'pdf'" -- "$TANDEM" report "$T/runA" --format pdf
expect 2 "unexpected argument" -- "$TANDEM" report "$T/runA" "$T/runB"
expect 2 "compare takes two run directories" -- "$TANDEM" report --compare "$T/runA"
expect 2 "unknown" -- "$TANDEM" report "$T/runA" --bogus
expect 2 "HTML overlay only" -- "$TANDEM" report --compare "$T/runA" "$T/runB" --format csv
expect 1 "no such run directory" -- "$TANDEM" report "$T/nope"
expect 0 "usage: tandem report" -- "$TANDEM" report --help

expect 0 "wrote $T/runA/report/index.html" -- "$TANDEM" report "$T/runA"
for f in index.html pareto.csv evaluations.csv pareto.json; do
    [ -s "$T/runA/report/$f" ] || fail "missing $f"
done
out=$("$TANDEM" report "$T/runB" --format json -o "$T/outB" --json) || fail "--json run"
echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["files"]==[sys.argv[1]+"/outB/pareto.json"], d' "$T" \
    || fail "--json output: $out"
[ ! -e "$T/outB/index.html" ] || fail "--format json wrote html"
expect 0 "vs-runB/index.html" -- "$TANDEM" report --compare "$T/runA" "$T/runB"
expect 0 "vs-runA/index.html" -- "$TANDEM" report "$T/runB" --compare "$T/runA"
echo "ok"
