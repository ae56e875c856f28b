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
# The finalist keeps its trained network (runs/NAME/models/<candidate>.tdm) and its
# accelerator ran through the SystemC model with those trained weights.
python3 - "$tmp/f.json" "$tmp/f/archive.sqlite" "$tmp/f" <<'PY' && ok "finalist model saved and simulated" || bad "finalist model / simulation"
import json, os, sqlite3, sys
d = json.load(open(sys.argv[1]))
f = d["finalists"][0]
assert f["model"].startswith("models/") and os.path.getsize(os.path.join(sys.argv[3], f["model"])) > 0, f
assert open(os.path.join(sys.argv[3], f["model"]), "rb").read(8) == b"TDMODEL\0"
assert not [n for n in os.listdir(os.path.join(sys.argv[3], "models")) if n.endswith(".part")]
sc = f["systemc"]
assert sc["ran"] and sc["trained_weights"] and sc["values_match"] and sc["cycles"] > 0, sc
db = sqlite3.connect(sys.argv[2])
(m,) = db.execute("select metrics from evaluations where fidelity='test'").fetchone()
m = json.loads(m)
assert m["model"] == f["model"] and m["hw_fidelity"] == "systemc" and m["systemc"] == sc, m
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
# search.fidelity systemc: every candidate's latency, energy and power from the SystemC
# model (twin core), archived with fidelity 'systemc'; -j 2 gives the same front. A config
# the RTL core cannot take fails that evaluation with the reason.
"$T" search -o "$tmp/sc" "${SMALL[@]}" --set search.fidelity=systemc --json >"$tmp/sc.json" 2>"$tmp/sc.err" || { bad "systemc search failed"; cat "$tmp/sc.err"; }
"$T" search -o "$tmp/sc2" "${SMALL[@]}" --set search.fidelity=systemc -j 2 >/dev/null 2>"$tmp/sc2.err" || { bad "systemc search -j 2 failed"; cat "$tmp/sc2.err"; }
python3 - "$tmp/sc.json" "$tmp/sc/archive.sqlite" <<'PY' && ok "systemc fidelity: SystemC numbers are the objectives" || bad "systemc fidelity"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
assert d["fidelity"] == "systemc" and d["simulations"] == 12 and d["front_size"] >= 1, d
db = sqlite3.connect(sys.argv[2])
rows = db.execute("select fidelity, status, failure, objectives, metrics, wall_s from evaluations").fetchall()
assert len(rows) == 12 and {r[0] for r in rows} == {"systemc"}, rows
for fid, status, failure, obj, m, wall in rows:
    if status == "failed":
        assert failure.startswith("systemc: "), failure
        continue
    m, obj = json.loads(m), json.loads(obj)
    sc = m["systemc"]
    assert sc["ran"] and sc["values_match"] and sc["cycles"] > 0 and wall > 0, m
    close = lambda x, y: abs(x - y) <= 1e-8 * abs(y)  # metrics are stored to 10 digits
    assert close(obj[1], sc["latency_ms"]) and close(obj[2], sc["energy_uj"]), (obj, sc)
    assert m["latency_ms"] == sc["latency_ms"], m
    assert abs(sc["latency_error"]) < 0.2, sc
for f in d["front"]:
    assert close(f["objectives"]["latency_ms"], f["systemc"]["latency_ms"]), f
