/* Tile commands for the RTL core (docs/formats.md, "Tile commands") and the compiler that
 * turns integer GEMMs (and, through rtl_net.h, networks) into a command list plus the
 * external-memory image the core's DMA port reads. The command list is shared by the three
 * fidelities: the RTL executes it, the SystemC model consumes it, and hw_model's timing
 * functions (hw_timing.h) give each command's cycles. */
#ifndef RTL_PROGRAM_H
#define RTL_PROGRAM_H

#include "hw_config.h"
#include "hw_timing.h"
#include "nn_intmath.h"
#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The core's parameters (the RTL top's parameters, rtl_top.sv). Depths are in lines. */
typedef struct rtl_hw {
    int32_t rows, cols;   /* array size, [1, 64] each */
    int32_t bits;         /* operand width: 4, 8, 16 or 32 */
    int32_t acc_bits;     /* accumulator width, [2*bits, 96] */
    hw_dataflow dataflow; /* WS or OS */
    int64_t x_depth;      /* input scratchpad lines (rows elements each), [2, 65536] */
    int64_t w_depth;      /* weight scratchpad lines (cols elements each), [2, 65536] */
    int64_t acc_depth;    /* accumulator buffer lines (cols accumulators each) */
    int64_t out_depth;    /* output buffer lines (cols elements each) */
} rtl_hw;

/* Checks every field against the RTL's legal ranges; the message names the field. */
td_status rtl_hw_check(const rtl_hw *hw);
/* The core an accelerator config builds (as `tandem rtl` and the system model build it): the
 * array, bit widths and dataflow as given; each L1 buffer's lines hw_timing_l1_lines(KiB, line
 * width) (input lines hold rows elements, weight lines cols, accumulator lines cols
 * accumulators); the output buffer as deep as the accumulator buffer. Then rtl_hw_check. */
td_status rtl_hw_from_config(const hw_config *cfg, rtl_hw *out);
/* Width of one external memory word: max(max(rows, cols) * bits, acc_bits + 39). */
int32_t rtl_hw_mem_bits(const rtl_hw *hw);

typedef enum rtl_opcode {
    RTL_OP_NOP = 0,
    RTL_OP_LD_X,    /* n lines ext[x + i] -> input scratchpad[a + i] */
    RTL_OP_LD_W,    /* n lines ext[x + i] -> weight scratchpad[a + i] */
    RTL_OP_LD_P,    /* n parameter words ext[x + i] -> column parameters[a + i] */
    RTL_OP_PRELOAD, /* WS: weight lines [a, a + n) shifted into rows [0, n) (docs/formats.md) */
    RTL_OP_COMPUTE, /* stream through the array (fields depend on the dataflow) */
    RTL_OP_DRAIN,   /* OS: array rows [0, n) -> accumulator lines [b, b + n), columns < t */
    RTL_OP_REQUANT, /* n accumulator lines [a..) -> vector unit -> output lines [b..) */
    RTL_OP_POOL,    /* max-pool over output lines (see docs/formats.md) */
    RTL_OP_STORE,   /* n output lines [a..) -> ext[x + i] */
    RTL_OP_HOST,    /* never sent to the core: host/DMA step x of the program's host table */
    RTL_OP_ADD_CFG, /* residual add parameters: Ma = x, Mb = b << 16 | a, shift S = n */
    RTL_OP_ADD,     /* n lines: weight lines [a..) (A) and [b..) (B) -> output lines [t..) */
    RTL_OP_COUNT
} rtl_opcode;

/* Command flags (4 bits). */
enum {
    RTL_FLAG_ACC = 1,   /* accumulate into the accumulator buffer instead of overwriting */
    RTL_FLAG_CLEAR = 2, /* OS COMPUTE: zero the array's accumulators first */
    RTL_FLAG_RELU = 4,  /* REQUANT, ADD: lower clamp bound 0 instead of -2^(bits-1) */
    RTL_FLAG_FUSE = 8   /* WS COMPUTE: preload weights first; OS COMPUTE: drain afterwards */
};

/* One 128-bit command: op[3:0] flags[7:4] a[23:8] b[39:24] n[55:40] t[71:56] x[103:72],
 * bits [127:104] zero. */
typedef struct rtl_cmd {
    uint8_t op, flags;
    uint16_t a, b, n, t;
    uint32_t x;
} rtl_cmd;

