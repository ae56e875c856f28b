#!/usr/bin/env bash
# Killing a search at any moment loses no finished evaluation: a run stopped after 5 new
# evaluations (test hook), and one killed with SIGKILL, both resumed, end with the same
# front and evaluation count as an uninterrupted run, and nothing is evaluated twice; the
# same for analytical+systemc, whose SystemC re-scorings must match too.
set -u
. "$(dirname "$0")/search_common.sh"
"$T" search -o "$tmp/full" "${SMALL[@]}" >/dev/null 2>"$tmp/full.err" || { bad "uninterrupted search failed"; cat "$tmp/full.err"; finish; exit 1; }
want_front=$(front_of "$tmp/full"); want_n=$(count_of "$tmp/full")
# 1. Stopped mid-generation by the test hook.
TANDEM_TEST_STOP_AFTER=5 "$T" search -o "$tmp/s" "${SMALL[@]}" >/dev/null 2>"$tmp/s.err"
[ "$(count_of "$tmp/s")" = 5 ] && ok "stopped run kept its 5 evaluations" || bad "stopped run has $(count_of "$tmp/s") evaluations"
grep -q "continue with tandem search --resume" "$tmp/s.err" && ok "stop message points at --resume" || bad "no resume hint"
"$T" search --resume "$tmp/s" --json >"$tmp/s.json" 2>"$tmp/s2.err" || { bad "resume failed"; cat "$tmp/s2.err"; }
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d['new_evaluations'] == $want_n - 5, d['new_evaluations']" "$tmp/s.json" && ok "resume evaluated only the missing ones" || bad "resume re-evaluated finished work"
[ "$(front_of "$tmp/s")" = "$want_front" ] && ok "resumed front equals uninterrupted" || bad "resumed front differs"
[ "$(count_of "$tmp/s")" = "$want_n" ] && ok "resumed evaluation count" || bad "resumed count $(count_of "$tmp/s") want $want_n"
# 2. SIGKILL at a moment the run chooses: as soon as 3 evaluations are committed. One
# worker (-j 1; fronts are identical for any -j) so that the rest of this tiny search takes
# longer than the polling interval: with the default two workers it could finish first.
"$T" search -o "$tmp/k" "${SMALL[@]}" -j 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 2400); do
  [ -f "$tmp/k/archive.sqlite" ] && [ "$(count_of "$tmp/k" 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.05
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
got=$(count_of "$tmp/k")
[ "$got" -ge 3 ] && [ "$got" -lt "$want_n" ] && ok "killed run kept $got evaluations" || bad "killed run has $got evaluations"
"$T" search --resume "$tmp/k" >/dev/null 2>"$tmp/k2.err" || { bad "resume after SIGKILL failed"; cat "$tmp/k2.err"; }
[ "$(front_of "$tmp/k")" = "$want_front" ] && ok "front after SIGKILL + resume" || bad "front after SIGKILL differs"
[ "$(count_of "$tmp/k")" = "$want_n" ] && ok "count after SIGKILL + resume" || bad "count after SIGKILL: $(count_of "$tmp/k")"
# 3. analytical+systemc: a stopped run resumed ends with the same front and the same SystemC
# re-scorings (no front design simulated twice, none missing).
sc_of() { python3 -c "import sqlite3,sys; [print(*r) for r in sqlite3.connect(sys.argv[1]).execute(\"select candidate_hash, status, objectives from evaluations where fidelity='systemc' order by candidate_hash\")]" "$1/archive.sqlite"; }
BOTH=(--set search.fidelity=analytical+systemc)
"$T" search -o "$tmp/bf" "${SMALL[@]}" "${BOTH[@]}" >/dev/null 2>"$tmp/bf.err" || { bad "analytical+systemc search failed"; cat "$tmp/bf.err"; }
TANDEM_TEST_STOP_AFTER=6 "$T" search -o "$tmp/bs" "${SMALL[@]}" "${BOTH[@]}" >/dev/null 2>/dev/null
"$T" search --resume "$tmp/bs" >/dev/null 2>"$tmp/bs.err" || { bad "analytical+systemc resume failed"; cat "$tmp/bs.err"; }
[ "$(front_of "$tmp/bs")" = "$(front_of "$tmp/bf")" ] && [ "$(count_of "$tmp/bs")" = "$(count_of "$tmp/bf")" ] \
  && [ "$(sc_of "$tmp/bs")" = "$(sc_of "$tmp/bf")" ] && [ -n "$(sc_of "$tmp/bf")" ] \
  && ok "analytical+systemc: resumed run equals uninterrupted (front, SystemC re-scorings)" || bad "analytical+systemc resume differs"
# 4. systemc: a stopped run resumed ends with the same front (SystemC objectives).
SC=(--set search.fidelity=systemc)
"$T" search -o "$tmp/cf" "${SMALL[@]}" "${SC[@]}" >/dev/null 2>"$tmp/cf.err" || { bad "systemc search failed"; cat "$tmp/cf.err"; }
TANDEM_TEST_STOP_AFTER=4 "$T" search -o "$tmp/cs" "${SMALL[@]}" "${SC[@]}" >/dev/null 2>/dev/null
"$T" search --resume "$tmp/cs" >/dev/null 2>"$tmp/cs.err" || { bad "systemc resume failed"; cat "$tmp/cs.err"; }
[ -n "$(front_of "$tmp/cf")" ] && [ "$(front_of "$tmp/cs")" = "$(front_of "$tmp/cf")" ] && [ "$(count_of "$tmp/cs")" = "$(count_of "$tmp/cf")" ] \
  && ok "systemc: resumed run equals uninterrupted" || bad "systemc resume differs"
finish
