#!/usr/bin/env bash
# tandem calibrate: usage errors and clear errors for a missing tool or liberty (no synthesis).
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
check help 0 "usage: tandem calibrate" -- "$T" calibrate --help
check bad-lib 2 "--lib nosuch: unknown cell library (known: osu018)" -- "$T" calibrate --lib nosuch
check extra-arg 2 "unexpected argument 'x'" -- "$T" calibrate x
check validate-quick 2 "--validate does not combine with --quick or -o" -- "$T" calibrate --validate 3x5 --quick
check no-liberty 1 "$tmp/none.lib: liberty file not found (Debian package qflow-tech-osu018" -- "$T" calibrate --liberty "$tmp/none.lib"
# a PATH without the tools: the error names the missing tool and its Debian package
mkdir -p "$tmp/bin"
check no-yosys 1 "yosys: not found on PATH (Debian package yosys)" -- env PATH="$tmp/bin" "$T" calibrate --quick --work "$tmp/w"
ln -s "$(command -v yosys)" "$tmp/bin/yosys" 2>/dev/null
check no-sta 1 "sta: not found on PATH (Debian package opensta)" -- env PATH="$tmp/bin" "$T" calibrate --quick --work "$tmp/w"
# a tool that fails: the error names the tool and its log file
rm -f "$tmp/bin/yosys" # the symlink: never write through it
printf '#!/bin/sh\necho broken >&2\nexit 3\n' >"$tmp/bin/yosys"; chmod +x "$tmp/bin/yosys"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/sta"; chmod +x "$tmp/bin/sta"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/verilator"; chmod +x "$tmp/bin/verilator"
check yosys-fails 1 "yosys failed (exit 3) on the liberty cell models: see $tmp/w2/cells_sim.log" -- env PATH="$tmp/bin:/usr/bin:/bin" "$T" calibrate --quick --work "$tmp/w2"
check bad-validate 2 "--validate: 'axb' is not RxC" -- "$T" calibrate --validate axb --work "$tmp/w3"
echo "{}" >"$tmp/c.json"
check bad-calib 1 "$tmp/c.json: 'format' must be \"tandem-calibration\"" -- "$T" calibrate --validate 2x2 --calib "$tmp/c.json" --work "$tmp/w4"
# --report needs no tools: the checked-in file at 45 nm, each entry with its origin
check report 0 "| mult8_pj |" -- "$T" calibrate --report
check report-origin 0 "synthesis, scaled" -- "$T" calibrate --report
check report-published 0 "| sram8k_pj | 10 | pJ | published |" -- "$T" calibrate --report
check report-node 1 "technology node 28 nm: not in the scaling table" -- "$T" calibrate --report --node 28
check report-combo 2 "--report does not combine with --validate, --quick or -o" -- "$T" calibrate --report --quick
[ "$fails" = 0 ]