#define RTL_CMD_WORDS 4

const char *rtl_opcode_name(int op);
void rtl_cmd_pack(const rtl_cmd *c, uint32_t w[RTL_CMD_WORDS]);
/* Fails (TD_ERR_FORMAT) on an unknown opcode or nonzero reserved bits. */
td_status rtl_cmd_unpack(const uint32_t w[RTL_CMD_WORDS], rtl_cmd *c);
/* Builders for the array commands (fields per dataflow, docs/formats.md). */
rtl_cmd rtl_cmd_compute_ws(uint16_t x_line, uint16_t acc_line, uint16_t m_t, uint16_t n_t,
                           bool accumulate, bool preload, uint16_t w_line, uint16_t k_t);
rtl_cmd rtl_cmd_compute_os(uint16_t x_line, uint16_t w_line, uint16_t k_t, uint16_t n_t, bool clear,
                           bool drain, uint16_t acc_line, uint16_t m_t, bool accumulate);
/* Residual add on the vector unit (docs/formats.md): ADD_CFG sets the per-tensor multipliers
 * and the shared shift; ADD then computes, per lane, for i in [0, n):
 *   out[t + i] = clamp((W[a + i] * Ma + W[b + i] * Mb + 2^(S-1)) >> S, lo, hi)
 * with both operands read from the weight scratchpad (lo = 0 with relu, else -2^(bits-1);
 * hi = min(hi, 2^(bits-1) - 1)), nn_requantize_add's contract. */
rtl_cmd rtl_cmd_add_cfg(uint32_t mult_a, uint32_t mult_b, int32_t shift);
rtl_cmd rtl_cmd_add(uint16_t a_line, uint16_t b_line, uint16_t out_line, uint16_t n, bool relu,
                    int64_t hi);

/* Cycles from the command's acceptance to the next command's acceptance, when the next one
 * is waiting (docs/rtl.md, "Timing"); array commands use hw_timing.h. -1 for commands that
 * use the memory port (their time depends on the DMA). */
int64_t rtl_cmd_cycles(const rtl_hw *hw, const rtl_cmd *c);

/* The external memory image: words of rtl_hw_mem_bits() bits, as 32-bit limbs, least
 * significant first. Element i of a line occupies bits [i*bits, (i+1)*bits). A parameter
 * word holds bias [0, acc_bits), multiplier [acc_bits, acc_bits+32), shift [acc_bits+32,
 * acc_bits+39). */
typedef struct rtl_mem {
    int32_t limbs;
    int64_t n_words, cap;
    uint32_t *data;
} rtl_mem;

td_status rtl_mem_init(rtl_mem *m, int32_t word_bits);
void rtl_mem_free(rtl_mem *m);
td_status rtl_mem_copy(rtl_mem *dst, const rtl_mem *src);
/* Appends n zeroed words; *base gets the first one's address. */
td_status rtl_mem_alloc(rtl_mem *m, int64_t n, int64_t *base);
/* Writes the low `width` bits of v (sign-extended beyond 64 bits) at bit lsb of word addr. */
void rtl_mem_set(rtl_mem *m, int64_t addr, int32_t lsb, int32_t width, int64_t v);
/* Reads `width` (<= 64) bits at bit lsb of word addr, sign-extended when is_signed. */
int64_t rtl_mem_get(const rtl_mem *m, int64_t addr, int32_t lsb, int32_t width, bool is_signed);

/* Host/DMA steps between core commands (the core has no im2col): an RTL_OP_HOST command
 * names one by its index. They move data only (layout), never compute. Tensors are in the
 * line layout (channel tile j = ch / cols, pixel p: word addr + j*h*w + p, lane ch % cols).
 *  - IM2COL reads channels [c0, c0 + c) of the h x w tensor at src and writes the GEMM input of
 *    a k_h x k_w convolution (stride, pad; fc: k_h = h, k_w = w) in the core's X layout for
 *    the program's dataflow at dst (docs/formats.md). c0 > 0 selects one group of a grouped
 *    convolution.
 *  - SCATTER copies the c-channel h x w tensor at src into channels [c0, c0 + c) of the
 *    h x w tensor at dst (one group's output into the layer's output).
 *  - TRANSPOSE writes the c x (h*w) tensor at src as an (h*w)-channel tensor of c pixels
 *    (h = c, w = 1) at dst: out[p][ch] = in[ch][p] (global average pool, docs/rtl.md). */
