#include "hw_eval.h"

#include "hw_timing.h"
#include "td_hash.h"
#include "td_json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Every formula below is written out in docs/models.md; the array's cycle counts come
 * only from hw_timing.h (the contract shared with the RTL). */

static const char *const unit_names[HW_UNIT_COUNT] = {"none", "array", "vector", "fused"};
static const char *const bound_names[HW_BOUND_COUNT] = {"none", "compute", "memory"};
static const char *const loop_names[HW_LOOP_COUNT] = {"none", "input-onchip", "both-fit",
                                                      "weights-outer", "inputs-outer"};

const char *hw_unit_name(hw_unit u)
{
    return (int)u >= 0 && u < HW_UNIT_COUNT ? unit_names[u] : "?";
}

const char *hw_bound_name(hw_bound b)
{
    return (int)b >= 0 && b < HW_BOUND_COUNT ? bound_names[b] : "?";
}

const char *hw_loop_name(hw_loop l)
{
    return (int)l >= 0 && l < HW_LOOP_COUNT ? loop_names[l] : "?";
}

td_status hw_result_init(hw_result *r, size_t max_layers)
{
    memset(r, 0, sizeof *r);
    if (max_layers == 0)
        max_layers = 1;
    r->layers = calloc(max_layers, sizeof *r->layers);
    if (!r->layers)
        return td_fail(TD_ERR_NOMEM, "out of memory for %zu layer results", max_layers);
    r->cap_layers = max_layers;
    return TD_OK;
}

void hw_result_free(hw_result *r)
{
    free(r->layers);
    memset(r, 0, sizeof *r);
}

