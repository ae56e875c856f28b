#!/usr/bin/env bash
# A small search under mpirun -np 3 (rank 0 master, 2 workers) gives the same evaluations
# (objectives bit for bit, failures with the same reasons) and the same front as the local
# runs in process and with fork -j 4. Usage: mpi_search_equal.sh DRIVER MPIRUN
set -euo pipefail
drv=$1
mpirun=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# containers: no cross-memory attach; allow root; more ranks than cores
export OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
mpi=("$mpirun" -np 3 --oversubscribe --allow-run-as-root)
args=(--problem zdt1 --pop 24 --gens 8 --seed 11)
"$drv" --pool inprocess "${args[@]}" >"$tmp/inprocess.txt"
"$drv" --pool fork -j 4 "${args[@]}" >"$tmp/fork.txt"
"${mpi[@]}" "$drv" --pool mpi "${args[@]}" >"$tmp/mpi.txt"
cmp "$tmp/inprocess.txt" "$tmp/fork.txt"
cmp "$tmp/inprocess.txt" "$tmp/mpi.txt"
echo "plain: $(head -1 "$tmp/mpi.txt"), $(wc -l <"$tmp/mpi.txt") lines equal"
# with evaluations that crash their process or fail: fork -j 1, fork -j 4 and MPI agree
"$drv" --pool fork -j 1 --crash "${args[@]}" >"$tmp/fork1c.txt" 2>/dev/null
"$drv" --pool fork -j 4 --crash "${args[@]}" >"$tmp/fork4c.txt" 2>/dev/null
"${mpi[@]}" "$drv" --pool mpi --crash "${args[@]}" >"$tmp/mpic.txt" 2>/dev/null
cmp "$tmp/fork1c.txt" "$tmp/fork4c.txt"
cmp "$tmp/fork1c.txt" "$tmp/mpic.txt"
grep -q "worker killed by signal SIGSEGV (Segmentation fault)" "$tmp/mpic.txt"
grep -q "refused band" "$tmp/mpic.txt"
echo "crashy: $(head -1 "$tmp/mpic.txt"), equal on fork -j 1, fork -j 4 and MPI"
# a search stopped part-way by its completion hook (tasks still out dropped), then a full
# one on the same pool: equal to the in-process run
"${mpi[@]}" "$drv" --pool mpi --stop-after 30 "${args[@]}" >"$tmp/mpistop.txt"
"$drv" --pool fork -j 3 --stop-after 30 "${args[@]}" >"$tmp/forkstop.txt"
cmp "$tmp/inprocess.txt" "$tmp/mpistop.txt"
cmp "$tmp/inprocess.txt" "$tmp/forkstop.txt"
echo "stopped then rerun on the same pool: equal on fork -j 3 and MPI"
# evaluations that hang past the timeout (0.5 s): recorded as "timeout after 0.5 s" on every
# pool, the MPI worker rank's own fork pool kills and restarts its evaluating process
"$drv" --pool fork -j 1 --hang --timeout 0.5 "${args[@]}" >"$tmp/fork1h.txt" 2>/dev/null
"$drv" --pool fork -j 4 --hang --timeout 0.5 "${args[@]}" >"$tmp/fork4h.txt" 2>/dev/null
"${mpi[@]}" "$drv" --pool mpi --hang --timeout 0.5 "${args[@]}" >"$tmp/mpih.txt" 2>/dev/null
cmp "$tmp/fork1h.txt" "$tmp/fork4h.txt"
cmp "$tmp/fork1h.txt" "$tmp/mpih.txt"
grep -q "timeout after 0.5 s" "$tmp/mpih.txt"
echo "hanging: $(head -1 "$tmp/mpih.txt"), equal on fork -j 1, fork -j 4 and MPI"