typedef enum rtl_host_kind {
    RTL_HOST_IM2COL = 0,
    RTL_HOST_SCATTER,
    RTL_HOST_TRANSPOSE,
    RTL_HOST_KIND_COUNT
} rtl_host_kind;

const char *rtl_host_kind_name(int kind);

typedef struct rtl_host_op {
    rtl_host_kind kind;
    int64_t src, dst;
    int64_t c, h, w;
    int32_t k_h, k_w, stride, pad;
    int64_t c0;
    /* IM2COL on an OS core: the X row ranges (rtl_x_layout) are p->x_ranges[2 xr_first ..],
     * xr_n of them; xr_n = 0 means the one range [0, M) */
    int64_t xr_first, xr_n;
} rtl_host_op;

typedef struct rtl_program {
    rtl_hw hw;
    rtl_cmd *cmds;
    size_t n_cmds, cap;
    rtl_mem mem; /* the image the host places in external memory before the run */
    rtl_host_op *host;
    size_t n_host, host_cap;
    int64_t *x_ranges; /* lo, hi pairs of the IM2COL steps' X row ranges */
    int64_t n_x_ranges, x_ranges_cap;
} rtl_program;

td_status rtl_program_init(rtl_program *p, const rtl_hw *hw);
void rtl_program_free(rtl_program *p);
td_status rtl_program_emit(rtl_program *p, rtl_cmd c);
/* Sum of rtl_cmd_cycles over the commands that have one (the compute-side cycles). */
int64_t rtl_program_compute_cycles(const rtl_program *p);

/* One integer GEMM with requantization, the contract of nn_int_gemm_ref:
 *   Y[m][n] = clamp(requant_n(bias[n] + sum_k X[m][k] * W[k][n]), lo, hi)
 * lo must be 0 or -2^(bits-1); hi in [0, 2^(bits-1) - 1]. bias may be NULL. */
typedef struct rtl_gemm {
    int64_t m, k, n;
    const int32_t *x;     /* m x k, row-major, bits-bit values */
    const int32_t *w;     /* k x n, row-major, bits-bit values */
    const int64_t *bias;  /* n, or NULL */
    const nn_requant *rq; /* n */
    int64_t lo, hi;
    /* optional max-pool (pad 0) fused after the REQUANTs on the map_h x map_w output
     * (map_h * map_w = m); pool_k = 0: none */
    int32_t pool_k, pool_s;
    int64_t map_h, map_w;
} rtl_gemm;

/* Where a compiled GEMM's result lands: output tile j (columns [j*cols, ...)) row r is the
 * word y_addr + j*m + r (m: the pooled pixels when a max-pool is fused). */
typedef struct rtl_gemm_out {
    int64_t y_addr, m, n;
    int64_t x_addr, x_lines; /* the X image (rtl_x_layout) */
} rtl_gemm_out;

/* The checks rtl_program_add_gemm makes (x may be NULL: not checked). */
td_status rtl_gemm_check(const rtl_hw *hw, const rtl_gemm *g);
/* Places X, W, the parameters and room for Y in p->mem and appends the commands that compute
 * Y (tiling by the array size and the buffer depths; docs/formats.md). Fails with a message
 * when a value does not fit its bit width, the accumulator is too narrow for k
 * (nn_acc_bits_needed), or the clamp bounds are not encodable. */
td_status rtl_program_add_gemm(rtl_program *p, const rtl_gemm *g, rtl_gemm_out *out);
/* Compiler internals shared with rtl_net.c: one GEMM whose X is already laid out at x_addr
 * (rtl_x_layout), with an optional max-pool (pool_k > 0, pad 0) fused on the
 * requantized map_h x map_w output; the result (pooled when fused) is stored in the line layout
 * at y_addr (tile j, pixel p: y_addr + j*pixels + p). */
typedef struct rtl_gemm_plan {
    int64_t m, k, n;
    int64_t x_addr, w_addr, p_addr, y_addr;
    int64_t lo, hi;
    int32_t pool_k, pool_s;
    int64_t map_h, map_w;
} rtl_gemm_plan;

td_status rtl_program_emit_gemm(rtl_program *p, const rtl_gemm_plan *plan);

