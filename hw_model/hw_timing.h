/* Systolic-array tile timing: the ONE definition of how many cycles the RTL core takes
 * for a tile command. hw_model's analytical model and the RTL/SystemC tests both call
 * these functions; a change in the RTL's pipeline is made here and nowhere else
 * (formulas and derivation in docs/models.md, "Array timing").
 *
 * Array: Rows x Cols PEs. Dataflows:
 *  - WS (weight-stationary): a K_t x N_t weight tile (K_t <= Rows, N_t <= Cols) is
 *    preloaded into the PEs, then M_t input vectors stream through; rows carry the
 *    reduction, columns the outputs.
 *  - OS (output-stationary): an M_t x N_t output tile (M_t <= Rows, N_t <= Cols) stays in
 *    the PEs while K_t reduction steps stream in from the left (inputs) and the top
 *    (weights); results are then drained.
 */
#ifndef HW_TIMING_H
#define HW_TIMING_H

#include <stdint.h>

typedef enum hw_dataflow { HW_DATAFLOW_WS = 0, HW_DATAFLOW_OS, HW_DATAFLOW_COUNT } hw_dataflow;

/* Fixed cycles the controller spends per tile command (decode and handshake). */
int64_t hw_timing_cmd_overhead_cycles(void);

/* Array commands cost what the TILE needs, not what the array is: partial sums leave at
 * row 0 after K_t (WS) rows, the drain after M_t (OS) rows, the column skew after N_t
 * columns (docs/rtl.md, "Partial tiles"). So a larger array never makes a tile slower.
 * A zero-sized phase still takes one cycle (never compiled). */

/* WS: cycles to preload a k_t-row weight tile (one line shifted in per cycle). */
int64_t hw_timing_ws_preload_cycles(int64_t k_t);
/* WS: cycles to stream m_t input vectors through a preloaded k_t x n_t tile, from the first
 * scratchpad read to the last output leaving row 0 (fill + steady state + drain). */
int64_t hw_timing_ws_stream_cycles(int64_t k_t, int64_t n_t, int64_t m_t);
/* OS: cycles to stream a reduction of length k_t into a stationary m_t x n_t output tile. */
int64_t hw_timing_os_stream_cycles(int64_t m_t, int64_t n_t, int64_t k_t);
/* OS: cycles to drain m_t rows of stationary outputs out of the array. */
int64_t hw_timing_os_drain_cycles(int64_t m_t);

/* ---- The rest of the core: memory port, requantization, program start, L1 depths ----
 * The RTL core runs ONE tile command at a time. Its loads and stores (LD_X, LD_W, LD_P,
 * STORE) go over a single memory port with one request outstanding, so they are serial with
 * the array, not hidden behind it (docs/models.md, "The core's other commands"). */

/* LD_X / LD_W / LD_P / STORE of `words` words on an ideal memory (every response the cycle
 * after its request): overhead + 2 per word (request, response; a store's first cycle reads
 * the output buffer). A slower memory adds stall cycles on top (the system model's DRAM). */
int64_t hw_timing_port_cycles(int64_t words);
/* REQUANT of m_t output lines (bias, scale, round, clamp, write to the output buffer). */
int64_t hw_timing_requant_cycles(int64_t m_t);
/* POOL (the max-pool fused after a conv's REQUANTs) producing `pooled` output pixels with
 * k x k windows: one output-buffer read per window element, then the last write. */
int64_t hw_timing_pool_cycles(int64_t pooled, int64_t k);
/* Residual ADD of n lines on the vector unit: both operands come from the weight scratchpad's
 * one read port (two reads per line), one cycle in the vector unit, then the output write:
 * overhead + 2 n + 2. ADD_CFG (the multipliers and shift) costs the overhead only. */
int64_t hw_timing_add_cycles(int64_t n);
/* Lines per ADD command: both operand chunks in the weight scratchpad, the result in the
 * output buffer. */
int64_t hw_timing_add_chunk_max(int64_t w_depth, int64_t out_depth);
/* Cycles from a program's start to its first command's acceptance (the sequencer's command
 * handshake): paid once per compiled program, i.e. once per layer. */
int64_t hw_timing_program_start_cycles(void);
/* Lines of an L1 buffer of `kib` KiB whose lines are `line_bits` wide, as the RTL core is
 * built from an accelerator config: floor to a power of two, within [2, 65536]. */
int64_t hw_timing_l1_lines(int64_t kib, int64_t line_bits);
/* The compiler's tile limits (rtl_program_emit_gemm; it uses the whole buffer, no ping-pong
 * in L1): WS rows per m-block, OS reduction steps per k-chunk. */
int64_t hw_timing_ws_m_tile_max(int64_t x_depth, int64_t acc_depth, int64_t out_depth);
int64_t hw_timing_os_k_chunk_max(int64_t x_depth, int64_t w_depth);

/* The RTL core as the compiler sees it. */
typedef struct hw_timing_core {
    int64_t rows, cols;
    hw_dataflow dataflow;
    int64_t x_depth, w_depth, acc_depth, out_depth; /* lines (hw_timing_l1_lines) */
} hw_timing_core;

/* One GEMM M x K x N as rtl_program_emit_gemm compiles it, on an ideal memory. */
typedef struct hw_timing_gemm {
    int64_t tile_m, tile_k, tile_n;    /* largest tile */
    int64_t folds_m, folds_k, folds_n; /* tiles along each dimension */
    int64_t computes;                  /* COMPUTE commands */
    int64_t compute_cycles;            /* COMPUTE (with its fused preload / drain) */
    int64_t port_cycles;               /* LD_P, LD_W, LD_X, STORE */
    int64_t ldp_cycles, store_cycles;  /* the LD_P and STORE parts of port_cycles */
    int64_t requant_cycles;            /* REQUANT */
} hw_timing_gemm;

/* Closed form of the compiled GEMM's command cycles (no allocation, O(1)):
 *  WS: per n-fold LD_P(N_t); per (n-fold, m-block) REQUANT(M_t) + STORE(M_t); per
 *      (n-fold, m-block, k-fold) LD_W(K_t) + LD_X(M_t) + COMPUTE(preload + stream M_t).
 *  OS: per n-fold LD_P(N_t); per (n-fold, m-tile) REQUANT(M_t) + STORE(M_t); per
 *      (n-fold, m-tile, k-chunk) LD_X(K_c) + LD_W(K_c) + COMPUTE(stream K_c [+ drain]). */
void hw_timing_gemm_cycles(const hw_timing_core *core, int64_t m, int64_t k, int64_t n,
                           hw_timing_gemm *out);

/* A residual add of two tensors of `lines` words each (channel tiles x pixels) as
 * rtl_program_add_net compiles it, on an ideal memory: one ADD_CFG, then per chunk of
 * hw_timing_add_chunk_max lines LD_W (A) + LD_W (B) + ADD + STORE. */
typedef struct hw_timing_add {
    int64_t chunks;        /* ADD commands */
    int64_t vector_cycles; /* ADD_CFG + ADD */
    int64_t port_cycles;   /* LD_W, STORE */
} hw_timing_add;

void hw_timing_add_layer_cycles(const hw_timing_core *core, int64_t lines, hw_timing_add *out);

#endif