static inline int64_t cdiv(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

static inline int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Bytes of n values of b bits, packed. */
static inline int64_t packed_bytes(int64_t n, int64_t bits)
{
    return (n * bits + 7) / 8;
}

/* Per-evaluation constants: energies per action (pJ, scaled to the node), sizes. */
typedef struct derived {
    int64_t rows, cols, b, a, lanes;
    double bytes_per_cycle;
    int64_t l1_in_bits, l1_w_bits, l1_acc_bits, l2_bytes;
    hw_timing_core core; /* the RTL core's array and L1 depths (hw_timing.h) */
    int64_t word_bytes;  /* the core's memory word: max(max(R, C) b, a + 39) bits */
    hw_action_costs e;   /* energy per action (hw_action_costs_compute) */
    double leak_mw;
} derived;

void hw_action_costs_compute(const hw_config *cfg, const hw_tech_table *t, hw_action_costs *e)
{
    const double se = hw_tech_scale_energy(t, cfg->tech_nm);
    e->mac_pj = se * (hw_tech_mult_pj(t, cfg->bits) + hw_tech_add_pj(t, cfg->acc_bits));
    e->reg_bit_pj = se * t->c[HW_C_REG_BIT_PJ].value;
    e->l1_input_bit_pj = se * hw_tech_sram_pj_per_bit(t, cfg->l1_input_kib * 1024.0);
    e->l1_weight_bit_pj = se * hw_tech_sram_pj_per_bit(t, cfg->l1_weight_kib * 1024.0);
    e->l1_acc_bit_pj = se * hw_tech_sram_pj_per_bit(t, cfg->l1_acc_kib * 1024.0);
    e->l2_bit_pj = se * hw_tech_sram_pj_per_bit(t, cfg->l2_kib * 1024.0);
    e->dram_bit_pj = t->c[HW_C_DRAM64_PJ].value / 64.0; /* off-chip: not node-scaled */
    /* requantization: acc x 32-bit multiplier, rounding add, clamp compare */
    e->requant_pj = se * (hw_tech_mult_pj(t, 32) + hw_tech_add_pj(t, cfg->acc_bits) +
                          hw_tech_add_pj(t, cfg->bits));
    e->vec_add_pj = se * hw_tech_add_pj(t, cfg->acc_bits);
    e->vec_cmp_pj = se * hw_tech_add_pj(t, cfg->bits);
    e->cmd_pj = se * t->c[HW_C_CMD_PJ].value;
    e->leak_mw_per_mm2 = t->c[HW_C_LEAK_MW_PER_MM2].value;
}

static void derive(derived *d, const hw_config *cfg, const hw_tech_table *t, double area_mm2)
{
    d->rows = cfg->rows;
    d->cols = cfg->cols;
    d->b = cfg->bits;
    d->a = cfg->acc_bits;
    d->lanes = cfg->vector_lanes;
    d->bytes_per_cycle = cfg->dram_gbps * 1000.0 / cfg->clock_mhz;
    d->l1_in_bits = (int64_t)cfg->l1_input_kib * 8192;
    d->l1_w_bits = (int64_t)cfg->l1_weight_kib * 8192;
    d->l1_acc_bits = (int64_t)cfg->l1_acc_kib * 8192;
    d->l2_bytes = (int64_t)cfg->l2_kib * 1024;
    /* scratchpad lines are full width: R inputs, C weights, C accumulators (rtl_program.h);
     * the compiler uses the whole buffer for a tile (no ping-pong in L1) */
    d->core.rows = cfg->rows;
    d->core.cols = cfg->cols;
    d->core.dataflow = cfg->dataflow;
    d->core.x_depth = hw_timing_l1_lines(cfg->l1_input_kib, d->rows * d->b);
    d->core.w_depth = hw_timing_l1_lines(cfg->l1_weight_kib, d->cols * d->b);
    d->core.acc_depth = hw_timing_l1_lines(cfg->l1_acc_kib, d->cols * d->a);
    d->core.out_depth = d->core.acc_depth;
    d->word_bytes = (max64(max64(d->rows, d->cols) * d->b, d->a + 39) + 7) / 8;
    hw_action_costs_compute(cfg, t, &d->e);
    d->leak_mw = area_mm2 * d->e.leak_mw_per_mm2;
}

double hw_area_mm2(const hw_config *cfg, const hw_tech_table *t, hw_area_breakdown *out)
{
    const double sa = hw_tech_scale_area(t, cfg->tech_nm) * 1e-6; /* um^2 -> mm^2 */
    const double ff = t->c[HW_C_FF_UM2].value, bit = t->c[HW_C_SRAM_BIT_UM2].value;
    /* PE: multiplier, accumulator adder, input + weight + partial-sum registers */
    double pe = hw_tech_mult_um2(t, cfg->bits) + hw_tech_add_um2(t, cfg->acc_bits) +
                (2.0 * cfg->bits + cfg->acc_bits) * ff;
    hw_area_breakdown a;
    a.pe_array_mm2 = sa * pe * cfg->rows * cfg->cols;
    a.l1_mm2 =
        sa * bit * 8192.0 * ((double)cfg->l1_input_kib + cfg->l1_weight_kib + cfg->l1_acc_kib);
    a.l2_mm2 = sa * bit * 8192.0 * cfg->l2_kib;
    /* lane: 32-bit requantization multiplier, accumulator-width adder, its registers; with a
     * synthesized vector unit (calibration), its per-lane fit at 8 bits / AccBits 32, moved to
     * the config's widths in proportion to that operator formula (docs/models.md section 7) */
    const double lane = hw_tech_mult_um2(t, 32) + hw_tech_add_um2(t, cfg->acc_bits) +
                        (double)(cfg->acc_bits + cfg->bits) * ff;
    const double syn_lane = t->c[HW_C_VEC_LANE_UM2].value;
    if (syn_lane > 0) {
        const double lane8 = hw_tech_mult_um2(t, 32) + hw_tech_add_um2(t, 32) + (32.0 + 8.0) * ff;
        a.vector_mm2 =
            sa * (t->c[HW_C_VEC_BASE_UM2].value + cfg->vector_lanes * syn_lane * (lane / lane8));
    } else {
        a.vector_mm2 = sa * cfg->vector_lanes * lane;
    }
    a.ctrl_mm2 = sa * t->c[HW_C_CTRL_UM2].value;
    if (out)
        *out = a;
    return a.pe_array_mm2 + a.l1_mm2 + a.l2_mm2 + a.vector_mm2 + a.ctrl_mm2;
}

/* DRAM reads of a layer with packed input X and weights W (bytes, W as laid out for the
 * core), in the compiled program's loop order (rtl_program_emit_gemm: column folds outermost;
 * docs/models.md, "Loop order"): an input that fits the staging half of L2 is fetched once;
 * a larger one is re-streamed once per column fold (fn passes). */
static int64_t dram_reads(const derived *d, int64_t x, int64_t w, int64_t fn, bool in_on,
                          hw_loop *loop)
{
    if (in_on) {
        *loop = HW_LOOP_INPUT_ONCHIP;
        return w;
    }
    if (x <= d->l2_bytes / 2) {
        *loop = HW_LOOP_BOTH_FIT;
        return x + w;
    }
    *loop = HW_LOOP_WEIGHTS_OUTER;
    return fn * x + w;
}

/* Dynamic energy by category (pJ), for the breakdown. */
typedef struct ebuf {
    double mac, reg, l1, l2, dram, vec, ctrl;
} ebuf;

/* One layer's GEMM on the array, as the RTL compiler lowers it (rtl_templates/rtl_net.c):
 * G groups of M x K x N; the input tensor (x_el values) packed in DRAM; an optional max-pool
 * fused after the REQUANTs (pool_k > 0) over the map_h x map_w conv map. */
typedef struct gemm_spec {
    int64_t G, M, K, N, x_el;
    int64_t pool_k, pool_s, map_h, map_w;
} gemm_spec;

/* Command cycles of one column fold of a GEMM with a fused max-pool, on an ideal memory,
 * exactly as rtl_program_emit_gemm compiles it (LD_P excluded): the pooled rows are split in
 * bands whose conv-map rows and pooled pixels fit the output buffer; per band the rows
 * [r0 W, r1 W) of the map are computed (WS: m-blocks of at most hw_timing_ws_m_tile_max
 * rows; OS: every R-row tile the band touches, whole), REQUANTed into the output buffer, then
 * one POOL and one STORE of the band's pooled pixels. When not even one pooled row of the
 * whole map width fits, column strips (rtl_pool_strips_plan): per strip of `cols` pooled
 * columns and band of `rows` pooled rows, each map row's segment under the strip's windows is
 * computed and REQUANTed, then one POOL of the band and one STORE per pooled row of the strip
 * (docs/models.md, "Fused max-pool"). */
typedef struct pool_fold {
    int64_t computes, compute, port, requant, pool;
    int64_t rows;             /* map rows computed (rows on band edges count once per band) */
    int64_t x_lines, w_lines; /* lines loaded by LD_X and LD_W */
    int64_t last_store;       /* lines of the last STORE */
    bool fits;                /* false: not even one pooled row fits the output buffer (the
                                 compiler refuses the layer; counted as one-row bands) */
} pool_fold;

/* Rows [m_lo, m_hi) of one column fold (N_t = n_t) as the compiler emits them: the GEMM of
 * those rows alone (WS m-blocks and OS tiles both start at m_lo, rtl_x_layout), without its
 * LD_P and STOREs (the band's POOL and STORE are the caller's). */
static void rows_cycles(const hw_timing_core *c, int64_t K, int64_t n_t, int64_t m_lo, int64_t m_hi,
                        pool_fold *o)
{
    const int64_t L = m_hi - m_lo;
    hw_timing_gemm tg;
    hw_timing_gemm_cycles(c, L, K, n_t, &tg);
    o->computes += tg.computes;
    o->compute += tg.compute_cycles;
    o->port += tg.port_cycles - tg.ldp_cycles - tg.store_cycles;
    o->requant += tg.requant_cycles;
    /* LD_X: WS the block's rows per (m-block, k-fold), OS K lines per tile; LD_W: K lines per
     * m-block (WS) or tile (OS) */
    o->x_lines += c->dataflow == HW_DATAFLOW_WS ? tg.folds_k * L : tg.folds_m * K;
    o->w_lines += tg.folds_m * K;
    o->rows += L;
}

static void pool_fold_cycles(const hw_timing_core *c, const gemm_spec *s, int64_t n_t, pool_fold *o)
{
    memset(o, 0, sizeof *o);
    const int64_t pk = s->pool_k, ps = s->pool_s, mh = s->map_h, mw = s->map_w;
    const int64_t ph = (mh - pk) / ps + 1, pw = (mw - pk) / ps + 1;
    const int64_t room = min64(c->out_depth, 65536);
    int64_t band = ph;
    if (s->M + ph * pw > room)
        for (band = ph; band > 0; band--)
            if (((band - 1) * ps + pk) * mw + band * pw <= room)
                break;
    o->fits = true;
    if (band < 1) { /* column strips (rtl_pool_strips_plan) */
        int64_t cols = pw, rows = ph;
        for (; cols > 0; cols--)
            if (pk * ((cols - 1) * ps + pk) + cols <= room)
                break;
        if (cols < 1) {
            o->fits = false;
            return;
        }
        const int64_t sw_max = (cols - 1) * ps + pk;
        for (; rows > 1; rows--)
            if (((rows - 1) * ps + pk) * sw_max + rows * cols <= room)
                break;
        for (int64_t px0 = 0; px0 < pw; px0 += cols) {
            const int64_t pc = min64(cols, pw - px0), c0 = px0 * ps, sw = (pc - 1) * ps + pk;
            for (int64_t py0 = 0; py0 < ph; py0 += rows) {
                const int64_t py1 = min64(ph, py0 + rows);
                const int64_t r0 = py0 * ps, r1 = (py1 - 1) * ps + pk;
                for (int64_t r = r0; r < r1; r++)
                    rows_cycles(c, s->K, n_t, r * mw + c0, r * mw + c0 + sw, o);
                o->pool += hw_timing_pool_cycles((py1 - py0) * pc, pk);
                o->port += (py1 - py0) * hw_timing_port_cycles(pc); /* a STORE per pooled row */
                o->last_store = pc;
            }
        }
        return;
    }
    for (int64_t py0 = 0; py0 < ph; py0 += band) {
        const int64_t py1 = min64(ph, py0 + band);
        const int64_t r0 = py0 * ps, r1 = py1 == ph ? mh : (py1 - 1) * ps + pk;
        rows_cycles(c, s->K, n_t, r0 * mw, r1 * mw, o);
        o->pool += hw_timing_pool_cycles((py1 - py0) * pw, pk);
        o->port += hw_timing_port_cycles((py1 - py0) * pw);
        o->last_store = (py1 - py0) * pw;
    }
}

/* A GEMM layer on the array (conv, fc, global average pool); fills l, adds to eb, returns the
 * layer's dynamic energy (pJ). */
static double eval_array(const derived *d, hw_dataflow df, const gemm_spec *s, bool in_on,
                         bool out_on, hw_layer_result *l, ebuf *eb)
{
    const int64_t G = s->G, M = s->M, K = s->K, N = s->N;
    const int64_t b = d->b, a = d->a;
    hw_timing_gemm tg;
    hw_timing_gemm_cycles(&d->core, M, K, N, &tg);
    const int64_t mt = tg.tile_m, kt = tg.tile_k, nt = tg.tile_n;
    const int64_t fm = tg.folds_m, fk = tg.folds_k, fn = tg.folds_n;
    const int64_t macs = M * K * N * G;
    const int64_t outs = M * N * G, w_el = K * N * G, x_col = M * K * G;
    /* The core's memory image (rtl_program_add_gemm): weights in full-width lines of one
     * memory word (fn x K lines), one parameter word (bias, scale, shift) per column of each
     * fold (fn x C), outputs in lines of one word (fn x M); the input tensor packed (the DMA
     * forms the im2col lines on chip, docs/sim.md §1). */
    const int64_t wb = d->word_bytes;
    const bool pool = s->pool_k > 0;
    /* a fused max-pool: the bands of a full column fold (N_t = C) and of the last one (the
     * array commands take as long as their N_t) */
    pool_fold pf = {0}, pf_last = {0};
    if (pool) {
        pool_fold_cycles(&d->core, s, nt, &pf);
        if (N - (fn - 1) * d->cols != nt)
            pool_fold_cycles(&d->core, s, N - (fn - 1) * d->cols, &pf_last);
        else
            pf_last = pf;
    }
    const int64_t y_lines =
        pool ? ((s->map_h - s->pool_k) / s->pool_s + 1) * ((s->map_w - s->pool_k) / s->pool_s + 1)
             : M;
    const int64_t x_bytes = packed_bytes(s->x_el, b);
    const int64_t w_bytes = G * fn * (K + d->cols) * wb;
    const int64_t y_bytes = G * fn * y_lines * wb;

    l->unit = HW_UNIT_ARRAY;
    l->gemm_m = M;
    l->gemm_k = K;
    l->gemm_n = N;
    l->groups = G;
    l->tile_m = mt;
    l->tile_k = kt;
    l->tile_n = nt;
    l->folds_m = fm;
    l->folds_k = fk;
    l->folds_n = fn;
    l->macs = macs;
    /* the core requantizes (REQUANT) and moves operands (port) itself, one command at a time:
     * serial with the array, not overlapped (docs/models.md, "Layer cycles") */
    if (!pool) {
        l->commands = G * tg.computes;
        l->compute_cycles = G * tg.compute_cycles;
        l->vector_cycles = G * tg.requant_cycles;
        l->port_cycles = hw_timing_program_start_cycles() + G * tg.port_cycles;
    } else { /* per column fold: LD_P, then the bands (pool_fold_cycles) */
        const int64_t n_last = N - (fn - 1) * d->cols;
        const int64_t ldp =
            (fn - 1) * hw_timing_port_cycles(d->cols) + hw_timing_port_cycles(n_last);
        l->commands = G * fn * pf.computes;
        l->compute_cycles = G * ((fn - 1) * pf.compute + pf_last.compute);
        l->vector_cycles = G * fn * (pf.requant + pf.pool);
        l->port_cycles = hw_timing_program_start_cycles() + G * (ldp + fn * pf.port);
    }
    /* The compiled loop reads all K weight lines of a column fold once per row block (WS
     * m-block, OS m-tile). Between blocks they stay in the system model's L2 block cache (the
     * staging half, LRU) only when they fit in it; otherwise every block fetches them from
     * DRAM again (docs/models.md section 4). */
    const int64_t fold_w = K * wb;
    const int64_t refetch = fm > 1 && fold_w > d->l2_bytes / 2 ? G * fn * (fm - 1) * fold_w : 0;
    const int64_t reads = dram_reads(d, x_bytes, w_bytes + refetch, fn, in_on, &l->loop);
    l->dram_bytes = reads + (out_on ? 0 : y_bytes);
    l->memory_cycles = (int64_t)ceil((double)l->dram_bytes / d->bytes_per_cycle);
    /* prologue: what the core waits for, not overlapped with its work (the system model's
     * DMA, docs/sim.md §1: one channel, requests in order). The first tile group's N_t
     * parameter words and K_t weight lines; before them an input in DRAM: fetched whole at
     * the layer's start when it fits the staging half, else re-streamed at the start of
     * each of the fn column folds, ahead of the next groups' weights. */
    const double bpc = d->bytes_per_cycle;
    const int64_t first = (nt + kt) * wb;
    if (l->loop == HW_LOOP_INPUT_ONCHIP)
        l->prologue_cycles = (int64_t)ceil((double)min64(first, reads) / bpc);
    else if (l->loop == HW_LOOP_BOTH_FIT)
        l->prologue_cycles = (int64_t)ceil((double)(x_bytes + min64(first, w_bytes)) / bpc);
    else
        l->prologue_cycles = fn * (int64_t)ceil((double)x_bytes / bpc) +
                             (int64_t)ceil((double)min64(first, w_bytes) / bpc);
    /* epilogue: an output leaving the chip is written back while the core stores it; the
     * last block's write-back outlasts its STORE when the channel is slower than the port */
    const int64_t m_last = pool                   ? pf.last_store
                           : df == HW_DATAFLOW_WS ? M - (fm - 1) * mt
                                                  : M - (fm - 1) * d->rows;
    const int64_t epilogue =
        out_on ? 0
               : max64(0, (int64_t)ceil((double)(m_last * wb) / d->bytes_per_cycle) -
                              hw_timing_port_cycles(m_last));
    /* The core (one command at a time) against the DRAM channel (busy from the layer's
     * start when memory-bound, then the last tile's array work after its operands land). */
    const int64_t busy = l->compute_cycles + l->port_cycles + l->vector_cycles;
    const int64_t core = l->prologue_cycles + busy + epilogue;
    const int64_t tail = l->compute_cycles / max64(1, l->commands);
    l->cycles = max64(core, l->memory_cycles + tail);
    l->bound = l->memory_cycles + tail > core ? HW_BOUND_MEMORY : HW_BOUND_COMPUTE;

    /* Action counts (docs/models.md, "Energy"). */
    /* L1 fills: the compiler loads every tile's operands (LD_X, LD_W) in full-width lines,
     * so the bits written are the lines loaded times the line width (input R b, weight C b):
     * WS: LD_X of M lines per (n-fold, k-fold), LD_W of K lines per (n-fold, m-block);
     * OS: LD_X and LD_W of K lines each per (n-fold, m-tile); with a fused max-pool, what
     * the bands' tiles load (pool_fold_cycles). */
    const int64_t R = d->rows, C = d->cols;
    const int64_t x_lines = G * fn * (pool ? pf.x_lines : df == HW_DATAFLOW_WS ? fk * M : fm * K);
    const int64_t w_lines = G * fn * (pool ? pf.w_lines : fm * K);
    const int64_t w_fill = w_lines * C * b;
    const int64_t x_fill = x_lines * R * b;
    /* a fused max-pool computes the map rows on band edges once per band */
    const double rf = pool ? (double)pf.rows / (double)M : 1.0;
    double e = rf * (double)macs * d->e.mac_pj;
    double reg_bits, acc_bits;
    if (df == HW_DATAFLOW_WS) {
        reg_bits = rf * (double)macs * (b + a) + (double)w_el * fm * b;
        acc_bits = rf * ((double)outs * fk * 2 * a + (double)outs * a);
    } else {
        reg_bits = rf * (double)macs * (2 * b + a);
        acc_bits = rf * (double)outs * 2 * a;
    }
    const double e_reg = reg_bits * d->e.reg_bit_pj;
    const double e_l1 = ((double)w_el * fm * b + (double)w_fill) * d->e.l1_weight_bit_pj +
                        ((double)x_col * fn * b + (double)x_fill) * d->e.l1_input_bit_pj +
                        acc_bits * d->e.l1_acc_bit_pj;
    const double l2_bits = (double)(w_fill + x_fill) + 8.0 * (double)(out_on ? 0 : y_bytes) +
                           8.0 * (double)reads + 8.0 * (double)y_bytes;
    const double e_l2 = l2_bits * d->e.l2_bit_pj;
    const double e_dram = 8.0 * (double)l->dram_bytes * d->e.dram_bit_pj;
    /* REQUANT of every computed output; a fused max-pool: one compare per window element of
     * every pooled output (the POOL commands' output-buffer reads) */
    const double e_vec =
        rf * (double)outs * d->e.requant_pj +
        (pool ? (double)(G * N * y_lines * s->pool_k * s->pool_k) * d->e.vec_cmp_pj : 0.0);
    const double e_ctrl = (double)l->commands * d->e.cmd_pj;
    eb->mac += e;
    eb->reg += e_reg;
    eb->l1 += e_l1;
    eb->l2 += e_l2;
    eb->dram += e_dram;
    eb->vec += e_vec;
    eb->ctrl += e_ctrl;
    return e + e_reg + e_l1 + e_l2 + e_dram + e_vec + e_ctrl;
}

/* A k x k pooling the RTL compiler does not lower (an average pool, a padded max-pool, or one
 * not directly after its conv): an estimate on the vector unit, one element operation per
 * lane per cycle, overlapped with its DRAM traffic (docs/models.md, "Vector-unit layers").
 * Returns the dynamic energy (pJ). */
static double eval_vector(const derived *d, const nn_node *n, bool in0_on, bool out_on,
                          hw_layer_result *l, ebuf *eb)
{
    const int64_t b = d->b;
    const int64_t x_el = n->in.c * n->in.h * n->in.w;
    const int64_t y_el = n->out.c * n->out.h * n->out.w;
    const int64_t ops = y_el * n->k_h * n->k_w;
    const int64_t requants = n->op == NN_OP_AVGPOOL ? y_el : 0;
    const double e_op = n->op == NN_OP_AVGPOOL ? d->e.vec_add_pj : d->e.vec_cmp_pj;
    const int64_t in_bytes = in0_on ? 0 : packed_bytes(x_el, b);
    const int64_t y_bytes = packed_bytes(y_el, b);
    const int64_t x_total = packed_bytes(x_el, b);
    l->unit = HW_UNIT_VECTOR;
    l->loop = HW_LOOP_NONE;
    l->vector_cycles = cdiv(ops, d->lanes);
    l->compute_cycles = l->vector_cycles;
    l->dram_bytes = in_bytes + (out_on ? 0 : y_bytes);
    l->memory_cycles = (int64_t)ceil((double)l->dram_bytes / d->bytes_per_cycle);
    l->prologue_cycles = 0;
    l->cycles = max64(l->compute_cycles, l->memory_cycles);
    l->bound = l->memory_cycles > l->compute_cycles ? HW_BOUND_MEMORY : HW_BOUND_COMPUTE;
    const double e_vec = (double)ops * e_op + (double)requants * d->e.requant_pj;
    const double e_l2 =
        8.0 * (double)(x_total + y_bytes + in_bytes + (out_on ? 0 : y_bytes)) * d->e.l2_bit_pj;
    const double e_dram = 8.0 * (double)l->dram_bytes * d->e.dram_bit_pj;
    eb->vec += e_vec;
    eb->l2 += e_l2;
    eb->dram += e_dram;
    return e_vec + e_l2 + e_dram;
}

/* Residual add on the vector unit, as rtl_program_add_net compiles it: one ADD_CFG, then per
 * chunk of hw_timing_add_chunk_max lines LD_W (A) + LD_W (B) + ADD + STORE, over the
 * ceil(C / cols) * H * W lines of the tensors (hw_timing_add_layer_cycles; docs/models.md,
 * "Residual add"). Returns the dynamic energy (pJ). */
static double eval_add(const derived *d, const nn_node *n, bool in0_on, bool in1_on, bool out_on,
                       hw_layer_result *l, ebuf *eb)
{
    const int64_t b = d->b, C = d->cols, wb = d->word_bytes;
    const int64_t y_el = n->out.c * n->out.h * n->out.w;
    const int64_t lines = cdiv(n->out.c, C) * n->out.h * n->out.w;
    hw_timing_add ta;
    hw_timing_add_layer_cycles(&d->core, lines, &ta);
    const int64_t nc = hw_timing_add_chunk_max(d->core.w_depth, d->core.out_depth);
    const int64_t last = lines - (ta.chunks - 1) * nc;
    /* operands in DRAM: the packed tensor, fetched whole by the DMA (like an array layer's
     * input); the result in the line layout (one memory word per line) */
    const int64_t in_bytes =
        (in0_on ? 0 : packed_bytes(y_el, b)) + (in1_on ? 0 : packed_bytes(y_el, b));
    const int64_t y_bytes = lines * wb;
    l->unit = HW_UNIT_VECTOR;
    l->loop = HW_LOOP_NONE;
    l->commands = 1 + 4 * ta.chunks;
    l->compute_cycles = 0;
    l->vector_cycles = ta.vector_cycles;
    l->port_cycles = hw_timing_program_start_cycles() + ta.port_cycles;
    l->dram_bytes = in_bytes + (out_on ? 0 : y_bytes);
    l->memory_cycles = (int64_t)ceil((double)l->dram_bytes / d->bytes_per_cycle);
    l->prologue_cycles = (int64_t)ceil((double)in_bytes / d->bytes_per_cycle);
    const int64_t epilogue =
        out_on ? 0
               : max64(0, (int64_t)ceil((double)(last * wb) / d->bytes_per_cycle) -
                              hw_timing_port_cycles(last));
    const int64_t core = l->prologue_cycles + l->vector_cycles + l->port_cycles + epilogue;
    l->cycles = max64(core, l->memory_cycles);
    l->bound = l->memory_cycles > core ? HW_BOUND_MEMORY : HW_BOUND_COMPUTE;
    /* actions: two scaled operands and one add per element (the shared shift in the add's
     * rounding), both operand lines written to and read from the weight scratchpad, the
     * result line written to and read from the output buffer */
    const double e_vec = (double)y_el * (d->e.vec_add_pj + 2.0 * d->e.requant_pj);
    const double line_bits = (double)(C * b);
    const double e_l1 = 4.0 * (double)lines * line_bits * d->e.l1_weight_bit_pj +
                        2.0 * (double)lines * line_bits * d->e.l1_acc_bit_pj;
    const double e_l2 = 8.0 *
                        (double)(2 * lines * wb + y_bytes + in_bytes + (out_on ? 0 : y_bytes)) *
                        d->e.l2_bit_pj;
    const double e_dram = 8.0 * (double)l->dram_bytes * d->e.dram_bit_pj;
    const double e_ctrl = (double)l->commands * d->e.cmd_pj;
    eb->vec += e_vec;
    eb->l1 += e_l1;
    eb->l2 += e_l2;
    eb->dram += e_dram;
    eb->ctrl += e_ctrl;
    return e_vec + e_l1 + e_l2 + e_dram + e_ctrl;
}

/* Whether the fused max-pool fits the output buffer: a band of one pooled row (pool_k map
 * rows and a row of pooled pixels), else a column strip of one pooled pixel (pool_k x pool_k
 * map pixels and the pooled one). rtl_program_emit_gemm refuses the layer otherwise
 * (TD_ERR_INFEASIBLE), and the layer is modelled as the conv followed by a vector-unit
 * max-pool (eval_vector; the system model does the same, docs/models.md "Fused max-pool"). */
static bool pool_fits(const hw_timing_core *c, const nn_node *conv, const nn_node *pool)
{
    const int64_t room = min64(c->out_depth, 65536), mh = conv->out.h, mw = conv->out.w;
    const int64_t pw = (mw - pool->k_h) / pool->stride + 1;
    const int64_t ph = (mh - pool->k_h) / pool->stride + 1;
    return mh * mw + ph * pw <= room || pool->k_h * mw + pw <= room ||
           pool->k_h * pool->k_h + 1 <= room; /* bands, or column strips of one pooled pixel */
}

/* The max-pool the RTL compiler fuses into conv i (rtl_layers_from_graph): after a chain of
 * batch norm / ReLU nodes, each the only consumer of the node before it, an unpadded square
 * max-pool that is the only consumer of the chain's end; -1 when none. */
static int32_t fused_pool_of(const nn_graph *g, int32_t i, const uint8_t *consumers)
{
    int32_t j = i + 1;
    while (j < (int32_t)g->n_nodes && consumers[j - 1] == 1 && g->nodes[j].inputs[0] == j - 1 &&
           (g->nodes[j].op == NN_OP_BATCHNORM || g->nodes[j].op == NN_OP_RELU ||
            g->nodes[j].op == NN_OP_RELU6))
        j++;
    if (j < (int32_t)g->n_nodes && consumers[j - 1] == 1 && g->nodes[j].op == NN_OP_MAXPOOL &&
        g->nodes[j].inputs[0] == j - 1 && g->nodes[j].pad == 0 &&
        g->nodes[j].k_h == g->nodes[j].k_w)
        return j;
    return -1;
}

td_status hw_evaluate_with(const nn_graph *g, const hw_config *cfg, const hw_tech_table *tech,
                           hw_result *r)
{
    if (!r->layers || r->cap_layers < g->n_nodes)
        return td_fail(TD_ERR_INTERNAL,
                       "hw_evaluate: result has room for %zu layers, network '%s' has %zu",
                       r->cap_layers, g->name, g->n_nodes);
    if ((cfg->bits != 4 && cfg->bits != 8 && cfg->bits != 16 && cfg->bits != 32) || cfg->rows < 1 ||
        cfg->cols < 1 || cfg->acc_bits < 1 || cfg->l1_input_kib < 1 || cfg->l1_weight_kib < 1 ||
        cfg->l1_acc_kib < 1 || cfg->l2_kib < 1 || !(cfg->dram_gbps > 0) || !(cfg->clock_mhz > 0) ||
        cfg->vector_lanes < 1 || cfg->tech_nm < 1)
        return hw_config_validate(cfg, NULL);

    hw_layer_result *layers = r->layers;
    const size_t cap = r->cap_layers;
    memset(r, 0, sizeof *r);
    r->layers = layers;
    r->cap_layers = cap;
    r->n_layers = g->n_nodes;
    r->tech = tech;

    r->area_mm2 = hw_area_mm2(cfg, tech, &r->area);
    derived d;
    derive(&d, cfg, tech, r->area_mm2);
    r->leakage_mw = d.leak_mw;

    ebuf eb = {0};
    const int32_t last = (int32_t)g->n_nodes - 1;
    int64_t max_k = 0;
    int32_t max_k_node = -1;
    /* consumers per node (saturating at 2), for the max-pool fusion */
    uint8_t cons_stack[1024];
    uint8_t *consumers = g->n_nodes <= sizeof cons_stack ? cons_stack : malloc(g->n_nodes);
    if (!consumers)
        return td_fail(TD_ERR_NOMEM, "hw_evaluate: out of memory for %zu nodes", g->n_nodes);
    memset(consumers, 0, g->n_nodes);
    for (size_t i = 0; i < g->n_nodes; i++)
        for (int32_t k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0 && consumers[g->nodes[i].inputs[k]] < 2)
                consumers[g->nodes[i].inputs[k]]++;
    int32_t pool_pending = -1;                /* the max-pool fused into the last conv */
    int32_t unfit_pool = -1, unfit_conv = -1; /* the largest max-pool with no room to fuse */
    for (int32_t i = 0; i < (int32_t)g->n_nodes; i++) {
        const nn_node *n = &g->nodes[i];
        hw_layer_result *l = &layers[i];
        memset(l, 0, sizeof *l);
        l->node = i;
        const bool in_on =
            n->n_inputs > 0 && n->inputs[0] >= 0 ? layers[n->inputs[0]].out_onchip : false;
        const bool in1_on =
            n->n_inputs > 1 && n->inputs[1] >= 0 ? layers[n->inputs[1]].out_onchip : false;
        const int64_t y_bytes = packed_bytes(n->out.c * n->out.h * n->out.w, d.b);
        l->in_onchip = in_on;
        double e_pj = 0;
        nn_op op = n->op;
        if (i == pool_pending) {
            op = NN_OP_RELU; /* fused: no cost of its own */
            pool_pending = -1;
        }
        switch (op) {
        case NN_OP_INPUT:
            l->unit = HW_UNIT_NONE;
            l->out_onchip = false; /* the image arrives in DRAM */
            break;
        case NN_OP_CONV:
        case NN_OP_FC:
        case NN_OP_GLOBAL_AVGPOOL: {
            gemm_spec sp = {.x_el = n->in.c * n->in.h * n->in.w};
            if (op == NN_OP_FC) {
                sp.G = 1;
                sp.M = 1;
                sp.K = sp.x_el;
                sp.N = n->out_channels;
            } else if (op == NN_OP_GLOBAL_AVGPOOL) {
                /* a GEMM M = C, K = H W, N = 1 (all-ones weights) between host transposes */
                sp.G = 1;
                sp.M = n->in.c;
                sp.K = n->in.h * n->in.w;
                sp.N = 1;
            } else {
                sp.G = n->groups;
                sp.M = n->out.h * n->out.w;
                sp.K = (n->in.c / sp.G) * n->k_h * n->k_w;
                sp.N = n->out_channels / sp.G;
            }
            int64_t out_bytes = y_bytes;
            int32_t out_node = i;
            const int32_t pj = op == NN_OP_CONV ? fused_pool_of(g, i, consumers) : -1;
            int32_t pj_unfit = -1;
            if (pj >= 0 && !pool_fits(&d.core, n, &g->nodes[pj])) {
                pj_unfit = pj; /* the compiler refuses the fusion: see pool_fits */
                if (unfit_pool < 0 || g->nodes[pj].k_h > g->nodes[unfit_pool].k_h) {
                    unfit_pool = pj; /* a violation (hw_config_check_pool) */
                    unfit_conv = i;
                }
            }
            if (pj >= 0 && pj_unfit != pj) {
                const nn_node *pn = &g->nodes[pj];
                sp.pool_k = pn->k_h;
                sp.pool_s = pn->stride;
                sp.map_h = n->out.h;
                sp.map_w = n->out.w;
                out_bytes = packed_bytes(pn->out.c * pn->out.h * pn->out.w, d.b);
                out_node = pj;
                pool_pending = pj;
            }
            l->out_onchip = out_node != last && out_bytes <= d.l2_bytes / 2;
            e_pj = eval_array(&d, cfg->dataflow, &sp, in_on, l->out_onchip, l, &eb);
            /* a GAP's all-ones column needs bits + bitlen(H*W) accumulator bits (the RTL
             * compiler's bound, docs/rtl.md): as much as a reduction of 2^(bitlen - bits) */
            int64_t k_need = l->gemm_k;
            if (op == NN_OP_GLOBAL_AVGPOOL) {
                int len = 0;
                while (len < 62 && ((int64_t)1 << len) <= l->gemm_k)
                    len++;
                k_need = len > cfg->bits ? (int64_t)1 << (len - cfg->bits) : 1;
            }
            if (k_need > max_k) {
                max_k = k_need;
                max_k_node = i;
            }
            break;
        }
        case NN_OP_ADD:
            l->out_onchip = i != last && y_bytes <= d.l2_bytes / 2;
            e_pj = eval_add(&d, n, in_on, in1_on, l->out_onchip, l, &eb);
            break;
        case NN_OP_MAXPOOL: /* not fusable: not compiled for the RTL core (an estimate) */
        case NN_OP_AVGPOOL:
            l->out_onchip = i != last && y_bytes <= d.l2_bytes / 2;
            e_pj = eval_vector(&d, n, in_on, l->out_onchip, l, &eb);
            break;
        default: /* batch norm folded, ReLU in the requantization clamp */
            l->unit = HW_UNIT_FUSED;
            l->out_onchip = i != last && in_on;
            if (i == last && in_on) { /* the logits still go out to DRAM */
                l->dram_bytes = y_bytes;
                l->memory_cycles = (int64_t)ceil((double)y_bytes / d.bytes_per_cycle);
                l->cycles = l->memory_cycles;
                l->bound = HW_BOUND_MEMORY;
                e_pj = 8.0 * (double)y_bytes * (d.e.dram_bit_pj + d.e.l2_bit_pj);
                eb.dram += 8.0 * (double)y_bytes * d.e.dram_bit_pj;
                eb.l2 += 8.0 * (double)y_bytes * d.e.l2_bit_pj;
            }
            break;
        }
        const double layer_ms = (double)l->cycles / (cfg->clock_mhz * 1000.0);
        l->energy_uj = e_pj * 1e-6 + d.leak_mw * layer_ms;
        l->utilization = l->cycles ? (double)l->macs / ((double)d.rows * d.cols * l->cycles) : 0;
        r->cycles += l->cycles;
        r->macs += l->macs;
        r->params += n->params;
        r->dram_bytes += l->dram_bytes;
    }

    r->latency_ms = (double)r->cycles / (cfg->clock_mhz * 1000.0);
    r->inferences_per_s = r->latency_ms > 0 ? 1000.0 / r->latency_ms : 0;
    r->energy.mac_uj = eb.mac * 1e-6;
    r->energy.reg_uj = eb.reg * 1e-6;
    r->energy.l1_uj = eb.l1 * 1e-6;
    r->energy.l2_uj = eb.l2 * 1e-6;
    r->energy.dram_uj = eb.dram * 1e-6;
    r->energy.vector_uj = eb.vec * 1e-6;
    r->energy.ctrl_uj = eb.ctrl * 1e-6;
    r->energy.leak_uj = d.leak_mw * r->latency_ms;
    r->energy_uj = r->energy.mac_uj + r->energy.reg_uj + r->energy.l1_uj + r->energy.l2_uj +
                   r->energy.dram_uj + r->energy.vector_uj + r->energy.ctrl_uj + r->energy.leak_uj;
    r->power_mw = r->latency_ms > 0 ? r->energy_uj / r->latency_ms : d.leak_mw;
    r->peak_tops = 2.0 * (double)d.rows * d.cols * cfg->clock_mhz * 1e-6;
    r->effective_tops = r->latency_ms > 0 ? 2.0 * (double)r->macs / (r->latency_ms * 1e9) : 0;
    r->utilization =
        r->cycles ? (double)r->macs / ((double)d.rows * d.cols * (double)r->cycles) : 0;
    if (consumers != cons_stack)
        free(consumers);
    hw_config_check(cfg, tech, max_k, max_k_node >= 0 ? g->nodes[max_k_node].name : NULL,
                    &r->violations);
    if (unfit_pool >= 0)
        hw_config_check_pool(cfg, g->nodes[unfit_pool].k_h, g->nodes[unfit_conv].name,
                             &r->violations);
    return TD_OK;
}

td_status hw_evaluate(const nn_graph *g, const hw_config *cfg, hw_result *r)
{
    return hw_evaluate_with(g, cfg, hw_tech_for_node(cfg->tech_nm), r);
}

/* ------------------------------------------------------------------ provenance */

/* The constants each reported number is computed from (docs/calibration.md, "Which numbers
 * come from where"). */
#define PE_OPS HW_C_MULT8_UM2, HW_C_MULT32_UM2, HW_C_ADD8_UM2, HW_C_ADD32_UM2, HW_C_FF_UM2
#define OPS_PJ HW_C_MULT8_PJ, HW_C_MULT32_PJ, HW_C_ADD8_PJ, HW_C_ADD32_PJ
#define SRAM_PJ HW_C_SRAM8K_PJ, HW_C_SRAM32K_PJ, HW_C_SRAM1M_PJ
static const struct prov_item {
    const char *group, *key;
    int ids[8];
} prov_items[] = {
    {"energy_breakdown", "mac_uj", {OPS_PJ, -1}},
    {"energy_breakdown", "reg_uj", {HW_C_REG_BIT_PJ, -1}},
    {"energy_breakdown", "l1_uj", {SRAM_PJ, -1}},
    {"energy_breakdown", "l2_uj", {SRAM_PJ, -1}},
    {"energy_breakdown", "dram_uj", {HW_C_DRAM64_PJ, -1}},
    {"energy_breakdown", "vector_uj", {OPS_PJ, -1}},
    {"energy_breakdown", "ctrl_uj", {HW_C_CMD_PJ, -1}},
    {"energy_breakdown", "leak_uj", {HW_C_LEAK_MW_PER_MM2, PE_OPS, -1}},
    {"area_breakdown", "pe_array_mm2", {PE_OPS, -1}},
    {"area_breakdown", "l1_mm2", {HW_C_SRAM_BIT_UM2, -1}},
    {"area_breakdown", "l2_mm2", {HW_C_SRAM_BIT_UM2, -1}},
    {"area_breakdown", "vector_mm2", {PE_OPS, HW_C_VEC_BASE_UM2, HW_C_VEC_LANE_UM2, -1}},
    {"area_breakdown", "ctrl_mm2", {HW_C_CTRL_UM2, -1}},
};

/* Origin bits of a constant as used for a config at node nm (moved from the table's node by
 * the classical rule when nm differs; DRAM and densities are not scaled). */
static unsigned const_origin(const hw_tech_table *t, int id, int nm)
{
    unsigned o = t->c[id].origin;
    if (nm != (int)t->c[HW_C_REF_NM].value && id != HW_C_DRAM64_PJ && id != HW_C_LEAK_MW_PER_MM2 &&
        id != HW_C_REF_NM && id != HW_C_FMAX_MHZ)
        o |= HW_ORIGIN_SCALED;
    return o;
}

json_t *hw_provenance_to_json(const hw_config *cfg, const hw_tech_table *t)
{
    json_t *o = json_object();
    char buf[64];
    json_object_set_new(o, "tech", json_string(t->calibrated ? "calibrated" : "published"));
    json_object_set_new(o, "table", json_string(t->origin));
    json_t *groups = json_object();
    for (size_t i = 0; i < sizeof prov_items / sizeof prov_items[0]; i++) {
        const struct prov_item *p = &prov_items[i];
        unsigned org = 0;
        char names[160] = "";
        size_t used = 0;
        for (int j = 0; j < 8 && p->ids[j] >= 0; j++) {
            /* the vector unit: the synthesized fit when the table has one, else operators */
            const bool vec = p->ids[j] == HW_C_VEC_BASE_UM2 || p->ids[j] == HW_C_VEC_LANE_UM2;
            if (vec && !(t->c[HW_C_VEC_LANE_UM2].value > 0))
                continue;
            org |= const_origin(t, p->ids[j], cfg->tech_nm);
            if (used < sizeof names)
                used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                         used ? ", " : "", t->c[p->ids[j]].name);
        }
        if (strcmp(p->key, "leak_uj") == 0)
            org |= const_origin(t, HW_C_SRAM_BIT_UM2, cfg->tech_nm) |
                   const_origin(t, HW_C_CTRL_UM2, cfg->tech_nm);
        json_t *g = json_object_get(groups, p->group);
        if (!g) {
            g = json_object();
            json_object_set_new(groups, p->group, g);
        }
        json_object_set_new(g, p->key, json_string(hw_origin_string(org, buf, sizeof buf)));
        char line[256];
        snprintf(line, sizeof line, "%s (%s)", hw_origin_string(org, buf, sizeof buf), names);
        char key[64];
        snprintf(key, sizeof key, "%s.%s",
                 strcmp(p->group, "energy_breakdown") == 0 ? "energy" : "area", p->key);
        json_object_set_new(o, key, json_string(line));
    }
    json_object_set_new(o, "origins", groups);
    const double fmax = hw_tech_pe_fmax_mhz(t, (int)cfg->dataflow, cfg->bits, cfg->tech_nm);
    char fl[384];
    if (fmax > 0)
        snprintf(fl, sizeof fl, "%s: %.4g MHz for %s at %d bits, %d nm (%s)",
                 hw_origin_string(HW_ORIGIN_SYNTHESIS | HW_ORIGIN_SCALED, buf, sizeof buf), fmax,
                 hw_dataflow_name(cfg->dataflow), cfg->bits, cfg->tech_nm,
                 t->fmax_source ? t->fmax_source : "");
    else
        snprintf(fl, sizeof fl, "none: the %s table has no PE fmax, so the clock is not checked",
                 t->calibrated ? "calibrated" : "published");
    json_object_set_new(o, "clock_fmax", json_string(fl));
    json_object_set_new(o, "cycles",
                        json_string("model: the RTL core's timing contract (hw_timing.h) and the "
                                    "DRAM bandwidth; no technology constant"));
    json_object_set_new(o, "latency_ms",
                        json_string("cycles / clock_mhz (the config's clock; no technology "
                                    "constant)"));
    json_object_set_new(o, "energy_uj", json_string("sum of energy_breakdown (origins above)"));
    json_object_set_new(o, "area_mm2", json_string("sum of area_breakdown (origins above)"));
    json_object_set_new(o, "power_mw", json_string("energy_uj / latency_ms (origins above)"));
    return o;
}

