# Shared by the search end-to-end tests: a tiny but real search (real Fashion-MNIST, real
# training, real hw_model) small enough for CI. Clocks stay below the calibrated PE fmax so
# that designs are feasible; the fidelity is pinned to analytical (the tests that exercise
# systemc and analytical+systemc set it themselves).
T=${1:?usage: $0 path/to/tandem}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
SMALL=(--set search.population=4 --set search.generations=3 --set train.images=384
       --set train.batch=64 --set data.val_images=128 --set search.val_images=128 --set train.threads=1
       --set space.net.stages=[1,2] --set space.net.depth=[1,2] --set space.net.channels=[8,16]
       --set space.net.stem_channels=[8,8] --set run.seed=3 --set finalists.count=0
       --set space.hw.clock_mhz=[200,500] --set search.fidelity=analytical)
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }
# front_of RUN_DIR: the front as sorted "candidate objectives" lines.
front_of() {
  python3 - "$1/archive.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select e.candidate_hash, e.objectives from front f join evaluations e on e.id = f.evaluation_id").fetchall()
for r in sorted(rows):
    print(r[0], r[1])
PY
}
count_of() { python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from evaluations').fetchone()[0])" "$1/archive.sqlite"; }
finish() { echo "$fails failed"; [ "$fails" -eq 0 ]; }
