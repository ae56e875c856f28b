/* The analytical model: maps a layer graph onto an accelerator and predicts cycles,
 * energy, power and area (formulas in docs/models.md). This is what the search calls for
 * every candidate: hw_evaluate does no allocation; the caller provides the per-layer
 * storage once with hw_result_init and reuses it. */
#ifndef HW_EVAL_H
#define HW_EVAL_H

#include "hw_config.h"
#include "hw_tech.h"
#include "nn_graph.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum hw_unit {
    HW_UNIT_NONE = 0, /* the network input */
    HW_UNIT_ARRAY,    /* conv / FC lowered to GEMM on the systolic array */
    HW_UNIT_VECTOR,   /* pooling, residual add on the vector unit */
    HW_UNIT_FUSED,    /* batch norm (folded), ReLU (the requantization clamp): no cost */
    HW_UNIT_COUNT
} hw_unit;

typedef enum hw_bound {
    HW_BOUND_NONE = 0,
    HW_BOUND_COMPUTE,
    HW_BOUND_MEMORY,
    HW_BOUND_COUNT
} hw_bound;

/* How a layer's operands move between DRAM and L2 (docs/models.md, "Loop order"). */
typedef enum hw_loop {
    HW_LOOP_NONE = 0,
    HW_LOOP_INPUT_ONCHIP,  /* input already in L2 (previous layer's output): weights stream */
    HW_LOOP_BOTH_FIT,      /* input and weights fit in L2 together: each read once */
    HW_LOOP_WEIGHTS_OUTER, /* weight blocks held in L2, input re-read once per block */
    HW_LOOP_INPUTS_OUTER,  /* input blocks held in L2, weights re-read once per block */
    HW_LOOP_COUNT
} hw_loop;

typedef struct hw_layer_result {
    int32_t node; /* index in the graph */
    hw_unit unit;
    hw_loop loop;
    bool in_onchip, out_onchip;
    /* GEMM view (array layers): M x K times K x N, `groups` times */
    int64_t gemm_m, gemm_k, gemm_n, groups;
    int64_t tile_m, tile_k, tile_n;    /* largest tile */
    int64_t folds_m, folds_k, folds_n; /* tiles along each dimension, per group */
    int64_t commands;                  /* tile commands issued */
    int64_t macs;
    int64_t dram_bytes;
    int64_t compute_cycles;  /* array commands (COMPUTE with its preload / drain) */
    int64_t vector_cycles;   /* array layers: the core's REQUANT commands; vector layers:
                                the vector unit */
    int64_t port_cycles;     /* array layers: the core's loads and stores over its one memory
                                port on an ideal memory, plus the program start */
    int64_t memory_cycles;   /* DRAM */
    int64_t prologue_cycles; /* first tile's load, not hidden by double buffering */
    int64_t cycles;
    hw_bound bound;
    double utilization; /* macs / (rows * cols * cycles) */
    double energy_uj;   /* dynamic + its share of leakage */
} hw_layer_result;

typedef struct hw_energy_breakdown {
    double mac_uj, reg_uj, l1_uj, l2_uj, dram_uj, vector_uj, ctrl_uj, leak_uj;
} hw_energy_breakdown;

typedef struct hw_area_breakdown {
    double pe_array_mm2, l1_mm2, l2_mm2, vector_mm2, ctrl_mm2;
} hw_area_breakdown;

typedef struct hw_result {
    double latency_ms, inferences_per_s, energy_uj, power_mw, area_mm2;
    double peak_tops, effective_tops, utilization, leakage_mw;
    int64_t macs, params, cycles, dram_bytes;
    hw_energy_breakdown energy;
    hw_area_breakdown area;
    hw_violations violations;
    const hw_tech_table *tech; /* the constant table the result was computed with */
    hw_layer_result *layers;   /* one per graph node, caller-owned storage */
    size_t n_layers, cap_layers;
} hw_result;

/* Energy per action (pJ, at the config's node) and the leakage density, for a config and a
 * constant table: the ONE derivation that hw_evaluate and the system model's energy
 * (sim_energy_compute) share (docs/models.md section 6). */
typedef struct hw_action_costs {
    double mac_pj;                                           /* b-bit multiply + a-bit add */
    double reg_bit_pj;                                       /* one PE register bit */
    double l1_input_bit_pj, l1_weight_bit_pj, l1_acc_bit_pj; /* per bit, at each capacity */
    double l2_bit_pj, dram_bit_pj;                           /* per bit */
    double requant_pj; /* one requantization: 32-bit multiply, a-bit round add, b-bit clamp */
    double vec_add_pj; /* a-bit add (pooling, residual add) */
    double vec_cmp_pj; /* b-bit compare (max-pool) */
    double cmd_pj;     /* one tile command */
    double leak_mw_per_mm2;
} hw_action_costs;

void hw_action_costs_compute(const hw_config *cfg, const hw_tech_table *t, hw_action_costs *out);

const char *hw_unit_name(hw_unit u);   /* "array", "vector", "fused", "none" */
const char *hw_bound_name(hw_bound b); /* "compute", "memory", "none" */
const char *hw_loop_name(hw_loop l);   /* "input-onchip", "both-fit", ... */

/* Storage for graphs of up to max_layers nodes. */
td_status hw_result_init(hw_result *r, size_t max_layers);
void hw_result_free(hw_result *r);

/* Evaluates (graph, config) with the selected constant table for the config's node
 * (hw_tech_for_node: calibrated by default, hw_calib.h). No allocation; fails only on
 * a graph larger than the result's storage or a config hw_config_validate would reject
 * for reasons other than violations (bad bit width, non-positive sizes). Infeasible
 * points are evaluated and carry their violations in r->violations. */
td_status hw_evaluate(const nn_graph *g, const hw_config *cfg, hw_result *r);
td_status hw_evaluate_with(const nn_graph *g, const hw_config *cfg, const hw_tech_table *tech,
                           hw_result *r);

/* Area of a config alone (mm^2), with its breakdown (may be NULL). */
double hw_area_mm2(const hw_config *cfg, const hw_tech_table *tech, hw_area_breakdown *out);

/* JSON object: the totals, violations, and a `layers` array (array and vector layers);
 * with mapping, each layer also carries its GEMM shape, tiles, folds and loop order. */
json_t *hw_result_to_json(const hw_result *r, const nn_graph *g, const hw_config *cfg,
                          bool mapping);
/* Where each reported number comes from, for a config evaluated with table t: "tech"
 * (calibrated / published), "table" (its origin), "energy.<part>" and "area.<part>" (origin
 * bits and the constants behind each breakdown entry), "origins" (the same as objects keyed
 * like energy_breakdown and area_breakdown), "clock_fmax", "cycles". hw_result_to_json
 * includes it as "provenance", with "constants" (every table entry: value at the table's node,
 * unit, origin, source). */
json_t *hw_provenance_to_json(const hw_config *cfg, const hw_tech_table *t);
json_t *hw_tech_constants_to_json(const hw_config *cfg, const hw_tech_table *t);

/* Human-readable summary; with mapping, the per-layer mapping table. */
void hw_result_print(const hw_result *r, const nn_graph *g, const hw_config *cfg, bool mapping,
                     FILE *fp);

#endif
