/* The accelerator search space (config keys space.hw.*), its genome encoding and a random
 * sampler, for the search (cosearch) to use. A genome is a fixed-length vector of integer
 * genes, gene i in [0, hi[i]]; every genome decodes to a valid hw_config (repair, never
 * reject): rows x cols is pulled into the space's MAC range. */
#ifndef HW_SPACE_H
#define HW_SPACE_H

#include "hw_calib.h"
#include "hw_config.h"
#include "td_config.h"
#include "td_rng.h"

#include <stddef.h>
#include <stdint.h>

extern const td_cfg_key hw_config_keys[];

#define HW_SPACE_LIST_MAX 32

typedef struct hw_space {
    int64_t macs_min, macs_max;
    int32_t dims[HW_SPACE_LIST_MAX]; /* allowed rows and cols, ascending */
    size_t n_dims;
    hw_dataflow dataflows[HW_DATAFLOW_COUNT];
    size_t n_dataflows;
    int32_t bits[4];
    size_t n_bits;
    int32_t acc_bits[HW_SPACE_LIST_MAX];
    size_t n_acc_bits;
    /* grids the genes index (derived from the [min, max] ranges) */
    int32_t l1_kib[HW_SPACE_LIST_MAX]; /* powers of two in range */
    size_t n_l1;
    int32_t l2_kib[HW_SPACE_LIST_MAX];
    size_t n_l2;
    double dram_gbps[HW_SPACE_LIST_MAX]; /* log-spaced */
    size_t n_dram;
    double clock_mhz[HW_SPACE_LIST_MAX]; /* evenly spaced */
    size_t n_clock;
    int32_t lanes[HW_SPACE_LIST_MAX]; /* powers of two in range */
    size_t n_lanes;
    int32_t tech_nm;
    hw_tech_mode tech;     /* hw.tech */
    char calibration[512]; /* hw.calibration ("" = the default file) */
} hw_space;

/* Reads space.hw.* from a config built with hw_config_keys; errors name the key and where
 * its value came from. Also installs the constant table hw.tech selects (hw_tech_select with
 * hw.calibration), so that the search evaluates with it. */
td_status hw_space_from_config(hw_space *s, const td_config *cfg);
/* The default space (the defaults of hw_config_keys). */
td_status hw_space_default(hw_space *s);

typedef enum hw_gene {
    HW_GENE_ROWS = 0, /* index into dims */
    HW_GENE_COLS,     /* index into dims */
    HW_GENE_DATAFLOW,
    HW_GENE_BITS,
    HW_GENE_ACC_BITS,
    HW_GENE_L1_INPUT,
    HW_GENE_L1_WEIGHT,
    HW_GENE_L1_ACC,
    HW_GENE_L2,
    HW_GENE_DRAM,
    HW_GENE_CLOCK,
    HW_GENE_LANES,
    HW_GENE_COUNT
} hw_gene;

const char *hw_gene_name(hw_gene g); /* "rows", "cols", ... */
/* Largest value of each gene (genes run 0..hi[i]). */
void hw_genome_ranges(const hw_space *s, int32_t hi[HW_GENE_COUNT]);
/* Decodes (genes clamped into range; MACs repaired into [macs_min, macs_max]). */
void hw_genome_decode(const hw_space *s, const int32_t genes[HW_GENE_COUNT], hw_config *out);
/* The genome whose decoding is nearest to cfg (exact when cfg lies on the grids). */
void hw_genome_encode(const hw_space *s, const hw_config *cfg, int32_t genes[HW_GENE_COUNT]);
/* A uniformly random genome and its decoded config (genes may be NULL). */
void hw_space_sample(const hw_space *s, td_rng *rng, hw_config *out, int32_t genes[HW_GENE_COUNT]);

#endif