PY
[ "$(front_of "$tmp/sc")" = "$(front_of "$tmp/sc2")" ] && ok "systemc fidelity: -j 2 front equals -j 1" || bad "systemc fidelity: -j 2 front differs"
# analytical+systemc: the search selects on hw_model's numbers (same front as analytical);
# every front design of every generation also gets a 'systemc' evaluation beside.
"$T" search -o "$tmp/both" "${SMALL[@]}" --set search.fidelity=analytical+systemc --json >"$tmp/both.json" 2>"$tmp/both.err" || { bad "analytical+systemc search failed"; cat "$tmp/both.err"; }
[ "$(front_of "$tmp/both")" = "$(front_of "$tmp/a")" ] && ok "analytical+systemc: front equals analytical" || bad "analytical+systemc front differs"
"$T" search -o "$tmp/both2" "${SMALL[@]}" --set search.fidelity=analytical+systemc -j 2 >/dev/null 2>"$tmp/both2.err" || { bad "analytical+systemc -j 2 failed"; cat "$tmp/both2.err"; }
sc_rows() { python3 -c "import sqlite3,sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute(\"select candidate_hash, status, objectives from evaluations where fidelity='systemc' order by candidate_hash\")]" "$1/archive.sqlite"; }
[ "$(sc_rows "$tmp/both")" = "$(sc_rows "$tmp/both2")" ] && [ -n "$(sc_rows "$tmp/both")" ] && ok "analytical+systemc: -j 2 re-scorings equal -j 1" || bad "analytical+systemc: -j 2 re-scorings differ"
python3 - "$tmp/both.json" "$tmp/both/archive.sqlite" <<'PY' && ok "analytical+systemc: fronts re-scored by SystemC" || bad "analytical+systemc re-scoring"
import json, sqlite3, sys
d = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])
n_an = db.execute("select count(*) from evaluations where fidelity='analytical'").fetchone()[0]
assert n_an == 12, n_an
sc = {h: (s, json.loads(m)) for h, s, m in db.execute(
    "select candidate_hash, status, metrics from evaluations where fidelity='systemc'")}
front = [h for (h,) in db.execute("select e.candidate_hash from front f join evaluations e on e.id=f.evaluation_id")]
assert front and all(h in sc for h in front), (front, list(sc))
assert d["simulations"] == len(sc), (d["simulations"], len(sc))
for f in d["front"]:
    s, m = sc[f["candidate"]]
    if s == "ok":
        assert f["systemc"]["latency_ms"] == m["latency_ms"] == m["systemc"]["latency_ms"], f
        a, b = f["objectives"]["latency_ms"], m["systemc"]["analytical_latency_ms"]
        assert abs(a - b) <= 1e-8 * b, (a, b)  # metrics are stored to 10 digits
PY
# search.val_images above data.val_images is refused naming both keys (it used to score
# every validation image silently).
"$T" search -o "$tmp/v" "${SMALL[@]}" --set search.val_images=500 >/dev/null 2>"$tmp/v.err"
[ $? -eq 1 ] && grep -q "key 'search.val_images': 500 validation images scored per evaluation, but key 'data.val_images' (--set) holds only 128" "$tmp/v.err" && [ ! -e "$tmp/v" ] \
  && ok "search.val_images > data.val_images refused" || { bad "val_images check"; cat "$tmp/v.err"; }
# systemc fidelity with accumulators narrower than twice the operands: the RTL core cannot
# take such a design and hw_model finds it infeasible, so it is an infeasible evaluation with
# hw_model's violation (and the simulation's reason), not a failed one.
"$T" search -o "$tmp/nacc" "${SMALL[@]}" --set search.fidelity=systemc --set search.generations=1 \
  --set space.hw.bits=[16] --set space.hw.acc_bits=[16,24] >/dev/null 2>"$tmp/nacc.err"
python3 - "$tmp/nacc/archive.sqlite" <<'PY' && ok "systemc: hw-infeasible designs are violations, not failures" || { bad "narrow accumulators under systemc"; cat "$tmp/nacc.err"; }
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "select status, violation, metrics from evaluations where fidelity='systemc'").fetchall()
assert len(rows) == 4, rows
for status, viol, m in rows:
    m = json.loads(m)
    assert status == "ok" and viol > 0, (status, viol)
    assert "acc_bits" in m["systemc_failure"] and m["fidelity"] == "analytical", m
PY
# An existing run directory is refused, pointing at --resume.
"$T" search -o "$tmp/a" "${SMALL[@]}" >/dev/null 2>"$tmp/c.err"
grep -q "already holds a run; continue it with --resume" "$tmp/c.err" && ok "existing run refused" || bad "existing run not refused"
finish
