/* The table of errors between the SystemC model (sim, twin core) and the analytical model
 * (hw_model) on (network, accelerator) pairs spanning compute- and memory-bound cases, WS and
 * OS; and the simulation speed of both cores. Markdown on stdout (docs/benchmarks.md).
 * Built and run by scripts/sim-vs-model.sh. */
#include "hw_eval.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if ((x) != TD_OK) {                                                                        \
            fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, td_error_message());                \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void net_mlp(nn_graph *g)
{
    int32_t x = 0;
    CHECK(nn_graph_init(g, "mlp", (nn_shape){1, 28, 28}, 10));
    CHECK(nn_graph_add_fc(g, &x, x, "fc1", 256, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r1", false));
    CHECK(nn_graph_add_fc(g, &x, x, "fc2", 128, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r2", false));
    CHECK(nn_graph_add_fc(g, &x, x, "fc3", 10, true));
}

static void net_wide(nn_graph *g)
{
    int32_t x = 0;
    CHECK(nn_graph_init(g, "wide-cnn", (nn_shape){3, 32, 32}, 10));
    CHECK(nn_graph_add_conv(g, &x, x, "c1", 64, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r1", false));
    CHECK(nn_graph_add_conv(g, &x, x, "c2", 64, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r2", false));
    CHECK(nn_graph_add_pool(g, &x, x, "p1", NN_OP_MAXPOOL, 2, 2, 0));
    CHECK(nn_graph_add_conv(g, &x, x, "c3", 128, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r3", false));
    CHECK(nn_graph_add_global_avgpool(g, &x, x, "gap"));
    CHECK(nn_graph_add_fc(g, &x, x, "fc", 10, true));
}

static void net_dw(nn_graph *g)
{
    int32_t x = 0;
    CHECK(nn_graph_init(g, "dw-net", (nn_shape){3, 32, 32}, 10));
    CHECK(nn_graph_add_conv(g, &x, x, "stem", 32, 3, 2, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r0", false));
    CHECK(nn_graph_add_conv(g, &x, x, "dw1", 32, 3, 1, 1, 32, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r1", false));
    CHECK(nn_graph_add_conv(g, &x, x, "pw1", 64, 1, 1, 0, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r2", false));
    CHECK(nn_graph_add_global_avgpool(g, &x, x, "gap"));
    CHECK(nn_graph_add_fc(g, &x, x, "fc", 10, true));
}

static void net_res(nn_graph *g)
{
    int32_t x = 0, a, b;
    CHECK(nn_graph_init(g, "res-net", (nn_shape){3, 16, 16}, 10));
    CHECK(nn_graph_add_conv(g, &x, x, "stem", 32, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &x, x, "r0", false));
    CHECK(nn_graph_add_conv(g, &a, x, "b1.c1", 32, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_relu(g, &a, a, "b1.r1", false));
    CHECK(nn_graph_add_conv(g, &a, a, "b1.c2", 32, 3, 1, 1, 1, true));
    CHECK(nn_graph_add_add(g, &b, a, x, "b1.add"));
    CHECK(nn_graph_add_relu(g, &b, b, "b1.r2", false));
    CHECK(nn_graph_add_global_avgpool(g, &b, b, "gap"));
    CHECK(nn_graph_add_fc(g, &b, b, "fc", 10, true));
}

/* hw_model's own mapping (tiles, folds) plus the RTL core's serial memory-port and REQUANT
 * commands (docs/sim.md section 5): what hw_model would predict with those terms. Loads and
 * stores take 1 + 2 n cycles for n words; REQUANT 3 + m. Per layer:
 *   max(compute + port + requant, memory) + prologue; vector layers as hw_model has them. */
static int64_t corrected_cycles(const hw_result *hr, hw_dataflow df)
{
    int64_t total = 0;
    for (size_t i = 0; i < hr->n_layers; i++) {
        const hw_layer_result *l = &hr->layers[i];
        if (l->unit != HW_UNIT_ARRAY) {
            total += l->cycles;
            continue;
        }
        const int64_t G = l->groups, M = l->gemm_m, K = l->gemm_k, N = l->gemm_n;
        const int64_t fm = l->folds_m, fk = l->folds_k, fn = l->folds_n;
        int64_t port, rq;
        if (df == HW_DATAFLOW_WS) {
            port = (fn + 2 * N) + (fn * fm + 2 * fn * M) + (fn * fm * fk + 2 * K * fn * fm) +
                   (fn * fm * fk + 2 * M * fn * fk);
            rq = 3 * fn * fm + fn * M;
        } else {
            port = (fn + 2 * N) + (fn * fm + 2 * M * fn) + (2 * fn * fm * fk + 4 * K * fn * fm);
            rq = 3 * fn * fm + M * fn;
        }
        int64_t busy = l->compute_cycles + G * (port + rq);
        total += (busy > l->memory_cycles ? busy : l->memory_cycles) + l->prologue_cycles;
    }
    return total;
}

static hw_config accel(const char *preset, const char *name, int df, double gbps, int l2_kib)
{
    hw_config c;
    CHECK(hw_preset(preset, &c));
    snprintf(c.name, sizeof c.name, "%s", name);
    if (df >= 0)
        c.dataflow = df ? HW_DATAFLOW_OS : HW_DATAFLOW_WS;
    if (gbps > 0)
        c.dram_gbps = gbps;
    if (l2_kib > 0)
        c.l2_kib = l2_kib;
    return c;
}

int main(int argc, char **argv)
{
    const char *rtl_dir = argc > 1 ? argv[1] : "tests/regress/hw";
    nn_graph nets[5];
    CHECK(nn_builtin_graph(&nets[0], "ref-cnn"));
    net_mlp(&nets[1]);
    net_wide(&nets[2]);
    net_dw(&nets[3]);
    net_res(&nets[4]);
    hw_config hws[] = {
        accel("gemmini-16x16-int8", "gemmini-16x16-ws", -1, 0, 0),
        accel("gemmini-16x16-int8", "gemmini-16x16-os", 1, 0, 0),
        accel("gemmini-16x16-int8", "g16-ws-2GBps-L2-64K", -1, 2.0, 64),
        accel("edge-8x16-int8", "edge-8x16-os-1GBps", 1, 1.0, 0),
        accel("cloud-64x64-int8", "cloud-64x64-os", -1, 0, 0),
    };
    const size_t n_nets = sizeof nets / sizeof nets[0], n_hw = sizeof hws / sizeof hws[0];
    printf("| network | accelerator | df | model bound | sim cycles | model cycles | error | "
           "sim array | sim port+DRAM | sim requant | model compute | model memory | "
           "model + port terms | its error |\n");
    printf("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int within = 0, total = 0, within_c = 0;
    double max_c = 0;
    double max_abs = 0, tw_cyc = 0, tw_s = 0;
    for (size_t h = 0; h < n_hw; h++)
        for (size_t i = 0; i < n_nets; i++) {
            const nn_graph *g = &nets[i];
            hw_result hr;
            CHECK(hw_result_init(&hr, g->n_nodes));
            CHECK(hw_evaluate(g, &hws[h], &hr));
            sim_options o;
            sim_options_default(&o);
            sim_result sr;
            CHECK(sim_run_net(g, &hws[h], &o, &sr));
            if (!sr.values_match) {
                fprintf(stderr, "%s on %s: %s\n", g->name, hws[h].name, sr.first_mismatch);
                return 1;
            }
            int64_t mem_b = 0, comp = 0, memc = 0;
            for (size_t l = 0; l < hr.n_layers; l++) {
                if (hr.layers[l].bound == HW_BOUND_MEMORY)
                    mem_b += hr.layers[l].cycles;
                comp += hr.layers[l].compute_cycles;
                memc += hr.layers[l].memory_cycles;
            }
            int64_t s_arr = 0, s_mem = 0, s_vec = 0;
            for (size_t l = 0; l < sr.n_layers; l++) {
                s_arr += sr.layers[l].compute_cycles;
                s_mem += sr.layers[l].memory_cycles;
                s_vec += sr.layers[l].vector_cycles;
            }
            const double err = 100.0 * (double)(hr.cycles - sr.cycles) / (double)sr.cycles;
            const int64_t corr = corrected_cycles(&hr, hws[h].dataflow);
            const double err_c = 100.0 * (double)(corr - sr.cycles) / (double)sr.cycles;
            within_c += fabs(err_c) <= 5.0;
            if (fabs(err_c) > max_c)
                max_c = fabs(err_c);
            total++;
            within += fabs(err) <= 5.0;
            if (fabs(err) > max_abs)
                max_abs = fabs(err);
            tw_cyc += (double)sr.cycles;
            tw_s += sr.sim_seconds;
            printf("| %s | %s | %s | %s | %lld | %lld | %+.1f %% | %lld | %lld | %lld | %lld | "
                   "%lld | %lld | %+.1f %% |\n",
                   g->name, hws[h].name, hw_dataflow_name(hws[h].dataflow),
                   2 * mem_b > hr.cycles ? "memory" : "compute", (long long)sr.cycles,
                   (long long)hr.cycles, err, (long long)s_arr, (long long)s_mem, (long long)s_vec,
                   (long long)comp, (long long)memc, (long long)corr, err_c);
            fflush(stdout);
            sim_result_free(&sr);
            hw_result_free(&hr);
        }
    printf("\nhw_model as it is: %d of %d pairs within 5 %%; largest |error| %.1f %%.\n", within,
           total, max_abs);
    printf("hw_model + the core's port and REQUANT terms: %d of %d within 5 %%; largest |error| "
           "%.1f %%.\n",
           within_c, total, max_c);
    printf("\nSimulation speed, twin core, over the table: %.3g simulated cycles/s "
           "(%.0f cycles in %.2f s).\n",
           tw_cyc / tw_s, tw_cyc, tw_s);
    /* both cores on the Verilated parameter sets */
    printf("\n| core | accelerator | network | cycles | wall s | simulated cycles/s |\n");
    printf("|---|---|---|---:|---:|---:|\n");
    const char *files[] = {"rtl-4x4-ws.yaml", "rtl-4x4-os.yaml"};
    for (size_t f = 0; f < 2; f++) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", rtl_dir, files[f]);
        hw_config c;
        CHECK(hw_config_load_file(path, &c));
        for (int k = 0; k < SIM_CORE_COUNT; k++) {
            sim_options o;
            sim_options_default(&o);
            o.core = (sim_core_kind)k;
            sim_result sr;
            td_status st = sim_run_net(&nets[0], &c, &o, &sr);
            if (st != TD_OK) {
                printf("| %s | %s | ref-cnn | - | - | %s |\n", sim_core_name(o.core), c.name,
                       td_error_message());
                continue;
            }
            printf("| %s | %s | ref-cnn | %lld | %.2f | %.3g |\n", sim_core_name(o.core), c.name,
                   (long long)sr.cycles, sr.sim_seconds, sr.cycles_per_second);
            sim_result_free(&sr);
        }
    }
    for (size_t i = 0; i < n_nets; i++)
        nn_graph_free(&nets[i]);
    return 0;
}
