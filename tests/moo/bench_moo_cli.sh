#!/usr/bin/env bash
# `tandem bench-moo` contract: --json prints exactly one object with the documented keys,
# evaluations = pop * gens, -j 2 gives the same result as in process, bad flags exit 2 with
# a one-line message. Usage: bench_moo_cli.sh TANDEM_BINARY
set -euo pipefail
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$("$bin" bench-moo --problem zdt2 --pop 20 --gens 10 --seed 3 --json)
python3 - "$out" <<'PY' || fail "JSON contract"
import json, sys
d = json.loads(sys.argv[1])  # exactly one object: json.loads rejects trailing data
for k in ("hypervolume", "reference_point", "evaluations", "front_size", "wall_s"):
    assert k in d, k
assert d["evaluations"] == 200, d["evaluations"]
assert d["reference_point"] == [1.1, 1.1], d["reference_point"]
assert 0 < d["front_size"] <= 20
assert d["hypervolume"] >= 0
PY
hv1=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["hypervolume"])' <<<"$out")
hv2=$("$bin" bench-moo --problem zdt2 --pop 20 --gens 10 --seed 3 -j 2 --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["hypervolume"])')
[ "$hv1" = "$hv2" ] || fail "-j 2 hypervolume $hv2 differs from in-process $hv1"
"$bin" bench-moo --problem dtlz2 --pop 12 --gens 3 --algo regevo --json |
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["reference_point"]) == 3; assert d["algorithm"] == "regevo"' ||
  fail "dtlz2 regevo"
"$bin" bench-moo --problem zdt1 --pop 8 --gens 2 | grep -q "hypervolume" || fail "text output"
expect_usage() {
  local want=$1; shift
  set +e
  err=$("$bin" bench-moo "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ $rc -eq 2 ] || fail "bench-moo $*: exit $rc, expected 2"
  grep -qF -e "$want" <<<"$err" || fail "bench-moo $*: message '$err' lacks '$want'"
}
expect_usage "--problem is required" --pop 10
expect_usage "unknown problem 'zdt5'" --problem zdt5
expect_usage "--pop 3 is out of range" --problem zdt1 --pop 3
"$bin" bench-moo --problem zdt1 --pop 7 --gens 3 --json | grep -q '"evaluations": 21' ||
  fail "odd population"
expect_usage "unknown option '--bogus'" --problem zdt1 --bogus
expect_usage "unknown search algorithm 'nsga3'" --problem zdt1 --algo nsga3
expect_usage "--gens 0 is out of range" --problem zdt1 --gens 0
expect_usage "-j and --mpi do not combine" --problem zdt1 -j 2 --mpi
# --mpi outside mpirun: one rank (MPI built in) or MPI not built in; either way a clear error
set +e
err=$("$bin" bench-moo --problem zdt1 --mpi 2>&1 >/dev/null)
rc=$?
set -e
[ $rc -ne 0 ] || fail "--mpi outside mpirun succeeded"
grep -qE "MPI needs at least 2 ranks|built without MPI support" <<<"$err" ||
  fail "--mpi outside mpirun: '$err'"
echo "bench-moo CLI contract ok"
