/* Throughput of the analytical model: (network, accelerator) evaluations per second on one
 * core, as the search calls it (hw_evaluate with a reused result; configs drawn from the
 * default space beforehand). Built and run by scripts/bench-hw.sh.
 *
 * usage: bench-hw [SECONDS]   (default 3 per network) */
#include "hw_eval.h"
#include "hw_space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_CONFIGS 4096

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define TRY(x)                                                                                     \
    do {                                                                                           \
        if ((x) != TD_OK) {                                                                        \
            fprintf(stderr, "bench-hw: %s\n", td_error_message());                                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* The largest network of the default net space (space.net.*: 3 stages of 3 blocks,
 * stem 32 channels, stages of 32/64/96 channels, MBConv 5x5 with expansion 6, residual
 * where shapes match), on Fashion-MNIST's 1x28x28 input. */
static void build_default_space_max(nn_graph *g)
{
    nn_shape in = {1, 28, 28};
    int32_t x = 0;
    TRY(nn_graph_init(g, "default-space-max", in, 10));
    TRY(nn_graph_add_conv(g, &x, x, "stem", 32, 3, 1, 1, 1, false));
    TRY(nn_graph_add_batchnorm(g, &x, x, "stem.bn"));
    TRY(nn_graph_add_relu(g, &x, x, "stem.relu", false));
    const int64_t ch[3] = {32, 64, 96};
    int64_t c_in = 32;
    for (int s = 0; s < 3; s++) {
        for (int b = 0; b < 3; b++) {
            char n[NN_NAME_MAX];
            int32_t y, skip = x;
            int32_t stride = (b == 0 && s > 0) ? 2 : 1;
            snprintf(n, sizeof n, "s%d.b%d.exp", s, b);
            TRY(nn_graph_add_conv(g, &y, x, n, c_in * 6, 1, 1, 0, 1, false));
            snprintf(n, sizeof n, "s%d.b%d.exp.bn", s, b);
            TRY(nn_graph_add_batchnorm(g, &y, y, n));
            snprintf(n, sizeof n, "s%d.b%d.exp.relu", s, b);
            TRY(nn_graph_add_relu(g, &y, y, n, true));
            snprintf(n, sizeof n, "s%d.b%d.dw", s, b);
            TRY(nn_graph_add_conv(g, &y, y, n, c_in * 6, 5, stride, 2, (int32_t)(c_in * 6), false));
            snprintf(n, sizeof n, "s%d.b%d.dw.bn", s, b);
            TRY(nn_graph_add_batchnorm(g, &y, y, n));
            snprintf(n, sizeof n, "s%d.b%d.dw.relu", s, b);
            TRY(nn_graph_add_relu(g, &y, y, n, true));
            snprintf(n, sizeof n, "s%d.b%d.pw", s, b);
            TRY(nn_graph_add_conv(g, &y, y, n, ch[s], 1, 1, 0, 1, false));
            snprintf(n, sizeof n, "s%d.b%d.pw.bn", s, b);
            TRY(nn_graph_add_batchnorm(g, &y, y, n));
            if (stride == 1 && c_in == ch[s]) {
                snprintf(n, sizeof n, "s%d.b%d.add", s, b);
                TRY(nn_graph_add_add(g, &y, y, skip, n));
            }
            x = y;
            c_in = ch[s];
        }
    }
    TRY(nn_graph_add_global_avgpool(g, &x, x, "gap"));
    TRY(nn_graph_add_fc(g, &x, x, "fc", 10, true));
}

/* Returns evaluations per wall-clock second; *cpu_rate gets evaluations per second of this
 * thread's CPU time (what one core delivers when the machine is shared). */
static double bench(const nn_graph *g, const hw_config *cfgs, double seconds, double *sink,
                    double *cpu_rate)
{
    hw_result r;
    TRY(hw_result_init(&r, g->n_nodes));
    /* warm-up */
    for (int i = 0; i < N_CONFIGS; i++)
        TRY(hw_evaluate(g, &cfgs[i], &r));
    long long n = 0;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), t;
    do {
        for (int i = 0; i < N_CONFIGS; i++) {
            hw_evaluate(g, &cfgs[i], &r);
            *sink += r.energy_uj;
        }
        n += N_CONFIGS;
        t = clock_s(CLOCK_MONOTONIC);
    } while (t - t0 < seconds);
    *cpu_rate = n / (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    hw_result_free(&r);
    return n / (t - t0);
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    if (!(seconds > 0))
        seconds = 3.0;
    hw_space s;
    TRY(hw_space_default(&s));
    td_rng rng;
    TRY(td_rng_init(&rng, 1));
    static hw_config cfgs[N_CONFIGS];
    for (int i = 0; i < N_CONFIGS; i++)
        hw_space_sample(&s, &rng, &cfgs[i], NULL);
    td_rng_free(&rng);

    nn_graph nets[2];
    build_default_space_max(&nets[0]);
    TRY(nn_builtin_graph(&nets[1], "ref-cnn"));
    double sink = 0;
    for (int k = 0; k < 2; k++) {
        size_t array = 0;
        for (size_t i = 0; i < nets[k].n_nodes; i++)
            array += nets[k].nodes[i].op == NN_OP_CONV || nets[k].nodes[i].op == NN_OP_FC;
        double cpu_rate, rate = bench(&nets[k], cfgs, seconds, &sink, &cpu_rate);
        printf("%-18s %3zu nodes (%2zu conv/fc), %lld MACs: %.0f evaluations/s of CPU time "
               "(%.2f us each), %.0f per wall-clock s\n",
               nets[k].name, nets[k].n_nodes, array, (long long)nn_graph_macs(&nets[k]), cpu_rate,
               1e6 / cpu_rate, rate);
        nn_graph_free(&nets[k]);
    }
    return sink > 0 ? 0 : 1;
}
