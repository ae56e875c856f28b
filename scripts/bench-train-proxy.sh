#!/bin/sh
# Proxy evaluation time of default-space networks (issue #3 bar: a proxy evaluation of
# 10k images, 1 epoch, of a typical default-space network takes seconds, not minutes, on 2
# cores). Decodes N random genomes (seeds 1..N) of the default space, runs
# nn_proxy_evaluate (train 10,000 images x 1 epoch, batch 128, score 2,000 validation
# images in float and at 8 bits) with 2 threads, and prints per network: MACs, params,
# wall-clock seconds and process CPU seconds. On a shared machine wall-clock time includes
# waiting for the cores; CPU seconds / 2 is what an otherwise idle 2-core machine needs.
# Usage: scripts/bench-train-proxy.sh BUILD_DIR [N]   (BUILD_DIR configured with
# -DTANDEM_CUDA=OFF and the nn_search target built)
set -eu
build=${1:?usage: scripts/bench-train-proxy.sh BUILD_DIR [N]}
n=${2:-5}
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
    nn_data d;
    if (nn_data_load(&d, NULL, 5000, 1) != TD_OK) {
        fprintf(stderr, "%s\n", td_error_message());
        return 1;
    }
    nn_space s;
    nn_space_default(&s);
    int32_t genes[256];
    printf("| genome seed | network | MACs | params | float val | int8 val | wall s | CPU s |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int i = 1; i <= n; i++) {
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
        if (nn_proxy_evaluate(&g, &d, &b, 8, 1, 2, &r) != TD_OK) {
            fprintf(stderr, "%s\n", td_error_message());
            return 1;
        }
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
cc -O2 -fopenmp -I"$here/nn_search" -I"$here/common" -I"$build/common" "$tmp/proxy.c" \
    "$build/nn_search/libnn_search.a" "$build/common/libtd_common.a" \
    -lopenblas -lz -lgsl -lgslcblas -lfyaml -ljansson -lxxhash -lm -o "$tmp/proxy"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ), commit $(git -C "$here" rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$tmp/proxy" "$n"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
