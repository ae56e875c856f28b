#!/usr/bin/env bash
# mpirun -np 3 tandem search (rank 0 master, two training ranks) equals the local run, with
# analytical and with SystemC fidelity.
set -u
. "$(dirname "$0")/search_common.sh"
command -v mpirun >/dev/null || { echo "mpirun not installed"; exit 77; }
"$T" search -o "$tmp/local" "${SMALL[@]}" >/dev/null 2>"$tmp/l.err" || { bad "local search failed"; cat "$tmp/l.err"; finish; exit 1; }
mpirun -np 3 --oversubscribe --allow-run-as-root "$T" search -o "$tmp/mpi" "${SMALL[@]}" >/dev/null 2>"$tmp/m.err" || { bad "mpirun search failed"; tail -20 "$tmp/m.err"; }
[ "$(front_of "$tmp/local")" = "$(front_of "$tmp/mpi")" ] && ok "MPI front equals local" || bad "MPI front differs"
[ "$(count_of "$tmp/local")" = "$(count_of "$tmp/mpi")" ] && ok "MPI evaluation count" || bad "MPI count differs"
# search.fidelity systemc: the simulations run on the worker ranks; same front and numbers.
"$T" search -o "$tmp/lsc" "${SMALL[@]}" --set search.fidelity=systemc >/dev/null 2>"$tmp/ls.err" || { bad "local systemc search failed"; cat "$tmp/ls.err"; }
mpirun -np 3 --oversubscribe --allow-run-as-root "$T" search -o "$tmp/msc" "${SMALL[@]}" --set search.fidelity=systemc >/dev/null 2>"$tmp/ms.err" || { bad "mpirun systemc search failed"; tail -20 "$tmp/ms.err"; }
[ -n "$(front_of "$tmp/lsc")" ] && [ "$(front_of "$tmp/lsc")" = "$(front_of "$tmp/msc")" ] && ok "MPI systemc front equals local" || bad "MPI systemc front differs"
finish
