#!/usr/bin/env bash
# The tandem CLI's contract: exit codes, one-line usage errors, --help, --json, configs.
set -u
T=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check NAME WANT_RC WANT_STDERR_FRAGMENT -- cmd...
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
check no-args 2 "usage: tandem" -- "$T"
check help 0 "bench-moo" -- "$T" --help
check unknown-cmd 2 "unknown command 'bogus'" -- "$T" bogus
check suggest-cmd 2 "did you mean 'search'?" -- "$T" serch
check unknown-flag 2 "tandem search: unknown option '--bogus'" -- "$T" search --bogus
check unknown-short 2 "unknown option '-Z'" -- "$T" search -Z
check missing-value 2 "option '-c' needs a value" -- "$T" search -c
check extra-arg 2 "unexpected argument 'foo'" -- "$T" version foo
check bad-int 2 "-j expects an integer, got 'x'" -- "$T" search -j x --print-config
check missing-config 1 "nope.yaml: cannot open config" -- "$T" search -c "$tmp/nope.yaml" --print-config
check set-typo 1 "did you mean 'search.population'?" -- "$T" search --set search.populaton=3 --print-config
printf 'search:\n  population: lots\n' >"$tmp/bad.yaml"
check bad-type 1 "bad.yaml:2:15: key 'search.population': expects an integer, got 'lots'" -- "$T" search -c "$tmp/bad.yaml" --print-config
: >"$tmp/empty.yaml"
check empty-config 1 "empty.yaml: config is empty" -- "$T" search -c "$tmp/empty.yaml"
check search-help 0 "--print-config" -- "$T" search --help
check help-sub 0 "usage: tandem search" -- "$T" help search
# Every subcommand answers --help or says plainly it is not built (exit 2), never crashes.
for c in search train eval sim rtl regress calibrate report bench-moo version; do
  "$T" "$c" --help >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -eq 0 ] && grep -q "usage" "$tmp/out"; then echo "ok   $c --help";
  elif [ $rc -eq 2 ] && grep -q "not built yet" "$tmp/err"; then echo "ok   $c not built (exit 2)";
  else echo "FAIL $c --help: rc $rc"; cat "$tmp/err"; fails=$((fails + 1)); fi
done
# --json prints exactly one JSON object on stdout.
"$T" version --json >"$tmp/v.json" 2>/dev/null
if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, dict) and 'version' in d" "$tmp/v.json"; then
  echo "ok   version --json"; else echo "FAIL version --json"; fails=$((fails + 1)); fi
# --print-config loads back unchanged.
"$T" search --print-config >"$tmp/a.yaml" && "$T" search -c "$tmp/a.yaml" --print-config >"$tmp/b.yaml"
if [ -s "$tmp/a.yaml" ] && cmp -s "$tmp/a.yaml" "$tmp/b.yaml"; then echo "ok   print-config round trip";
else echo "FAIL print-config round trip"; fails=$((fails + 1)); fi
"$T" search --set search.population=40 --print-config | grep -q "population: 40" && echo "ok   --set" || { echo "FAIL --set"; fails=$((fails + 1)); }
echo "$fails failed"
[ $fails -eq 0 ]
