/* sim: the C side of the library: parameters, the config -> core mapping, energy from
 * activity counters, JSON and the per-layer table. */
#include "sim.h"

#include "hw_eval.h"
#include "hw_timing.h"
#include "td_json.h"

#include <math.h>
#include <string.h>

static const char *const core_names[SIM_CORE_COUNT] = {"twin", "rtl"};
static const char *const stall_names[SIM_STALL_COUNT] = {"dram", "port", "writeback", "bank"};

const char *sim_core_name(sim_core_kind k)
{
    return (int)k >= 0 && k < SIM_CORE_COUNT ? core_names[k] : "?";
}

td_status sim_core_parse(const char *s, sim_core_kind *out)
{
    for (int k = 0; k < SIM_CORE_COUNT; k++)
        if (strcmp(s, core_names[k]) == 0) {
            *out = (sim_core_kind)k;
            return TD_OK;
        }
    return td_fail(TD_ERR_USAGE, "--core '%s' is neither 'rtl' nor 'twin'", s);
}

const char *sim_stall_name(sim_stall s)
{
    return (int)s >= 0 && s < SIM_STALL_COUNT ? stall_names[s] : "?";
}

/* The one table of the system model's own constants (docs/sim.md, "Constants"). */
sim_params sim_params_default(void)
{
    sim_params p;
    /* assumption: DDR4/LPDDR4 first-word latency is 40-60 ns at the controller; midpoint */
    p.dram_latency_ns = 50.0;
    /* DDR4 burst length 8 on a 64-bit channel = 64 bytes (JESD79-4) */
    p.burst_bytes = 64;
    /* assumption: 8 banks interleaved by block (Gemmini's default scratchpad has 4 banks) */
    p.l2_banks = 8;
    /* one-cycle SRAM read: the response is seen by the core the cycle after the request */
    p.l2_read_cycles = 1;
    return p;
}

void sim_options_default(sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->core = SIM_CORE_TWIN;
    o->seed = 2026;
    o->params = sim_params_default();
}

/* The core the compiler builds for cfg: one rule, rtl_hw_from_config (rtl_templates). */
td_status sim_rtl_hw_from_config(const hw_config *cfg, rtl_hw *out)
{
    return rtl_hw_from_config(cfg, out);
}

void sim_counters_add(sim_counters *dst, const sim_counters *src)
{
    int64_t *d = (int64_t *)dst;
    const int64_t *s = (const int64_t *)src;
    for (size_t i = 0; i < sizeof(sim_counters) / sizeof(int64_t); i++)
        d[i] += s[i];
}

void sim_energy_compute(const sim_counters *c, const hw_config *cfg, const hw_tech_table *t,
                        int64_t cycles, sim_energy *out)
{
    /* The selected table is per node (hw_tech_for_node): the one hw_evaluate uses for this
     * config, so that both fidelities charge the same per-action costs. */
    if (t == hw_tech_active())
        t = hw_tech_for_node(cfg->tech_nm);
    hw_action_costs k; /* the ONE derivation of per-action energies (hw_eval.h) */
    hw_action_costs_compute(cfg, t, &k);
    const double b = cfg->bits, a = cfg->acc_bits, R = cfg->rows, C = cfg->cols;
    sim_energy e;
    e.mac_uj = (double)c->macs * k.mac_pj * 1e-6;
    /* every enabled PE moves its operand and partial-sum registers each cycle */
    e.reg_uj = (double)c->pe_cycles * (2 * b + a) * k.reg_bit_pj * 1e-6;
    e.l1_uj = ((double)(c->xs_reads + c->xs_writes) * R * b * k.l1_input_bit_pj +
               (double)(c->ws_reads + c->ws_writes) * C * b * k.l1_weight_bit_pj +
               (double)(c->acc_reads + c->acc_writes) * C * a * k.l1_acc_bit_pj +
               (double)(c->out_reads + c->out_writes) * C * b * k.l1_acc_bit_pj +
               (double)c->param_writes * (a + 39) * k.l1_acc_bit_pj) *
              1e-6;
    e.l2_uj = 8.0 * (double)(c->l2_read_bytes + c->l2_write_bytes) * k.l2_bit_pj * 1e-6;
    e.dram_uj = 8.0 * (double)(c->dram_read_bytes + c->dram_write_bytes) * k.dram_bit_pj * 1e-6;
    e.vector_uj =
        ((double)c->requants * k.requant_pj + (double)c->vector_ops * k.vec_add_pj) * 1e-6;
    e.ctrl_uj = (double)c->commands * k.cmd_pj * 1e-6;
    const double leak_mw = hw_area_mm2(cfg, t, NULL) * k.leak_mw_per_mm2;
    e.leak_uj = leak_mw * (double)cycles / (cfg->clock_mhz * 1000.0);
    e.total_uj =
        e.mac_uj + e.reg_uj + e.l1_uj + e.l2_uj + e.dram_uj + e.vector_uj + e.ctrl_uj + e.leak_uj;
    *out = e;
}