json_t *hw_tech_constants_to_json(const hw_config *cfg, const hw_tech_table *t)
{
    json_t *a = json_array();
    char buf[64];
    for (int id = 0; id < HW_CONST_COUNT; id++) {
        const hw_const *c = &t->c[id];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c->name));
        json_object_set_new(o, "value", td_json_real(c->value));
        json_object_set_new(o, "unit", json_string(c->unit));
        json_object_set_new(o, "node_nm", json_integer((json_int_t)t->c[HW_C_REF_NM].value));
        json_object_set_new(
            o, "origin",
            json_string(hw_origin_string(const_origin(t, id, cfg->tech_nm), buf, sizeof buf)));
        json_object_set_new(o, "source", json_string(c->source));
        json_array_append_new(a, o);
    }
    return a;
}

/* ------------------------------------------------------------------ output */

json_t *hw_result_to_json(const hw_result *r, const nn_graph *g, const hw_config *cfg, bool mapping)
{
    json_t *o = json_object();
    char hex[17];
    json_object_set_new(o, "net", json_string(g->name));
    td_hash_hex(nn_graph_hash(g), hex);
    json_object_set_new(o, "net_hash", json_string(hex));
    json_object_set_new(o, "hw", hw_config_to_json(cfg));
    json_object_set_new(o, "latency_ms", td_json_real(r->latency_ms));
    json_object_set_new(o, "inferences_per_s", td_json_real(r->inferences_per_s));
    json_object_set_new(o, "energy_uj", td_json_real(r->energy_uj));
    json_object_set_new(o, "power_mw", td_json_real(r->power_mw));
    json_object_set_new(o, "area_mm2", td_json_real(r->area_mm2));
    json_object_set_new(o, "peak_tops", td_json_real(r->peak_tops));
    json_object_set_new(o, "effective_tops", td_json_real(r->effective_tops));
    json_object_set_new(o, "utilization", td_json_real(r->utilization));
    json_object_set_new(o, "macs", json_integer(r->macs));
    json_object_set_new(o, "params", json_integer(r->params));
    json_object_set_new(o, "cycles", json_integer(r->cycles));
    json_object_set_new(o, "dram_bytes", json_integer(r->dram_bytes));
    json_object_set_new(o, "leakage_mw", td_json_real(r->leakage_mw));
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
    json_t *ab = json_object();
    json_object_set_new(ab, "pe_array_mm2", td_json_real(r->area.pe_array_mm2));
    json_object_set_new(ab, "l1_mm2", td_json_real(r->area.l1_mm2));
    json_object_set_new(ab, "l2_mm2", td_json_real(r->area.l2_mm2));
    json_object_set_new(ab, "vector_mm2", td_json_real(r->area.vector_mm2));
    json_object_set_new(ab, "ctrl_mm2", td_json_real(r->area.ctrl_mm2));
    json_object_set_new(o, "area_breakdown", ab);
    json_object_set_new(o, "feasible", json_boolean(r->violations.n == 0));
    json_t *va = json_array();
    for (size_t i = 0; i < r->violations.n; i++) {
        const hw_violation *v = &r->violations.v[i];
        char msg[256];
        hw_violation_format(v, cfg, msg, sizeof msg);
        json_t *vo = json_object();
        json_object_set_new(vo, "name", json_string(hw_violation_name(v->kind)));
        json_object_set_new(vo, "amount", td_json_real(v->amount));
        json_object_set_new(vo, "required", td_json_real(v->required));
        json_object_set_new(vo, "unit", json_string(hw_violation_unit(v->kind)));
        if (v->layer[0])
            json_object_set_new(vo, "layer", json_string(v->layer));
        json_object_set_new(vo, "message", json_string(msg));
        json_array_append_new(va, vo);
    }
    json_object_set_new(o, "violations", va);
    json_object_set_new(o, "violation_total", td_json_real(r->violations.total));
    if (r->tech) {
        const double fmax =
            hw_tech_pe_fmax_mhz(r->tech, (int)cfg->dataflow, cfg->bits, cfg->tech_nm);
        json_object_set_new(o, "pe_fmax_mhz", fmax > 0 ? td_json_real(fmax) : json_null());
        json_object_set_new(o, "provenance", hw_provenance_to_json(cfg, r->tech));
        json_object_set_new(o, "constants", hw_tech_constants_to_json(cfg, r->tech));
    }
    json_t *la = json_array();
    json_t *fused = json_array();
    for (size_t i = 0; i < r->n_layers; i++) {
        const hw_layer_result *l = &r->layers[i];
        const nn_node *n = &g->nodes[l->node];
        if (l->unit == HW_UNIT_NONE)
            continue;
        if (l->unit == HW_UNIT_FUSED && l->cycles == 0) {
            json_array_append_new(fused, json_string(n->name));
            continue;
        }
        json_t *lo = json_object();
        json_object_set_new(lo, "name", json_string(n->name));
        json_object_set_new(lo, "op", json_string(nn_op_name(n->op)));
        json_object_set_new(lo, "unit", json_string(hw_unit_name(l->unit)));
        json_object_set_new(lo, "cycles", json_integer(l->cycles));
        json_object_set_new(lo, "compute_cycles", json_integer(l->compute_cycles));
        json_object_set_new(lo, "memory_cycles", json_integer(l->memory_cycles));
        json_object_set_new(lo, "vector_cycles", json_integer(l->vector_cycles));
        json_object_set_new(lo, "port_cycles", json_integer(l->port_cycles));
        json_object_set_new(lo, "prologue_cycles", json_integer(l->prologue_cycles));
        json_object_set_new(lo, "bound", json_string(hw_bound_name(l->bound)));
        json_object_set_new(lo, "energy_uj", td_json_real(l->energy_uj));
        json_object_set_new(lo, "macs", json_integer(l->macs));
        json_object_set_new(lo, "utilization", td_json_real(l->utilization));
        json_object_set_new(lo, "dram_bytes", json_integer(l->dram_bytes));
        if (mapping) {
            json_object_set_new(lo, "input_onchip", json_boolean(l->in_onchip));
            json_object_set_new(lo, "output_onchip", json_boolean(l->out_onchip));
            if (l->unit == HW_UNIT_ARRAY) {
                json_t *gm = json_object();
                json_object_set_new(gm, "m", json_integer(l->gemm_m));
                json_object_set_new(gm, "k", json_integer(l->gemm_k));
                json_object_set_new(gm, "n", json_integer(l->gemm_n));
                json_object_set_new(gm, "groups", json_integer(l->groups));
                json_object_set_new(lo, "gemm", gm);
                json_t *tl = json_object();
                json_object_set_new(tl, "m", json_integer(l->tile_m));
                json_object_set_new(tl, "k", json_integer(l->tile_k));
                json_object_set_new(tl, "n", json_integer(l->tile_n));
                json_object_set_new(lo, "tile", tl);
                json_t *fo = json_object();
                json_object_set_new(fo, "m", json_integer(l->folds_m));
                json_object_set_new(fo, "k", json_integer(l->folds_k));
                json_object_set_new(fo, "n", json_integer(l->folds_n));
                json_object_set_new(lo, "folds", fo);
                json_object_set_new(lo, "commands", json_integer(l->commands));
                json_object_set_new(lo, "loop_order", json_string(hw_loop_name(l->loop)));
            }
        }
        json_array_append_new(la, lo);
    }
    json_object_set_new(o, "layers", la);
    json_object_set_new(o, "fused", fused);
    return o;
}

