/* Calibration of the hw_model constant table from gate-level synthesis of our own RTL
 * (docs/calibration.md). `tandem calibrate` synthesizes the templates with Yosys against the
 * OSU 0.18 um library, times them and measures their power with OpenSTA (activities from a
 * Verilator run of random GEMM tiles), fits per-component models and writes a calibration
 * file (hw_model/calibration/osu018.json). This module reads that file, scales its 180 nm
 * figures to a target node with the Stillmaker & Baas (2017) factors, builds an
 * hw_tech_table from hw_tech_default() with the calibrated entries overridden, and checks a
 * design's clock against the PE's fmax at its bit width and node. */
#ifndef HW_CALIB_H
#define HW_CALIB_H

#include "hw_config.h"
#include "hw_tech.h"
#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>

#define HW_CALIB_FORMAT "tandem-calibration"
#define HW_CALIB_VERSION 1
#define HW_CALIB_BITS_COUNT 4       /* 4, 8, 16, 32 */
#define HW_CALIB_DEFAULT_NODE_NM 45 /* the report node */
#define HW_CALIB_DEFAULT_FILE "osu018.json"

/* Index of a bit width in the per-width arrays (-1 when not 4/8/16/32). */
int hw_calib_bits_index(int bits);

/* Per dataflow (HW_DATAFLOW_WS / HW_DATAFLOW_OS) and bit width, at the library's node. */
typedef struct hw_calib_pe {
    bool have_area, have_fmax, have_energy;
    int acc_bits;       /* accumulator width the PE was synthesized with */
    double area_um2;    /* one PE (Yosys, liberty cell areas) */
    double fmax_mhz;    /* the PE alone, inputs from flip-flops (OpenSTA) */
    double mac_pj;      /* energy per MAC of the 2x2 array, whole PE (OpenSTA power) */
    double mac_seq_pj;  /* of which flip-flops (clock pins included) */
    double mac_comb_pj; /* of which combinational logic */
} hw_calib_pe;

/* y = sum_i coef[i] * basis_i(x) fitted by least squares (GSL), with its residuals. */
typedef struct hw_calib_fit {
    bool have;
    size_t n_coef;
    double coef[4];
    double rms_rel; /* root mean square of the relative residuals */
} hw_calib_fit;

typedef struct hw_calib {
    char path[512];
    char library[64]; /* "osu018" */
    int lib_nm;       /* node of the library (180) */
    double lib_vdd;   /* its supply (1.8 V) */
    char tools[256];  /* tool versions, one line */
    hw_calib_pe pe[2][HW_CALIB_BITS_COUNT];
    /* array area at 8 bits: k0 + k1*R*C + k2*R + k3*C (um^2), per dataflow */
    hw_calib_fit array_area[2];
    /* vector unit area: v0 + v1*lanes (um^2) at 8 bits, AccBits 32 */
    hw_calib_fit vector_area;
    double ctrl_um2; /* controller, largest synthesized size (um^2) */
    /* table entries at the library node, NaN where the file gives none */
    double table[HW_CONST_COUNT];
    char table_source[HW_CONST_COUNT][96];
} hw_calib;

/* Reads a calibration file; errors name the file and the key at fault. */
td_status hw_calib_load(hw_calib *c, const char *path);

/* Stillmaker & Baas 2017 factors from node from_nm to node to_nm (each at its nominal
 * supply, docs/calibration.md): multiply an area, an energy or a delay at from_nm by the
 * factor to get it at to_nm. Nodes: 180, 130, 90, 65, 45, 32, 20, 16, 14, 10, 7 (45 nm and
 * below: high-performance models). Fails naming the node when it is not in the table. */
td_status hw_calib_scale(int from_nm, int to_nm, double *area, double *energy, double *delay);

/* Builds a table for node_nm: hw_tech_default() with every calibrated entry replaced by its
 * synthesized value scaled from the library node; ref_nm becomes node_nm, so hw_model applies
 * no further scaling to configs at that node. fmax_mhz stays 0 in the table: the clock check
 * depends on the bit width, see hw_calib_check_clock. Sources name the file and the scaling.
 * The table's strings point into c, which must outlive it. */
td_status hw_calib_table(const hw_calib *c, int node_nm, hw_tech_table *out);

/* fmax of the PE (MHz) for a dataflow and bit width at node_nm. */
td_status hw_calib_fmax_mhz(const hw_calib *c, int dataflow, int bits, int node_nm,
                            double *fmax_mhz);

/* Clock as a checked constraint: appends an HW_VIOL_FMAX violation to out when
 * cfg->clock_mhz exceeds the PE's fmax at cfg->bits, cfg->dataflow and cfg->tech_nm
 * (amount = clock - fmax MHz, required = clock, as hw_config_check does), and sets
 * *fmax_mhz (may be NULL). Returns an error only when the calibration has no fmax for
 * that bit width or the node is outside the scaling table. */
td_status hw_calib_check_clock(const hw_calib *c, const hw_config *cfg, hw_violations *out,
                               double *fmax_mhz);

/* Fitted array area (um^2 at the library node) of a rows x cols array at 8 bits. */
td_status hw_calib_array_area_um2(const hw_calib *c, int dataflow, int rows, int cols,
                                  double *area_um2);

/* Linear least squares y ~ X b (GSL multifit): X is n x p row-major, n >= p, p <= 4.
 * Fills fit->coef and fit->rms_rel (relative residuals, y must be nonzero) and, when resid
 * is not NULL, the n relative residuals. */
td_status hw_calib_fit_linear(const double *X, const double *y, size_t n, size_t p,
                              hw_calib_fit *fit, double *resid);

/* ------------------------------------------------------------------ technology selection
 * Which constant table hw_model evaluates with (config key hw.tech, `tandem eval --tech`):
 *  - calibrated (default): the calibration file's table, built at each node of the scaling
 *    table (hw_calib_table) with the PE fmax per dataflow and width, so that hw_evaluate's
 *    violations include the clock check;
 *  - published: hw_tech_default() (Horowitz 45 nm and others; no fmax, no clock check).
 * The calibration file is found without any synthesis tool: $TANDEM_CALIBRATION when set
 * (then the only candidate), else
 * <dir of the binary>/../share/tandem/calibration/osu018.json (an installed binary), else the
 * source tree's hw_model/calibration/osu018.json (its path is compiled in). */
typedef enum hw_tech_mode {
    HW_TECH_MODE_CALIBRATED = 0,
    HW_TECH_MODE_PUBLISHED,
    HW_TECH_MODE_COUNT
} hw_tech_mode;

const char *hw_tech_mode_name(hw_tech_mode m); /* "calibrated", "published" */
/* TD_ERR_CONFIG naming the two values when s is neither. */
td_status hw_tech_mode_parse(const char *s, hw_tech_mode *out);

/* The default calibration file (search order above); TD_ERR_IO listing where it looked. */
td_status hw_calib_find_default(char *out, size_t size);

/* Selects the table. calibrated with calib_path NULL or "": the default file; when it cannot
 * be found or read, hw_model falls back to the published table, logs one warning naming why
 * and returns TD_OK. calibrated with a path: that file, and a file that fails to load is an
 * error (the selection is then unchanged). Without a call, the first evaluation selects
 * calibrated with the default file. Not thread-safe: select before evaluating in threads. */
td_status hw_tech_select(hw_tech_mode mode, const char *calib_path);
hw_tech_mode hw_tech_selected_mode(void);
/* "calibrated table from PATH", or why the published table is used. */
const char *hw_tech_selection_note(void);
/* The loaded calibration in calibrated mode, else NULL. */
const hw_calib *hw_tech_selected_calib(void);

#endif