static double err_pct(double sim, double model)
{
    return sim > 0 ? 100.0 * (model - sim) / sim : 0;
}

static json_t *counters_json(const sim_counters *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "macs", json_integer(c->macs));
    json_object_set_new(o, "pe_cycles", json_integer(c->pe_cycles));
    json_object_set_new(o, "input_spad_reads", json_integer(c->xs_reads));
    json_object_set_new(o, "input_spad_writes", json_integer(c->xs_writes));
    json_object_set_new(o, "weight_spad_reads", json_integer(c->ws_reads));
    json_object_set_new(o, "weight_spad_writes", json_integer(c->ws_writes));
    json_object_set_new(o, "acc_reads", json_integer(c->acc_reads));
    json_object_set_new(o, "acc_writes", json_integer(c->acc_writes));
    json_object_set_new(o, "out_reads", json_integer(c->out_reads));
    json_object_set_new(o, "out_writes", json_integer(c->out_writes));
    json_object_set_new(o, "param_writes", json_integer(c->param_writes));
    json_object_set_new(o, "requants", json_integer(c->requants));
    json_object_set_new(o, "vector_ops", json_integer(c->vector_ops));
    json_object_set_new(o, "commands", json_integer(c->commands));
    json_object_set_new(o, "l2_read_bytes", json_integer(c->l2_read_bytes));
    json_object_set_new(o, "l2_write_bytes", json_integer(c->l2_write_bytes));
    json_object_set_new(o, "dram_read_bytes", json_integer(c->dram_read_bytes));
    json_object_set_new(o, "dram_write_bytes", json_integer(c->dram_write_bytes));
    json_t *st = json_object();
    for (int s = 0; s < SIM_STALL_COUNT; s++)
        json_object_set_new(st, sim_stall_name((sim_stall)s), json_integer(c->stall_cycles[s]));
    json_object_set_new(o, "stall_cycles", st);
    return o;
}

json_t *sim_result_to_json(const sim_result *r, const nn_graph *g, const hw_config *cfg,
                           const void *analytical)
{
    const hw_result *hr = analytical;
    json_t *o = json_object();
    json_object_set_new(o, "net", json_string(g->name));
    json_object_set_new(o, "hw", json_string(cfg->name));
    json_object_set_new(o, "core", json_string(sim_core_name(r->core)));
    json_object_set_new(o, "weights",
                        json_string(r->trained_weights ? "trained integer model"
                                                       : "random (seeded), no trained model"));
    json_object_set_new(o, "cycles", json_integer(r->cycles));
    json_object_set_new(o, "latency_ms", td_json_real(r->latency_ms));
    json_object_set_new(o, "energy_uj", td_json_real(r->energy_uj));
    json_object_set_new(o, "power_mw", td_json_real(r->power_mw));
    if (hr) {
        json_object_set_new(o, "analytical_cycles", json_integer(hr->cycles));
        json_object_set_new(o, "analytical_latency_ms", td_json_real(hr->latency_ms));
        json_object_set_new(o, "analytical_energy_uj", td_json_real(hr->energy_uj));
        json_object_set_new(o, "error_pct", td_json_real(err_pct(r->latency_ms, hr->latency_ms)));
        json_object_set_new(o, "energy_error_pct",
                            td_json_real(err_pct(r->energy_uj, hr->energy_uj)));
    }
    json_object_set_new(o, "values_match", json_boolean(r->values_match));
    if (r->first_mismatch[0])
        json_object_set_new(o, "first_mismatch", json_string(r->first_mismatch));
    json_object_set_new(o, "sim_seconds", td_json_real(r->sim_seconds));
    json_object_set_new(o, "cycles_per_second", td_json_real(r->cycles_per_second));
    json_t *eb = json_object();
    json_object_set_new(eb, "mac_uj", td_json_real(r->energy.mac_uj));
    json_object_set_new(eb, "reg_uj", td_json_real(r->energy.reg_uj));
    json_object_set_new(eb, "l1_uj", td_json_real(r->energy.l1_uj));
    json_object_set_new(eb, "l2_uj", td_json_real(r->energy.l2_uj));
    json_object_set_new(eb, "dram_uj", td_json_real(r->energy.dram_uj));
    json_object_set_new(eb, "vector_uj", td_json_real(r->energy.vector_uj));
    json_object_set_new(eb, "ctrl_uj", td_json_real(r->energy.ctrl_uj));
    json_object_set_new(eb, "leak_uj", td_json_real(r->energy.leak_uj));
    json_object_set_new(o, "energy_breakdown", eb);
    json_object_set_new(o, "counters", counters_json(&r->counters));
    json_t *la = json_array();
    for (size_t i = 0; i < r->n_layers; i++) {
        const sim_layer *l = &r->layers[i];
        json_t *lo = json_object();
        json_object_set_new(lo, "name", json_string(l->name));
        json_object_set_new(lo, "op", json_string(l->op));
        json_object_set_new(lo, "unit", json_string(l->on_array ? "array" : "vector"));
        json_object_set_new(lo, "cycles", json_integer(l->cycles));
        json_object_set_new(lo, "compute_cycles", json_integer(l->compute_cycles));
        json_object_set_new(lo, "memory_cycles", json_integer(l->memory_cycles));
        json_object_set_new(lo, "vector_cycles", json_integer(l->vector_cycles));
        json_object_set_new(lo, "tiles", json_integer(l->tiles));
        json_object_set_new(lo, "utilization", td_json_real(l->utilization));
        json_object_set_new(lo, "energy_uj", td_json_real(l->energy_uj));
        json_object_set_new(lo, "input_onchip", json_boolean(l->input_onchip));
        json_object_set_new(lo, "output_onchip", json_boolean(l->output_onchip));
        json_object_set_new(lo, "values_match", json_boolean(l->values_match));
        if (hr && (size_t)l->node < hr->n_layers) {
            const hw_layer_result *h = &hr->layers[l->node];
            json_object_set_new(lo, "analytical_cycles", json_integer(h->cycles));
            json_object_set_new(lo, "analytical_energy_uj", td_json_real(h->energy_uj));
            json_object_set_new(lo, "error_pct",
                                td_json_real(err_pct((double)l->cycles, (double)h->cycles)));
        }
        json_object_set_new(lo, "counters", counters_json(&l->counters));
        json_array_append_new(la, lo);
    }
    json_object_set_new(o, "layers", la);
    return o;
}

