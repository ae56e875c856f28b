#!/usr/bin/env bash
# NSGA-II against the baselines behind the same interface (random search, regularized
# evolution on the equal-weight scalarised objective) at equal evaluations: population 100,
# 100 generations (10,000 evaluations), seeds 1-3, the front taken over every evaluated
# candidate for all three (--history-front), reference point 1.1 in every objective.
# Prints a Markdown table of mean hypervolumes.
# Usage: scripts/bench-moo-baselines.sh [TANDEM_BINARY]   (default build/tandem)
set -euo pipefail
bin=${1:-build/tandem}
echo "| problem | nsga2 | random | regevo |"
echo "|---|---|---|---|"
for p in zdt1 zdt2 zdt3 zdt6 dtlz2; do
  line="| $p |"
  for a in nsga2 random regevo; do
    sum=0
    for s in 1 2 3; do
      hv=$("$bin" bench-moo --problem "$p" --pop 100 --gens 100 --seed "$s" --algo "$a" \
             --history-front --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hypervolume"])')
      sum=$(python3 -c "print($sum + $hv)")
    done
    line="$line $(python3 -c "print(f'{$sum / 3:.4f}')") |"
  done
  echo "$line"
done
echo
echo "command: scripts/bench-moo-baselines.sh $bin; $(date -u +%Y-%m-%d) on $(nproc) cores"
