#include "hw_timing.h"

/* See docs/models.md, "Array timing", for the derivation of each expression. The values are
 * what the RTL core (rtl_templates/sv) does, measured cycle for cycle by the rtl tests
 * (docs/rtl.md, "Timing"): a WS COMPUTE with preload costs overhead + preload + stream; an
 * OS COMPUTE costs overhead + stream, plus drain when it drains (one command each). */

int64_t hw_timing_cmd_overhead_cycles(void)
{
    return 1;
}

static inline int64_t tmax(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

int64_t hw_timing_ws_preload_cycles(int64_t k_t)
{
    return k_t + 1; /* one scratchpad read cycle, then one weight line shifted in per cycle:
                       after k_t shifts line r sits in row r (rows >= k_t are never fed) */
}

int64_t hw_timing_ws_stream_cycles(int64_t k_t, int64_t n_t, int64_t m_t)
{
    /* one scratchpad read cycle, skewed entry over k_t rows (partial sums enter at row
     * k_t - 1 and leave at row 0), the column skew out over n_t columns, and row 0's result
     * register before the accumulator write: the last output at m_t - 1 + k_t + n_t */
    return tmax(1, m_t + k_t + n_t);
}

int64_t hw_timing_os_stream_cycles(int64_t m_t, int64_t n_t, int64_t k_t)
{
    /* one scratchpad read cycle, then the last operand pair reaches PE(m_t - 1, n_t - 1) */
    return tmax(1, k_t + m_t + n_t - 1);
}

int64_t hw_timing_os_drain_cycles(int64_t m_t)
{
    return tmax(1, m_t); /* one tile row shifted out of row 0 per cycle */
}

/* ---- memory port, requantization, program start, L1 depths (docs/models.md, "The core's
 * other commands"; measured by the SystemC model on the Verilated RTL, docs/sim.md §5) ---- */

int64_t hw_timing_port_cycles(int64_t words)
{
    /* the command's acceptance cycle, then request + response per word over the one port */
    return hw_timing_cmd_overhead_cycles() + 2 * words;
}

int64_t hw_timing_requant_cycles(int64_t m_t)
{
    /* acceptance, one line per cycle, plus accumulator read, vector-unit register and output
     * write latency (rtl_cmd_cycles: oh + n + 2) */
    return hw_timing_cmd_overhead_cycles() + m_t + 2;
}

int64_t hw_timing_pool_cycles(int64_t pooled, int64_t k)
{
    /* acceptance, one output-buffer read per window element (the vector unit keeps the
     * running max), the last pooled line's write */
    return hw_timing_cmd_overhead_cycles() + pooled * k * k + 1;
}

int64_t hw_timing_add_cycles(int64_t n)
{
    /* acceptance; operand A of line i read at phase cycle 2i, B at 2i + 1 (the weight
     * scratchpad's one read port), the vector unit registers the sum at 2i + 2, the output
     * write at 2i + 3: the last at 2n + 1 */
    return hw_timing_cmd_overhead_cycles() + 2 * n + 2;
}

int64_t hw_timing_program_start_cycles(void)
{
    return 1; /* the first command is accepted on the clock edge after the program starts */
}

int64_t hw_timing_l1_lines(int64_t kib, int64_t line_bits)
{
    int64_t lines = kib * 8192 / (line_bits > 0 ? line_bits : 1);
    if (lines > 65536)
        lines = 65536;
    if (lines < 2)
        lines = 2;
    int64_t p = 1;
    while (p * 2 <= lines)
        p *= 2;
    return p;
}

static inline int64_t tmin(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t tcdiv(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

int64_t hw_timing_ws_m_tile_max(int64_t x_depth, int64_t acc_depth, int64_t out_depth)
{
    return tmin(tmin(x_depth, acc_depth), tmin(out_depth, 65535)); /* 16-bit count field */
}

int64_t hw_timing_os_k_chunk_max(int64_t x_depth, int64_t w_depth)
{
    return tmin(tmin(x_depth, w_depth), 65535);
}

int64_t hw_timing_add_chunk_max(int64_t w_depth, int64_t out_depth)
{
    return tmin(tmin(w_depth / 2, out_depth), 65535);
}

void hw_timing_add_layer_cycles(const hw_timing_core *core, int64_t lines, hw_timing_add *o)
{
    const int64_t nc = hw_timing_add_chunk_max(core->w_depth, core->out_depth);
    const int64_t chunks = tcdiv(lines, nc), last = lines - (chunks - 1) * nc;
    o->chunks = chunks;
    o->vector_cycles = hw_timing_cmd_overhead_cycles() + (chunks - 1) * hw_timing_add_cycles(nc) +
                       hw_timing_add_cycles(last);
    /* per chunk: two LD_W and one STORE of its lines */
    o->port_cycles = 3 * ((chunks - 1) * hw_timing_port_cycles(nc) + hw_timing_port_cycles(last));
}

/* A dimension of `total` split in tiles of at most `tile`: n[0] full tiles of size[0], then
 * n[1] (0 or 1) last tile of size[1]. */
typedef struct tsplit {
    int64_t n[2], size[2];
} tsplit;

static tsplit split(int64_t total, int64_t tile)
{
    const int64_t f = tcdiv(total, tile), last = total - (f - 1) * tile;
    tsplit s = {{f - 1, 1}, {tile, last}};
    if (last == tile) { /* all tiles full */
        s.n[0] = f;
        s.n[1] = 0;
    }
    return s;
}

void hw_timing_gemm_cycles(const hw_timing_core *core, int64_t m, int64_t k, int64_t n,
                           hw_timing_gemm *o)
{
    const int64_t R = core->rows, C = core->cols, oh = hw_timing_cmd_overhead_cycles();
    const int64_t fn = tcdiv(n, C), n_last = n - (fn - 1) * C;
    const tsplit sn = split(n, tmin(n, C));
    /* one LD_P per column fold */
    const int64_t ldp = (fn - 1) * hw_timing_port_cycles(C) + hw_timing_port_cycles(n_last);
    o->tile_n = tmin(n, C);
    o->folds_n = fn;
    o->compute_cycles = 0;
    o->ldp_cycles = ldp;
    if (core->dataflow == HW_DATAFLOW_WS) {
        const int64_t mt =
            tmin(m, hw_timing_ws_m_tile_max(core->x_depth, core->acc_depth, core->out_depth));
        const int64_t fm = tcdiv(m, mt), m_last = m - (fm - 1) * mt;
        const int64_t fk = tcdiv(k, R), k_last = k - (fk - 1) * R;
        const tsplit sm = split(m, mt), sk = split(k, tmin(k, R));
        /* per (m-block, k-fold): LD_X of the block's M_t lines */
        const int64_t ldx =
            fk * ((fm - 1) * hw_timing_port_cycles(mt) + hw_timing_port_cycles(m_last));
        /* per (m-block, k-fold): LD_W of the k-fold */
        const int64_t ldw =
            fm * ((fk - 1) * hw_timing_port_cycles(R) + hw_timing_port_cycles(k_last));
        o->tile_m = mt;
        o->tile_k = tmin(k, R);
        o->folds_m = fm;
        o->folds_k = fk;
        o->computes = fn * fm * fk;
        /* one COMPUTE (fused preload) per (n-fold, m-block, k-fold), each as big as its tile */
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                for (int c = 0; c < 2; c++)
                    o->compute_cycles +=
                        sk.n[a] * sm.n[b] * sn.n[c] *
                        (oh + hw_timing_ws_preload_cycles(sk.size[a]) +
                         hw_timing_ws_stream_cycles(sk.size[a], sn.size[c], sm.size[b]));
        /* LD_P, then per column fold: one STORE per m-block, the LD_X and LD_W */
        o->store_cycles =
            fn * ((fm - 1) * hw_timing_port_cycles(mt) + hw_timing_port_cycles(m_last));
        o->port_cycles = ldp + o->store_cycles + fn * (ldx + ldw);
        o->requant_cycles =
            fn * ((fm - 1) * hw_timing_requant_cycles(mt) + hw_timing_requant_cycles(m_last));
    } else {
        const int64_t fm = tcdiv(m, R), m_last = m - (fm - 1) * R;
        const int64_t kc = tmin(k, hw_timing_os_k_chunk_max(core->x_depth, core->w_depth));
        const int64_t fk = tcdiv(k, kc), k_last = k - (fk - 1) * kc;
        const tsplit sm = split(m, tmin(m, R)), sk = split(k, kc);
        /* per (m-tile, k-chunk): LD_X + LD_W of K_c lines each */
        const int64_t ld =
            2 * ((fk - 1) * hw_timing_port_cycles(kc) + hw_timing_port_cycles(k_last));
        o->tile_m = tmin(m, R);
        o->tile_k = kc;
        o->folds_m = fm;
        o->folds_k = fk;
        o->computes = fn * fm * fk;
        /* per (n-fold, m-tile): one COMPUTE per k-chunk, the last one draining M_t rows */
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++) {
                int64_t tile = hw_timing_os_drain_cycles(sm.size[b]);
                for (int a = 0; a < 2; a++)
                    tile += sk.n[a] *
                            (oh + hw_timing_os_stream_cycles(sm.size[b], sn.size[c], sk.size[a]));
                o->compute_cycles += sm.n[b] * sn.n[c] * tile;
            }
        o->store_cycles =
            fn * ((fm - 1) * hw_timing_port_cycles(R) + hw_timing_port_cycles(m_last));
        o->port_cycles = ldp + o->store_cycles + fn * fm * ld;
        o->requant_cycles =
            fn * ((fm - 1) * hw_timing_requant_cycles(R) + hw_timing_requant_cycles(m_last));
    }
}
