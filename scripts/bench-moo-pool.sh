#!/usr/bin/env bash
# Evaluator pool overhead: the same ZDT1 run (population 100, 100 generations = 10,000
# evaluations of a function that takes ~1 us) in process and in 1, 2 and 4 fork workers;
# the difference in wall time per evaluation is the pool's cost per task (pipe round trip,
# scheduling). Median of 3 runs each. The hypervolume column shows the runs are identical.
# Usage: scripts/bench-moo-pool.sh [TANDEM_BINARY]   (default build/tandem)
set -euo pipefail
bin=${1:-build/tandem}
run() {
  for i in 1 2 3; do
    "$bin" bench-moo --problem zdt1 --pop 100 --gens 100 --seed 1 "$@" --json |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["wall_s"], d["hypervolume"], d["evaluations"])'
  done | sort -n | sed -n 2p
}
echo "| pool | wall s (median of 3) | wall us per evaluation, optimizer included | hypervolume |"
echo "|---|---|---|---|"
read -r base hv ev < <(run)
echo "| in process | $base | $(python3 -c "print(f'{$base / $ev * 1e6:.1f}')") | $hv |"
for j in 1 2 4; do
  read -r w hv ev < <(run -j "$j")
  echo "| fork -j $j | $w | $(python3 -c "print(f'{$w / $ev * 1e6:.1f}')") | $hv |"
done
echo
echo "command: scripts/bench-moo-pool.sh $bin; $(date -u +%Y-%m-%d) on $(nproc) cores"
