#!/usr/bin/env bash
# e2e: `tandem report` on a real (tiny) `tandem search` run: the exports re-imported equal
# the archive (front ids, objectives bit for bit, metrics), evaluations.csv holds every
# evaluation, and, where Chromium is installed, the page renders without errors with the
# shared selection working.
set -u
TANDEM=${1:?usage: $0 path/to/tandem}
tmp=$(mktemp -d /tmp/td_test_report_e2e_XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$TANDEM" search -o "$tmp/run" -q --set search.population=4 --set search.generations=3 \
    --set train.images=384 --set train.batch=64 --set data.val_images=128 --set search.val_images=128 \
    --set train.threads=1 \
    --set space.net.stages=[1,2] --set space.net.depth=[1,2] --set space.net.channels=[8,16] \
    --set space.net.stem_channels=[8,8] --set finalists.count=0 --set run.seed=5 \
    >"$tmp/search.out" 2>&1 || { echo "FAIL: search"; cat "$tmp/search.out"; exit 1; }
"$TANDEM" report "$tmp/run" -o "$tmp/out" -q || { echo "FAIL: report"; exit 1; }
python3 - "$tmp/run/archive.sqlite" "$tmp/out" <<'PY' || exit 1
import csv, json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
out = sys.argv[2]
front = db.execute("select e.id, e.objectives, e.metrics, e.genome from front f join evaluations e"
                   " on e.id = f.evaluation_id where e.status = 'ok' order by e.id").fetchall()
assert front, "the search stored no front"
objectives = ["error", "latency_ms", "energy_uj", "area_mm2"]
with open(out + "/pareto.csv", newline="") as f:
    rows = list(csv.DictReader(f))
assert [int(r["id"]) for r in rows] == [r[0] for r in front], "pareto.csv ids differ"
for r, (eid, objs, metrics, genome) in zip(rows, front):
    for k, v in zip(objectives, json.loads(objs)):
        assert float(r[k]) == v, (eid, k, r[k], v)
    for k, v in json.loads(metrics).items():
        if isinstance(v, (dict, list)) or k in objectives:
            continue
        want = "" if v is None else ("true" if v is True else "false" if v is False else v)
        got = r[k]
        assert (float(got) == want) if isinstance(want, (int, float)) else got == want, (eid, k, got, want)
    assert json.loads(r["genome"]) == json.loads(genome)
doc = json.load(open(out + "/pareto.json"))
assert doc["front_source"] == "archive"
assert [d["id"] for d in doc["designs"]] == [r[0] for r in front]
for d, (eid, objs, metrics, genome) in zip(doc["designs"], front):
    assert [d["objectives"][k] for k in objectives] == json.loads(objs), eid
    assert d["metrics"] == json.loads(metrics), eid
with open(out + "/evaluations.csv", newline="") as f:
    n = sum(1 for _ in csv.DictReader(f))
assert n == db.execute("select count(*) from evaluations").fetchone()[0], n
print("ok   exports equal the archive (%d front designs, %d evaluations)" % (len(front), n))
PY
if command -v chromium >/dev/null; then
    prof=$(mktemp -d "$tmp/prof-XXXXXX")
    tag=$(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$prof" \
        --virtual-time-budget=10000 --dump-dom "file://$tmp/out/index.html#selftest" 2>/dev/null |
        grep -o '<html[^>]*>' | head -1)
    echo "$tag" | grep -q 'data-errors="0"' || { echo "FAIL: page errors: $tag"; exit 1; }
    echo "$tag" | grep -q 'data-selftest="ok"' || { echo "FAIL: selection: $tag"; exit 1; }
    views=$(echo "$tag" | sed -n 's/.*data-views="\([0-9]*\)".*/\1/p')
    echo "$tag" | grep -q "data-rendered=\"$views\"" || { echo "FAIL: render: $tag"; exit 1; }
    echo "ok   the page renders ($views views) with no error"
else
    echo "skip the page check: chromium is not installed"
fi
echo "ok"