/* The core's X layout of a GEMM (docs/formats.md, "X layout"), i.e. where the host (im2col)
 * puts X[m][k] for the compiled program to load:
 *  - WS: line (kt, m) = X[m][kt R ..] at kt M + m, lane k % R.
 *  - OS: per row range [lo, hi), ceil((hi - lo) / R) tiles of R rows starting at lo, K lines
 *    each: line off + t K + k holds X[lo + t R + r][k] in lane r. The ranges are the bands or
 *    strip segments of a fused max-pool in the order the compiler computes them (rows on band
 *    edges belong to both), else the one range [0, M): tiles start where the rows the
 *    compiler needs start, so no tile computes rows outside its range. */
typedef struct rtl_x_layout {
    hw_dataflow dataflow;
    int64_t m, k, rows;
    int64_t *range; /* OS: lo, hi pairs */
    int64_t n_ranges, cap;
    int64_t lines; /* of the whole X image */
} rtl_x_layout;

/* The layout rtl_program_emit_gemm(plan) expects (the addresses in plan are not used). */
td_status rtl_x_layout_init(rtl_x_layout *xl, const rtl_hw *hw, const rtl_gemm_plan *plan);
/* The layout from recorded ranges (an IM2COL step's); n_ranges = 0: the one range [0, m). */
td_status rtl_x_layout_from_ranges(rtl_x_layout *xl, const rtl_hw *hw, int64_t m, int64_t k,
                                   const int64_t *range, int64_t n_ranges);
void rtl_x_layout_free(rtl_x_layout *xl);
/* Calls put for every copy of every element X[m][k]: its line (relative to the image's first)
 * and lane. */
typedef void (*rtl_x_put_fn)(void *ctx, int64_t m, int64_t k, int64_t line, int32_t lane);
void rtl_x_layout_place(const rtl_x_layout *xl, rtl_x_put_fn put, void *ctx);
/* Records xl's ranges for an IM2COL step (op->xr_first, op->xr_n). */
td_status rtl_program_add_x_ranges(rtl_program *p, const rtl_x_layout *xl, rtl_host_op *op);
/* A fused max-pool whose map rows do not fit the output buffer even for one pooled row of the
 * whole map width runs in column strips (docs/rtl.md): strips of `cols` pooled columns (the
 * most with pool_k map rows of the strip's (cols-1)*pool_s + pool_k pixels and its cols pooled
 * pixels in out_depth lines), each in bands of `rows` pooled rows (the most that fit, >= 1).
 * False when not even a 1-pixel strip fits (pool_k * pool_k + 1 > out_depth). hw_model's
 * cycle count of the schedule must mirror this plan (hw_eval.c). */
typedef struct rtl_pool_strips {
    int64_t ph, pw; /* pooled map */
    int64_t cols;   /* pooled columns per strip (the last strip may have fewer) */
    int64_t rows;   /* pooled rows per band (the last band may have fewer) */
} rtl_pool_strips;

bool rtl_pool_strips_plan(int64_t pool_k, int64_t pool_s, int64_t map_h, int64_t map_w,
                          int64_t out_depth, rtl_pool_strips *ps);
/* Places W (k x n, or n x k when w_is_nk) and the per-column parameters in p->mem. */
td_status rtl_program_place_weights(rtl_program *p, int64_t k, int64_t n, const int32_t *w,
                                    bool w_is_nk, const int64_t *bias, const nn_requant *rq,
                                    int64_t *w_addr, int64_t *p_addr);

/* Reads Y (m x n, row-major) back from a memory image after the run. */
void rtl_gemm_read(const rtl_program *p, const rtl_mem *mem, const rtl_gemm_out *out, int32_t *y);

/* Appends a host step and the RTL_OP_HOST command that runs it. */
td_status rtl_program_emit_host(rtl_program *p, const rtl_host_op *op);
/* Runs one host step on a memory image (the testbenches call it when they meet RTL_OP_HOST). */
td_status rtl_host_op_execute(const rtl_program *p, const rtl_host_op *op, rtl_mem *mem);

/* Executes a program on a C model of the core's memories and datapath (no timing): the
 * golden model the RTL testbench and the SystemC model can be compared with. mem is the
 * external memory, updated in place. */
td_status rtl_program_execute(const rtl_program *p, rtl_mem *mem);

#endif
