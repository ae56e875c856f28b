#!/usr/bin/env bash
# tandem search end to end: run directory contents, --json result, the accuracy cache,
# -j 2 equals -j 1, and the report written at the end.
set -u
. "$(dirname "$0")/search_common.sh"
"$T" search -o "$tmp/a" "${SMALL[@]}" --json >"$tmp/a.json" 2>"$tmp/a.err" || { bad "search failed"; cat "$tmp/a.err"; finish; exit 1; }
for f in config.yaml archive.sqlite log.txt report/index.html report/pareto.csv; do
  [ -s "$tmp/a/$f" ] && ok "run dir has $f" || bad "run dir lacks $f"
done
python3 - "$tmp/a.json" <<'PY' && ok "json result" || bad "json result"
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("evaluations", "front_size", "hypervolume", "wall_s", "front"):
    assert k in d, k
assert d["evaluations"] == 12, d["evaluations"]
assert d["front_size"] == len(d["front"]) >= 1
assert d["hypervolume"] > 0
for f in d["front"]:
    assert set(f["objectives"]) == {"error", "latency_ms", "energy_uj", "area_mm2"}
    assert 0 <= f["objectives"]["error"] <= 1
PY
# Every evaluation was committed, with its metrics; trained accuracies are cached.
n=$(count_of "$tmp/a")
[ "$n" = 12 ] && ok "12 evaluations archived" || bad "archived $n evaluations, want 12"
python3 - "$tmp/a/archive.sqlite" <<'PY' && ok "metrics and accuracy cache" || bad "metrics and accuracy cache"
import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
for (m,) in db.execute("select metrics from evaluations where status='ok'"):
    m = json.loads(m)
    assert m["latency_ms"] > 0 and m["area_mm2"] > 0 and 0 <= m["accuracy"] <= 1, m
cache = db.execute("select count(*) from accuracy_cache").fetchone()[0]
nets = db.execute("select count(distinct net_hash || json_extract(metrics, '$.bits')) from evaluations where status='ok'").fetchone()[0]
assert cache == nets, (cache, nets)
gens = db.execute("select count(*) from generations").fetchone()[0]
assert gens == 3, gens
PY
# The same search on two worker processes gives the same front.
"$T" search -o "$tmp/b" "${SMALL[@]}" -j 2 >/dev/null 2>"$tmp/b.err" || { bad "search -j 2 failed"; cat "$tmp/b.err"; }
if [ "$(front_of "$tmp/a")" = "$(front_of "$tmp/b")" ]; then ok "-j 2 front equals -j 1"; else bad "-j 2 front differs"; diff <(front_of "$tmp/a") <(front_of "$tmp/b"); fi
# Finalists: the front's most accurate design retrained and scored on the test set.
"$T" search -o "$tmp/f" "${SMALL[@]}" --set finalists.count=1 --set finalists.epochs=1 \
  --set finalists.images=1000 --json >"$tmp/f.json" 2>"$tmp/f.err" || { bad "search with finalists failed"; cat "$tmp/f.err"; }
python3 - "$tmp/f.json" "$tmp/f/archive.sqlite" <<'PY' && ok "finalist scored on the test set" || bad "finalist"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
assert len(d["finalists"]) == 1 and 0 <= d["finalists"][0]["test_accuracy"] <= 1, d["finalists"]
db = sqlite3.connect(sys.argv[2])
rows = db.execute("select metrics from evaluations where fidelity='test'").fetchall()
assert len(rows) == 1
m = json.loads(rows[0][0])
# scored on all 10,000 test images: accuracies are multiples of 1e-4
assert abs(m["test_accuracy"] * 10000 - round(m["test_accuracy"] * 10000)) < 1e-6, m
assert m["epochs"] == 1 and m["train_images"] == 1000
PY
# A training that runs past search.eval_timeout_s costs its evaluations only: they are
# archived as failed with the reason, and the search finishes.
"$T" search -o "$tmp/t" "${SMALL[@]}" --set search.generations=1 --set search.eval_timeout_s=1 \
  --set train.images=30000 --json >"$tmp/t.json" 2>"$tmp/t.err" || { bad "search with timeouts failed"; cat "$tmp/t.err"; }
python3 - "$tmp/t/archive.sqlite" <<'PY' && ok "timed-out trainings recorded as failed" || bad "timeouts"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select status, failure from evaluations").fetchall()
assert len(rows) == 4 and all(r[0] == "failed" and "timeout after 1 s" in r[1] for r in rows), rows
PY
# A fidelity that is not built yet is refused at once, naming the key.
"$T" search -o "$tmp/s" "${SMALL[@]}" --set search.fidelity=systemc >/dev/null 2>"$tmp/s.err"
[ $? -eq 2 ] && grep -q "key 'search.fidelity': 'systemc' is not built yet" "$tmp/s.err" && ok "systemc fidelity refused" || { bad "systemc fidelity"; cat "$tmp/s.err"; }
# An existing run directory is refused, pointing at --resume.
"$T" search -o "$tmp/a" "${SMALL[@]}" >/dev/null 2>"$tmp/c.err"
grep -q "already holds a run; continue it with --resume" "$tmp/c.err" && ok "existing run refused" || bad "existing run not refused"
finish
