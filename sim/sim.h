/* sim: the cycle-accurate fidelity (DESIGN.md §1, docs/sim.md). A SystemC model of the whole
 * accelerator (DRAM channel, DMA, banked L2 global buffer, command sequencer with double
 * buffering) around the core, which is either the Verilated RTL (rtl_templates/sv/rtl_top.sv
 * built with `verilator --sc`) or a SystemC behavioural twin that produces the same outputs
 * and the same cycle counts. C API; C++ (SystemC) inside.
 *
 * SystemC elaborates a design once per process, so every run below forks a child process
 * that builds, runs and tears down its own model; the parent gets the results back. Calls
 * may therefore be repeated and run in parallel (tandem regress -j N). */
#ifndef SIM_H
#define SIM_H

#include "hw_config.h"
#include "nn_graph.h"
#include "nn_quant.h"
#include "rtl_program.h"
#include "td_status.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum sim_core_kind {
    SIM_CORE_TWIN = 0, /* SystemC behavioural twin of rtl_top */
    SIM_CORE_RTL,      /* Verilated rtl_top (only the parameter sets built in, see below) */
    SIM_CORE_COUNT
} sim_core_kind;

const char *sim_core_name(sim_core_kind k); /* "twin" / "rtl" */
/* "twin" / "rtl" -> kind; TD_ERR_USAGE naming the value otherwise. */
td_status sim_core_parse(const char *s, sim_core_kind *out);

/* Parameters of the system around the core that hw_config does not carry (one table, with
 * sources: sim_params_default() and docs/sim.md "Constants"). */
typedef struct sim_params {
    double dram_latency_ns; /* first-byte latency of a DRAM burst */
    int32_t burst_bytes;    /* DRAM burst (and L2 block) size */
    int32_t l2_banks;       /* L2 banks (interleaved by block) */
    int32_t l2_read_cycles; /* cycles from a core memory request to its response on a hit */
} sim_params;

sim_params sim_params_default(void);

/* The core's parameters for an accelerator config: array, bits, dataflow, and the L1
 * buffers in lines (input: l1_input_kib*8192/(rows*bits), weight: l1_weight_kib*8192/
 * (cols*bits), accumulator and output: l1_acc_kib*8192/(cols*acc_bits)), each capped to
 * [2, 65536]. Fails naming the field when the RTL cannot take the config. */
td_status sim_rtl_hw_from_config(const hw_config *cfg, rtl_hw *out);

/* Whether a Verilated core for these parameters is built into this binary; when not, the
 * message lists the ones that are. */
td_status sim_rtl_available(const rtl_hw *hw);
/* Names of the built-in Verilated parameter sets, "4x4-ws-b8-a32-x256-w256-acc64-o64"
 * style, NULL-terminated. */
const char *const *sim_rtl_variants(void);

/* ---------------------------------------------------------------- activity counters */

typedef enum sim_stall {
    SIM_STALL_DRAM = 0,  /* core memory request waiting for a DMA fetch from DRAM */
    SIM_STALL_PORT,      /* core busy moving words over its memory port (loads, stores) */
    SIM_STALL_WRITEBACK, /* end of layer waiting for the output to reach DRAM */
    SIM_STALL_BANK,      /* core read delayed by a DMA fill of the same L2 bank in that cycle */
    SIM_STALL_COUNT
} sim_stall;

const char *sim_stall_name(sim_stall s);

typedef struct sim_counters {
    int64_t macs;                  /* useful multiply-accumulates (operands in the tile) */
    int64_t pe_cycles;             /* array-enabled PE cycles (rows*cols per cycle) */
    int64_t xs_reads, xs_writes;   /* input scratchpad lines */
    int64_t ws_reads, ws_writes;   /* weight scratchpad lines */
    int64_t acc_reads, acc_writes; /* accumulator lines */
    int64_t out_reads, out_writes; /* output buffer lines */
    int64_t param_writes;          /* per-column parameter words */
    int64_t requants;              /* elements through the requantizer */
    int64_t vector_ops;            /* pooling/add/relu element operations (vector unit) */
    int64_t commands;              /* tile commands accepted by the core */
    int64_t l2_read_bytes, l2_write_bytes;
    int64_t dram_read_bytes, dram_write_bytes;
    int64_t stall_cycles[SIM_STALL_COUNT];
} sim_counters;

void sim_counters_add(sim_counters *dst, const sim_counters *src);

/* Energy of counted actions with hw_model's per-action table (hw_tech.h), pJ -> uJ. Only
 * the costs are shared with hw_model; the counts are the simulation's own. */
typedef struct sim_energy {
    double mac_uj, reg_uj, l1_uj, l2_uj, dram_uj, vector_uj, ctrl_uj, leak_uj, total_uj;
} sim_energy;

void sim_energy_compute(const sim_counters *c, const hw_config *cfg, const hw_tech_table *t,
                        int64_t cycles, sim_energy *out);

/* ---------------------------------------------------------------- network runs */

typedef struct sim_options {
    sim_core_kind core;
    const char *trace_path;  /* VCD of the core's ports and the system state, or NULL */
    uint64_t seed;           /* random quantized weights (no trained model) and input image */
    const nn_qmodel *qmodel; /* trained integer model (its bits must be the config's), or NULL
                                for random weights */
    sim_params params;
} sim_options;

void sim_options_default(sim_options *o);