void sim_result_print(const sim_result *r, const nn_graph *g, const hw_config *cfg,
                      const void *analytical, FILE *fp)
{
    const hw_result *hr = analytical;
    fprintf(fp,
            "network %s on %s (%dx%d %s, %d-bit, acc %d), core: %s; weights: %s; input: "
            "random (seeded)\n",
            g->name, cfg->name, cfg->rows, cfg->cols, hw_dataflow_name(cfg->dataflow), cfg->bits,
            cfg->acc_bits, sim_core_name(r->core),
            r->trained_weights ? "trained integer model" : "random (seeded), no trained model");
    fprintf(fp, "core buffers (lines): input %lld, weight %lld, accumulator %lld, output %lld\n",
            (long long)r->hw.x_depth, (long long)r->hw.w_depth, (long long)r->hw.acc_depth,
            (long long)r->hw.out_depth);
    fprintf(fp, "%-12s %-7s %10s %10s %10s %10s %6s %10s | %10s %10s %8s\n", "layer", "unit",
            "cycles", "compute", "mem_stall", "vector", "util", "energy_uJ", "model_cyc",
            "model_uJ", "err%");
    for (size_t i = 0; i < r->n_layers; i++) {
        const sim_layer *l = &r->layers[i];
        fprintf(fp, "%-12.12s %-7s %10lld %10lld %10lld %10lld %5.1f%% %10.4f", l->name,
                l->on_array ? "array" : "vector", (long long)l->cycles,
                (long long)l->compute_cycles, (long long)l->memory_cycles,
                (long long)l->vector_cycles, 100.0 * l->utilization, l->energy_uj);
        if (hr && (size_t)l->node < hr->n_layers) {
            const hw_layer_result *h = &hr->layers[l->node];
            fprintf(fp, " | %10lld %10.4f %+7.1f%%", (long long)h->cycles, h->energy_uj,
                    err_pct((double)l->cycles, (double)h->cycles));
        }
        fputc('\n', fp);
    }
    fprintf(fp, "total: %lld cycles, latency %.6g ms, energy %.6g uJ, power %.6g mW\n",
            (long long)r->cycles, r->latency_ms, r->energy_uj, r->power_mw);
    if (hr)
        fprintf(fp,
                "analytical (hw_model): %lld cycles, latency %.6g ms (error %+.1f%%), "
                "energy %.6g uJ (error %+.1f%%)\n",
                (long long)hr->cycles, hr->latency_ms, err_pct(r->latency_ms, hr->latency_ms),
                hr->energy_uj, err_pct(r->energy_uj, hr->energy_uj));
    fprintf(fp,
            "stalls: dram %lld, port %lld, writeback %lld, L2 bank %lld cycles; DRAM %lld B read, "
            "%lld B written\n",
            (long long)r->counters.stall_cycles[SIM_STALL_DRAM],
            (long long)r->counters.stall_cycles[SIM_STALL_PORT],
            (long long)r->counters.stall_cycles[SIM_STALL_WRITEBACK],
            (long long)r->counters.stall_cycles[SIM_STALL_BANK],
            (long long)r->counters.dram_read_bytes, (long long)r->counters.dram_write_bytes);
    fprintf(fp, "values: %s\n",
            r->values_match ? (r->trained_weights
                                   ? "every layer equals nn_qmodel_infer_ref (C integer reference)"
                                   : "every array layer equals the C integer reference")
                            : r->first_mismatch);
    fprintf(fp, "simulation speed: %.3g simulated cycles/s (%.3f s)\n", r->cycles_per_second,
            r->sim_seconds);
}
