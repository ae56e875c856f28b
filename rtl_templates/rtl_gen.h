/* The bundle generator (docs/rtl.md, "Bundle"): writes a self-contained directory with the
 * RTL templates, a generated top with the design's parameter overrides, filelist.f, a
 * Verilator C++ testbench, the network's program, memory image, test images and expected
 * outputs, a Yosys script, SDC constraints, a README and a Makefile (`make` builds the
 * testbench with Verilator, `make test` runs it and exits non-zero on any mismatch). */
#ifndef RTL_GEN_H
#define RTL_GEN_H

#include "rtl_net.h"
#include "rtl_program.h"

#include <stddef.h>

typedef struct rtl_embedded_file {
    const char *name; /* path inside the bundle, e.g. "rtl/rtl_top.sv" */
    const unsigned char *data;
    size_t size;
} rtl_embedded_file;

extern const rtl_embedded_file rtl_embedded_files[];
extern const size_t rtl_embedded_count;

typedef struct rtl_bundle_opts {
    double clock_mhz;      /* SDC clock; > 0 */
    int32_t n_images;      /* test images in the testbench, [1, 64] */
    const int32_t *images; /* n_images x (C*H*W) quantized input values, CHW; NULL: random */
    uint64_t seed;         /* for random images */
    const char *liberty;   /* liberty file for the Yosys script's cell mapping; NULL: generic */
} rtl_bundle_opts;

#define RTL_BUNDLE_MAX_FILES 48

typedef struct rtl_bundle_info {
    char files[RTL_BUNDLE_MAX_FILES][64]; /* paths written, relative to the bundle directory */
    int32_t n_files;
    int32_t n_layers;
    int64_t n_commands;
    int64_t compute_cycles; /* per image: sum of rtl_cmd_cycles (hw_timing) over the program */
    int64_t mem_words;      /* external memory image, words of mem_bits */
    int32_t mem_bits;
    int64_t macs; /* per image, from the layer graph */
} rtl_bundle_info;

/* Compiles g with its quantized weights (per node, rtl_net.h) for the core hw and writes the
 * bundle into out_dir (created if missing; existing files are overwritten). The expected
 * outputs are rtl_net_reference's. info may be NULL. Errors name the file or layer. */
td_status rtl_gen_bundle(const char *out_dir, const rtl_hw *hw, const nn_graph *g,
                         const rtl_node_weights *weights, const rtl_bundle_opts *opts,
                         rtl_bundle_info *info);

#endif