typedef struct sim_layer {
    int32_t node; /* graph node (conv/fc/pool/add; fused layers are not listed) */
    char name[NN_NAME_MAX];
    char op[16];            /* "conv", "fc", "maxpool", ... */
    bool on_array;          /* conv/fc on the core; else the vector unit */
    int64_t cycles;         /* from the layer's first command to its output being placed */
    int64_t compute_cycles; /* array and requantization commands (core busy computing) */
    int64_t memory_cycles;  /* core waiting on memory: port transfers, DRAM stalls, write-back */
    int64_t vector_cycles;  /* vector-unit layers, and REQUANT commands */
    int64_t tiles;          /* COMPUTE commands */
    bool input_onchip, output_onchip;
    double utilization; /* macs / (rows*cols*cycles) */
    double energy_uj;
    sim_counters counters;
    bool values_match; /* output equals the C integer reference bit for bit */
    int64_t mismatches;
} sim_layer;

typedef struct sim_result {
    sim_core_kind core;
    rtl_hw hw;
    int64_t cycles;
    double latency_ms, energy_uj, power_mw;
    double sim_seconds; /* wall-clock time of the SystemC run */
    double cycles_per_second;
    sim_counters counters;
    sim_energy energy;
    bool values_match;
    bool trained_weights;     /* o->qmodel's weights (else random) */
    char first_mismatch[256]; /* "" when values match */
    sim_layer *layers;
    size_t n_layers;
} sim_result;

/* Simulates one inference of g on cfg. Conv and FC layers (with their batch norm and ReLU
 * fused) run on the core as compiled tile-command programs (rtl_program); pooling, residual
 * add and global average pooling run on the vector unit of the system model. Weights are
 * o->qmodel's (its layers in order; every layer's output is checked against
 * nn_qmodel_infer_ref) or random but deterministic (seeded; every array layer is checked
 * against nn_int_gemm_ref); the input image is random (seeded) quantized integers. */
td_status sim_run_net(const nn_graph *g, const hw_config *cfg, const sim_options *o, sim_result *r);
void sim_result_free(sim_result *r);

/* ---------------------------------------------------------------- program runs */

/* The outcome of one compiled program run on one core (regressions, twin-vs-RTL tests). */
typedef struct sim_prog_result {
    int64_t cycles;          /* from the end of reset to the last command's completion */
    int64_t cmd_cycles_hash; /* order-sensitive hash of every command's acceptance cycle */
    bool err_flag;           /* the core's error output */
    sim_counters counters;
    rtl_mem mem; /* external memory after the run (caller frees) */
} sim_prog_result;

/* Runs program p (its memory image as external memory, behind the DRAM/DMA/L2 model of
 * cfg, which may be NULL for an ideal one-cycle memory) on the given core. */
td_status sim_run_program(const rtl_program *p, const hw_config *cfg, sim_core_kind core,
                          const sim_params *params, sim_prog_result *r);
void sim_prog_result_free(sim_prog_result *r);

/* ---------------------------------------------------------------- regression suites */

/* A suite file (docs/sim.md, "Regression suites"):
 *   suite: NAME
 *   cores: [rtl, twin]              # optional, default both
 *   cases:
 *     - {name: N, hw: HW, gemm: {m: 9, k: 13, n: 7}, seed: 1}
 *     - {name: N, hw: HW, conv: {c_in: 3, h: 8, w: 8, c_out: 5, k: 3, stride: 1, pad: 1}}
 *     - {name: N, hw: HW, net: ref-cnn}
 * HW is a preset or an accelerator YAML path relative to the suite file. Every case runs on
 * each core against the C integer reference; with both cores, their cycle counts (total and
 * per command) must also agree. */
typedef enum sim_case_kind {
    SIM_CASE_GEMM = 0,
    SIM_CASE_CONV,
    SIM_CASE_NET,
    SIM_CASE_COUNT
} sim_case_kind;

typedef struct sim_case {
    char name[64];
    char where[300]; /* "suite.yaml:12:5" */
    sim_case_kind kind;
    hw_config cfg;
    int64_t m, k, n;                               /* gemm */
    int64_t c_in, h, w, c_out, ksize, stride, pad; /* conv */
    char net[256];                                 /* net: built-in name or YAML path */
    uint64_t seed;
} sim_case;

typedef struct sim_suite {
    char name[64];
    char path[256];
    bool cores[SIM_CORE_COUNT];
    sim_case *cases;
    size_t n_cases;
} sim_suite;

typedef struct sim_case_result {
    bool pass;
    char message[600]; /* first mismatch or error; "" on pass */
    double seconds;
    int64_t cycles[SIM_CORE_COUNT]; /* -1 when the core did not run */
} sim_case_result;

/* Errors name FILE:LINE:COL and the key. */
td_status sim_suite_load(const char *path, sim_suite *s);
void sim_suite_free(sim_suite *s);
/* Runs one case (forks its simulations). */
void sim_case_run(const sim_suite *s, size_t i, sim_case_result *r);
/* Runs every case with up to jobs in parallel (processes); results[i] per case. */
td_status sim_suite_run(const sim_suite *s, int jobs, sim_case_result *results);
/* One line per case and "N passed, N failed"; returns the number of failures. */
size_t sim_suite_report(const sim_suite *s, const sim_case_result *results, FILE *fp);
/* JUnit XML (one testsuite, one testcase per case, <failure> with the message). */
td_status sim_suite_write_junit(const sim_suite *s, const sim_case_result *results,
                                const char *path);

/* ---------------------------------------------------------------- output */

json_t *sim_result_to_json(const sim_result *r, const nn_graph *g, const hw_config *cfg,
                           const void *analytical /* const hw_result *, may be NULL */);
void sim_result_print(const sim_result *r, const nn_graph *g, const hw_config *cfg,
                      const void *analytical, FILE *fp);

#endif
