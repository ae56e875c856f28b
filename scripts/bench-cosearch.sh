#!/usr/bin/env bash
# NSGA-II vs random search on the default co-design problem at equal evaluation budgets,
# over 3 seeds (issue #9). Every run is a real `tandem search` (real training, real
# hw_model); the final fronts are compared by exact hypervolume at ONE reference point
# derived from the union of all runs' fronts (10 % beyond its nadir), so runs compare.
# Usage: scripts/bench-cosearch.sh [build/tandem] [out-dir]   (extra --set flags: $BENCH_SET)
#
#        scripts/bench-cosearch.sh --fidelity [build/tandem] [out-dir]
# measures what each search.fidelity costs: the default search space and population (10 x 4),
# -j 2, once with systemc and once with analytical+systemc, with a token proxy training (256
# images) because only the hardware side differs between fidelities; per-candidate costs come
# from the archive's wall_s (analytical: hw_model in the master; systemc: the simulation on
# the pool) and the accuracy cache's wall_s (training).
set -euo pipefail
if [ "${1:-}" = "--fidelity" ]; then
  T=${2:-build/tandem}
  out=${3:-$(mktemp -d)}
  mkdir -p "$out"
  for f in analytical systemc analytical+systemc; do
    d="$out/$f"
    [ -f "$d/archive.sqlite" ] || "$T" search -o "$d" -j 2 --set search.fidelity=$f \
      --set train.images=256 --set data.val_images=100 --set search.val_images=100 \
      --set finalists.count=0 -q --json >"$out/$f.json"
  done
  python3 - "$out" <<'PY'
import json, sqlite3, statistics, sys, os
out = sys.argv[1]
print("| search.fidelity | evaluations | SystemC runs | failed (RTL cannot take the design) | hw cost per candidate, median s | hw cost per candidate, max s | hw cost of the search, s | training (accuracy cache), s |")
print("|---|---|---|---|---|---|---|---|")
for f in ("analytical", "systemc", "analytical+systemc"):
    db = sqlite3.connect(os.path.join(out, f, "archive.sqlite"))
    ev = db.execute("select count(*) from evaluations where fidelity != 'test' and fidelity = ?",
                    ("systemc" if f == "systemc" else "analytical",)).fetchone()[0]
    sims = [w for (w,) in db.execute("select wall_s from evaluations where fidelity='systemc'")]
    fails = db.execute("select count(*) from evaluations where fidelity='systemc' and status='failed'").fetchone()[0]
    an = [w for (w,) in db.execute("select wall_s from evaluations where fidelity='analytical'")]
    per = sims if sims and f == "systemc" else an
    tot = sum(an) + sum(sims)
    train = db.execute("select sum(wall_s) from (select distinct net_hash, wall_s from accuracy_cache)").fetchone()[0]
    allc = sims if f != "analytical" else an
    print(f"| {f} | {ev} | {len(sims)} | {fails} | {statistics.median(allc):.4f} | {max(allc):.3f} | {tot:.1f} | {train:.1f} |")
PY
  exit 0
fi
T=${1:-build/tandem}
out=${2:-$(mktemp -d)}
budget=(--set search.population=8 --set search.generations=6 --set train.images=1024
        --set data.val_images=512 --set search.val_images=512 --set finalists.count=0 --set train.threads=1
        --set search.fidelity=analytical)
read -r -a extra <<<"${BENCH_SET:-}"
mkdir -p "$out"
for seed in 1 2 3; do
  for algo in nsga2 random; do
    d="$out/$algo-s$seed"
    [ -f "$d/archive.sqlite" ] && continue
    echo "== $algo seed $seed" >&2
    "$T" search -o "$d" -j 2 "${budget[@]}" "${extra[@]}" --set search.algorithm=$algo \
      --set run.seed=$seed -q >/dev/null
  done
done
python3 - "$out" <<'PY'
import itertools, json, sqlite3, sys, statistics, os
out = sys.argv[1]
def front(d):
    db = sqlite3.connect(os.path.join(out, d, "archive.sqlite"))
    return [json.loads(o) for (o,) in db.execute(
        "select e.objectives from front f join evaluations e on e.id=f.evaluation_id")]
def hv(points, ref):
    # exact, by inclusion-exclusion (fronts here have at most a population of points)
    pts = [p for p in points if all(x < r for x, r in zip(p, ref))]
    total = 0.0
    for k in range(1, len(pts) + 1):
        for sub in itertools.combinations(pts, k):
            corner = [max(c) for c in zip(*sub)]
            vol = 1.0
            for c, r in zip(corner, ref):
                vol *= r - c
            total += vol if k % 2 else -vol
    return total
runs = {d: front(d) for d in sorted(os.listdir(out)) if os.path.isdir(os.path.join(out, d))}
allp = [p for f in runs.values() for p in f]
lo = [min(c) for c in zip(*allp)]; hi = [max(c) for c in zip(*allp)]
ref = [h + 0.1 * (h - l if h > l else max(abs(h), 1)) for l, h in zip(lo, hi)]
print("reference point (error, latency_ms, energy_uj, area_mm2):", [round(r, 6) for r in ref])
print("| seed | NSGA-II hypervolume | random search hypervolume | NSGA-II / random |")
print("|---|---|---|---|")
res = {"nsga2": [], "random": []}
for seed in (1, 2, 3):
    a = hv(runs[f"nsga2-s{seed}"], ref); b = hv(runs[f"random-s{seed}"], ref)
    res["nsga2"].append(a); res["random"].append(b)
    print(f"| {seed} | {a:.6g} | {b:.6g} | {a / b if b else float('inf'):.3f} |")
ma, mb = statistics.mean(res["nsga2"]), statistics.mean(res["random"])
print(f"| mean | {ma:.6g} | {mb:.6g} | {ma / mb if mb else float('inf'):.3f} |")
wins = sum(a > b for a, b in zip(res["nsga2"], res["random"]))
print(f"NSGA-II beats random search on {wins} of 3 seeds")
PY
