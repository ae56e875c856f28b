/* Accelerator configuration (DESIGN.md §3): a rows x cols systolic array with L1
 * scratchpads, an L2 global buffer, a DRAM channel and a vector unit. Loaded from YAML
 * (keys in hw_accel_keys, docs/formats.md "Accelerator config (YAML)"), from a built-in
 * preset, or decoded from a genome (hw_space.h). */
#ifndef HW_CONFIG_H
#define HW_CONFIG_H

#include "hw_tech.h"
#include "hw_timing.h"
#include "td_config.h"
#include "td_status.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#define HW_NAME_MAX 48

typedef struct hw_config {
    char name[HW_NAME_MAX];
    int32_t rows, cols;    /* systolic array (MACs = rows * cols) */
    hw_dataflow dataflow;  /* WS or OS */
    int32_t bits;          /* operand width: 4, 8, 16 or 32 */
    int32_t acc_bits;      /* accumulator width */
    int32_t l1_input_kib;  /* L1 input scratchpad */
    int32_t l1_weight_kib; /* L1 weight scratchpad */
    int32_t l1_acc_kib;    /* L1 accumulator buffer */
    int32_t l2_kib;        /* L2 global buffer */
    double dram_gbps;      /* DRAM bandwidth, GB/s (1e9 bytes/s) */
    double clock_mhz;      /* core clock */
    int32_t vector_lanes;  /* vector-unit lanes (elements per cycle) */
    int32_t tech_nm;       /* technology node */
} hw_config;

/* Schema of the accelerator YAML file (flat keys: rows, cols, dataflow, ...); the
 * defaults are the gemmini-16x16-int8 preset. */
extern const td_cfg_key hw_accel_keys[];

const char *hw_dataflow_name(hw_dataflow d); /* "ws" / "os" */

/* Built-in presets by name; TD_ERR_CONFIG listing the names when unknown. */
td_status hw_preset(const char *name, hw_config *out);
const char *const *hw_preset_names(void); /* NULL-terminated */

/* Loads an accelerator YAML file (keys not given take the gemmini-16x16-int8 values) and
 * validates it; errors read "FILE:LINE:COL: key 'bits': ...". */
td_status hw_config_load_file(const char *path, hw_config *out);
/* Same for YAML text (origin names it in messages). */
td_status hw_config_load_string(const char *yaml, const char *origin, hw_config *out);

/* For --hw: a preset name, else a YAML file path. */
td_status hw_config_resolve(const char *arg, hw_config *out);

/* Hard checks of one config on its own (network-independent): bit width in {4,8,16,32},
 * positive sizes, and the checks of hw_config_check with the smallest reduction (K = 1),
 * except the clock: a clock above fmax is a violation, never an error.
 * origin_cfg (may be NULL) is the td_config the values came from: errors then name the
 * key's "file:line:col". */
td_status hw_config_validate(const hw_config *cfg, const td_config *origin_cfg);

/* Stable identity: hash of every field except the name. */
uint64_t hw_config_hash(const hw_config *cfg);

/* Writes the config as accelerator YAML that loads back to the same values. */
td_status hw_config_write(const hw_config *cfg, FILE *fp);
/* JSON object with every field. */
json_t *hw_config_to_json(const hw_config *cfg);

/* ------------------------------------------------------------------ violations */

/* Infeasibility is not an error during search: it is a list of named violations with
 * amounts (cosearch's constraint-domination sums the relative amounts). */
typedef enum hw_violation_kind {
    HW_VIOL_ACC_BITS = 0, /* accumulator narrower than nn_acc_bits_needed(largest K) */
    HW_VIOL_L1_INPUT,     /* L1 input buffer too small for one input tile */
    HW_VIOL_L1_WEIGHT,    /* L1 weight buffer too small for one weight tile (WS: R lines) */
    HW_VIOL_L1_ACC,       /* accumulator buffer too small for one output tile (OS: R lines) */
    HW_VIOL_FMAX,         /* clock above the PE's fmax at its width and node (calibrated) */
    HW_VIOL_COUNT
} hw_violation_kind;

typedef struct hw_violation {
    hw_violation_kind kind;
    double amount;   /* shortfall, in hw_violation_unit(kind) */
    double required; /* what the design point needs, same unit */
    char layer[48];  /* the layer that sets the need ("" when none) */
} hw_violation;

typedef struct hw_violations {
    hw_violation v[HW_VIOL_COUNT];
    size_t n;
    double total; /* sum of amount / required: 0 when feasible */
} hw_violations;

const char *hw_violation_name(hw_violation_kind k); /* "acc_bits", "l1_input_kib", ... */
const char *hw_violation_unit(hw_violation_kind k); /* "bits", "KiB", "MHz" */
/* "acc_bits: needs 36 bits for layer 'c3.conv' (K = 576), has 32 (short by 4 bits)" */
void hw_violation_format(const hw_violation *v, const hw_config *cfg, char *buf, size_t size);

/* Appends the violations of cfg for a network whose largest reduction is max_k (set by
 * layer max_k_layer, may be NULL). */
void hw_config_check(const hw_config *cfg, const hw_tech_table *t, int64_t max_k,
                     const char *max_k_layer, hw_violations *out);

/* The max-pool the RTL compiler fuses after layer `layer` (pool_k x pool_k windows) needs at
 * least one window and its pooled pixel in the output buffer (as deep as the accumulator
 * buffer): a column strip of one pooled pixel (rtl_pool_strips_plan), pool_k^2 + 1 lines.
 * Raises the l1_acc_kib violation to that need when the buffer is shallower (the core cannot
 * max-pool from external memory); hw_violation_format then names the layer. */
void hw_config_check_pool(const hw_config *cfg, int64_t pool_k, const char *layer,
                          hw_violations *out);

/* Derived sizes. */
static inline int64_t hw_config_macs(const hw_config *c)
{
    return (int64_t)c->rows * c->cols;
}

#endif