void hw_result_print(const hw_result *r, const nn_graph *g, const hw_config *cfg, bool mapping,
                     FILE *fp)
{
    fprintf(fp,
            "network %s on %s: %dx%d %s, %d-bit (acc %d), L1 %d/%d/%d KiB, L2 %d KiB, "
            "%g GB/s, %g MHz, %d lanes, %d nm\n",
            g->name, cfg->name, cfg->rows, cfg->cols, hw_dataflow_name(cfg->dataflow), cfg->bits,
            cfg->acc_bits, cfg->l1_input_kib, cfg->l1_weight_kib, cfg->l1_acc_kib, cfg->l2_kib,
            cfg->dram_gbps, cfg->clock_mhz, cfg->vector_lanes, cfg->tech_nm);
    if (mapping) {
        fprintf(fp, "%-14s %-6s %-22s %-14s %-12s %-13s %10s %10s %9s %9s %-7s %6s %9s\n", "layer",
                "unit", "gemm MxKxN xG", "tile MxKxN", "folds m/k/n", "loop", "compute", "memory",
                "vector", "cycles", "bound", "util", "energy_uJ");
        for (size_t i = 0; i < r->n_layers; i++) {
            const hw_layer_result *l = &r->layers[i];
            const nn_node *n = &g->nodes[l->node];
            if (l->unit == HW_UNIT_NONE)
                continue;
            if (l->unit == HW_UNIT_FUSED && l->cycles == 0) {
                fprintf(fp, "%-14.14s %-6s (fused into the requantization of its producer)\n",
                        n->name, "fused");
                continue;
            }
            char gm[40] = "-", tl[40] = "-", fo[40] = "-";
            if (l->unit == HW_UNIT_ARRAY) {
                snprintf(gm, sizeof gm, "%lldx%lldx%lld x%lld", (long long)l->gemm_m,
                         (long long)l->gemm_k, (long long)l->gemm_n, (long long)l->groups);
                snprintf(tl, sizeof tl, "%lldx%lldx%lld", (long long)l->tile_m,
                         (long long)l->tile_k, (long long)l->tile_n);
                snprintf(fo, sizeof fo, "%lld/%lld/%lld", (long long)l->folds_m,
                         (long long)l->folds_k, (long long)l->folds_n);
            }
            fprintf(fp,
                    "%-14.14s %-6s %-22s %-14s %-12s %-13s %10lld %10lld %9lld %9lld %-7s "
                    "%5.1f%% %9.4f\n",
                    n->name, hw_unit_name(l->unit), gm, tl, fo, hw_loop_name(l->loop),
                    (long long)l->compute_cycles, (long long)l->memory_cycles,
                    (long long)l->vector_cycles, (long long)l->cycles, hw_bound_name(l->bound),
                    100.0 * l->utilization, l->energy_uj);
        }
    }
    fprintf(fp, "latency %.6g ms (%lld cycles), %.6g inferences/s\n", r->latency_ms,
            (long long)r->cycles, r->inferences_per_s);
    fprintf(fp, "energy %.6g uJ/inference, power %.6g mW (leakage %.6g mW), area %.6g mm^2\n",
            r->energy_uj, r->power_mw, r->leakage_mw, r->area_mm2);
    fprintf(fp,
            "peak %.6g TOPS, effective %.6g TOPS, utilization %.2f%%, %lld MACs, "
            "%lld DRAM bytes\n",
            r->peak_tops, r->effective_tops, 100.0 * r->utilization, (long long)r->macs,
            (long long)r->dram_bytes);
    if (r->tech) {
        const hw_tech_table *t = r->tech;
        const double fmax = hw_tech_pe_fmax_mhz(t, (int)cfg->dataflow, cfg->bits, cfg->tech_nm);
        char fb[64];
        if (fmax > 0)
            snprintf(fb, sizeof fb, "PE fmax %.4g MHz", fmax);
        else
            snprintf(fb, sizeof fb, "no PE fmax (clock not checked)");
        fprintf(fp, "technology: %s table, %s; %s\n", t->calibrated ? "calibrated" : "published",
                t->origin, fb);
        json_t *pv = hw_provenance_to_json(cfg, t);
        json_t *org = json_object_get(pv, "origins");
        const char *gk;
        json_t *gv;
        json_object_foreach(org, gk, gv)
        {
            fprintf(fp, "  %s from:", strcmp(gk, "energy_breakdown") == 0 ? "energy" : "area");
            const char *k;
            json_t *v;
            json_object_foreach(gv, k, v)
            {
                fprintf(fp, " %s %s;", k, json_string_value(v));
            }
            fputc('\n', fp);
        }
        json_decref(pv);
    }
    if (r->violations.n == 0)
        fprintf(fp, "feasible: no constraint violations\n");
    for (size_t i = 0; i < r->violations.n; i++) {
        char msg[256];
        hw_violation_format(&r->violations.v[i], cfg, msg, sizeof msg);
        fprintf(fp, "violation: %s\n", msg);
    }
}
