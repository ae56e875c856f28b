#!/bin/sh
# Proxy evaluation time of default-space networks (issue #3 bar: a proxy evaluation of
# 10k images, 1 epoch, of a typical default-space network takes seconds, not minutes, on 2
# cores). Decodes N random genomes (seeds 1..N) of the default space, runs
# nn_proxy_evaluate (train 10,000 images x 1 epoch, batch 128, score 2,000 validation
# images in float and at 8 bits) with THREADS threads (default 2), and prints per network:
# MACs, params, wall-clock seconds and process CPU seconds. On a shared machine wall-clock
# time includes waiting for the cores; CPU seconds / 2 is what an otherwise idle 2-core
# machine needs.
# With a second build directory (BUILD_B, e.g. one built from an older commit) the two are
# run interleaved (A then B for each network, REPS rounds) and the medians are printed side
# by side, for before/after comparisons on a loaded machine.
# Usage: scripts/bench-train-proxy.sh BUILD_DIR [N] [THREADS] [BUILD_B] [REPS]
#   (build dirs configured with -DTANDEM_CUDA=OFF and the nn_search target built)
set -eu
build=${1:?usage: scripts/bench-train-proxy.sh BUILD_DIR [N] [THREADS] [BUILD_B] [REPS]}
n=${2:-5}
threads=${3:-2}
build_b=${4:-}
reps=${5:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/proxy.c" <<'CEOF'
#include "nn_space.h"
#include "td_progress.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    int threads = argc > 2 ? atoi(argv[2]) : 2;
    int only = argc > 3 ? atoi(argv[3]) : 0; /* one genome seed, one bare line */
    nn_data d;
    if (nn_data_load(&d, NULL, 5000, 1) != TD_OK) {
        fprintf(stderr, "%s\n", td_error_message());
        return 1;
    }
    nn_space s;
    nn_space_default(&s);
    int32_t genes[256];
    if (!only) {
        printf("| genome seed | network | MACs | params | float val | int8 val | wall s | CPU s |\n");
        printf("|---|---|---|---|---|---|---|---|\n");
    }
    for (int i = only ? only : 1; i <= (only ? only : n); i++) {
        td_rng rng;
        td_rng_init(&rng, (uint64_t)i);
        nn_genome_random(&s, &rng, genes);
        td_rng_free(&rng);
        nn_graph g;
        if (nn_genome_decode(&s, genes, &g) != TD_OK)
            return 1;
        nn_budget b = {10000, 1, 128, 2000};
        nn_proxy_result r;
        double c0 = cpu_s();
        if (nn_proxy_evaluate(&g, &d, &b, 8, 1, threads, &r) != TD_OK) {
            fprintf(stderr, "%s\n", td_error_message());
            return 1;
        }
        if (only)
            printf("%s %lld %lld %.4f %.4f %.2f %.2f\n", g.name, (long long)r.macs,
                   (long long)r.params, r.val_accuracy, r.int_val_accuracy, r.wall_s,
                   cpu_s() - c0);
        else
            printf("| %d | %s | %lld | %lld | %.4f | %.4f | %.1f | %.1f |\n", i, g.name,
                   (long long)r.macs, (long long)r.params, r.val_accuracy, r.int_val_accuracy,
                   r.wall_s, cpu_s() - c0);
        fflush(stdout);
        nn_graph_free(&g);
    }
    nn_data_free(&d);
    return 0;
}
CEOF
link() { # build dir, output binary
    cc -O2 -fopenmp -I"$here/nn_search" -I"$here/common" -I"$1/common" "$tmp/proxy.c" \
        "$1/nn_search/libnn_search.a" "$1/common/libtd_common.a" \
        -lopenblas -lz -lgsl -lgslcblas -lfyaml -ljansson -lxxhash -lm -o "$2"
}
link "$build" "$tmp/proxy"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$here" rev-parse --short HEAD), threads $threads, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "$build_b" ]; then
    "$tmp/proxy" "$n" "$threads"
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi
link "$build_b" "$tmp/proxy_b"
: > "$tmp/runs"
r=1
while [ "$r" -le "$reps" ]; do
    i=1
    while [ "$i" -le "$n" ]; do
        for v in A B; do
            bin="$tmp/proxy"
            [ "$v" = B ] && bin="$tmp/proxy_b"
            line=$("$bin" "$n" "$threads" "$i")
            echo "round $r genome $i build $v: $line (load $(cut -d' ' -f1 /proc/loadavg))" >&2
            echo "$i $v $line" >> "$tmp/runs"
        done
        i=$((i + 1))
    done
    r=$((r + 1))
done
echo "A = $build, B = $build_b; medians of $reps interleaved rounds"
echo "| genome seed | network | MACs | params | float val A / B | int8 val A / B | wall s A | wall s B | CPU s A | CPU s B |"
echo "|---|---|---|---|---|---|---|---|---|---|"
awk -v n="$n" '
function median(arr, k,   i, j, t) {
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return k % 2 ? arr[(k + 1) / 2] : (arr[k / 2] + arr[k / 2 + 1]) / 2
}
{ g = $1; v = $2; name[g] = $3; macs[g] = $4; par[g] = $5; fv[g, v] = $6; iv[g, v] = $7
  r = ++cnt[g, v]; W[g, v, r] = $8; C[g, v, r] = $9 }
END {
    for (g = 1; g <= n; g++) {
        for (v = 0; v < 2; v++) {
            vv = v ? "B" : "A"; k = cnt[g, vv]
            for (i = 1; i <= k; i++) { w[i] = W[g, vv, i]; cc[i] = C[g, vv, i] }
            mw[vv] = median(w, k); mc[vv] = median(cc, k)
        }
        printf "| %d | %s | %s | %s | %s / %s | %s / %s | %.1f | %.1f | %.1f | %.1f |\n", g, name[g], macs[g], par[g],
            fv[g, "A"], fv[g, "B"], iv[g, "A"], iv[g, "B"], mw["A"], mw["B"], mc["A"], mc["B"]
    }
}' "$tmp/runs"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
