#!/usr/bin/env bash
# Optimizer quality bar (issue #9): NSGA-II on ZDT1-4, ZDT6 (and DTLZ2) with population 100,
# 250 generations (25,000 evaluations), seeds 1-5, reference point 1.1 in every objective;
# prints a Markdown table of the mean/min/max hypervolume against the bar and the value the
# original NSGA-II reaches. Exit status 1 when a mean misses its bar.
# Usage: scripts/bench-moo.sh [TANDEM_BINARY] [extra bench-moo flags...]
#   (default binary: build/tandem; e.g. scripts/bench-moo.sh build/tandem --eta-c 20)
set -euo pipefail
bin=${1:-build/tandem}
shift || true
seeds="1 2 3 4 5"
# problem  bar     original NSGA-II (issue #9)
rows="zdt1 0.8690 0.8694
zdt2 0.5355 0.5359
zdt3 1.3270 1.3275
zdt4 0.8600 0.8644
zdt6 0.4930 0.4943
dtlz2 - -"
echo "| problem | mean HV | min | max | bar | original NSGA-II | evaluations | wall s (5 runs) | pass |"
echo "|---|---|---|---|---|---|---|---|---|"
fail=0
while read -r p bar ref; do
  vals=()
  evals=0
  wall=0
  for s in $seeds; do
    out=$("$bin" bench-moo --problem "$p" --pop 100 --gens 250 --seed "$s" --json "$@")
    read -r hv ev w < <(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["hypervolume"], d["evaluations"], d["wall_s"])' <<<"$out")
    vals+=("$hv")
    evals=$ev
    wall=$(python3 -c "print($wall + $w)")
  done
  python3 - "$p" "$bar" "$ref" "$evals" "$wall" "${vals[@]}" <<'PY' || fail=1
import sys
p, bar, ref, ev, wall = sys.argv[1:6]
v = [float(x) for x in sys.argv[6:]]
mean = sum(v) / len(v)
ok = bar == "-" or mean >= float(bar)
print(f"| {p} | {mean:.4f} | {min(v):.4f} | {max(v):.4f} | {bar} | {ref} | {ev} | {float(wall):.2f} | "
      f"{'yes' if ok else 'NO'} |")
sys.exit(0 if ok else 1)
PY
done <<<"$rows"
echo
echo "command: scripts/bench-moo.sh $bin $*; $(date -u +%Y-%m-%d) on $(nproc) cores, $(uname -m)"
exit $fail
