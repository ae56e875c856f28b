#include "rtl_program.h"

#include <stdlib.h>
#include <string.h>

/* ---- hardware parameters ---- */

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t cdiv(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

td_status rtl_hw_check(const rtl_hw *hw)
{
    if (hw->rows < 1 || hw->rows > 64)
        return td_fail(TD_ERR_CONFIG, "rtl hw: rows %d outside [1, 64]", hw->rows);
    if (hw->cols < 1 || hw->cols > 64)
        return td_fail(TD_ERR_CONFIG, "rtl hw: cols %d outside [1, 64]", hw->cols);
    if (hw->bits != 4 && hw->bits != 8 && hw->bits != 16 && hw->bits != 32)
        return td_fail(TD_ERR_CONFIG, "rtl hw: bits %d is not 4, 8, 16 or 32", hw->bits);
    int32_t acc_max = 96; /* any width from the exact product up: the search space's 64/80 */
    if (hw->acc_bits < 2 * hw->bits || hw->acc_bits > acc_max)
        return td_fail(TD_ERR_CONFIG, "rtl hw: acc_bits %d outside [%d, %d] for bits %d",
                       hw->acc_bits, 2 * hw->bits, acc_max, hw->bits);
    if (hw->dataflow != HW_DATAFLOW_WS && hw->dataflow != HW_DATAFLOW_OS)
        return td_fail(TD_ERR_CONFIG, "rtl hw: dataflow %d is neither WS nor OS",
                       (int)hw->dataflow);
    const struct {
        const char *name;
        int64_t v;
    } depth[] = {{"x_depth", hw->x_depth},
                 {"w_depth", hw->w_depth},
                 {"acc_depth", hw->acc_depth},
                 {"out_depth", hw->out_depth}};
    for (size_t i = 0; i < sizeof depth / sizeof depth[0]; i++)
        if (depth[i].v < 2 || depth[i].v > 65536)
            return td_fail(TD_ERR_CONFIG, "rtl hw: %s %lld outside [2, 65536] lines", depth[i].name,
                           (long long)depth[i].v);
    /* The compiler needs one full weight tile (WS) or one output tile (OS) on chip. */
    if (hw->dataflow == HW_DATAFLOW_WS && hw->w_depth < hw->rows)
        return td_fail(TD_ERR_CONFIG, "rtl hw: w_depth %lld below rows %d (WS preload)",
                       (long long)hw->w_depth, hw->rows);
    if (hw->dataflow == HW_DATAFLOW_OS && (hw->acc_depth < hw->rows || hw->out_depth < hw->rows))
        return td_fail(TD_ERR_CONFIG, "rtl hw: acc_depth and out_depth must hold rows %d (OS)",
                       hw->rows);
    return TD_OK;
}

td_status rtl_hw_from_config(const hw_config *cfg, rtl_hw *out)
{
    rtl_hw hw;
    hw.rows = cfg->rows;
    hw.cols = cfg->cols;
    hw.bits = cfg->bits;
    hw.acc_bits = cfg->acc_bits;
    hw.dataflow = cfg->dataflow;
    hw.x_depth = hw_timing_l1_lines(cfg->l1_input_kib, (int64_t)cfg->rows * cfg->bits);
    hw.w_depth = hw_timing_l1_lines(cfg->l1_weight_kib, (int64_t)cfg->cols * cfg->bits);
    hw.acc_depth = hw_timing_l1_lines(cfg->l1_acc_kib, (int64_t)cfg->cols * cfg->acc_bits);
    hw.out_depth = hw.acc_depth;
    td_status st = rtl_hw_check(&hw);
    if (st != TD_OK)
        return td_fail_context(st, "accelerator '%s': ", cfg->name);
    *out = hw;
    return TD_OK;
}

int32_t rtl_hw_mem_bits(const rtl_hw *hw)
{
    int32_t dim = hw->rows > hw->cols ? hw->rows : hw->cols;
    int32_t line = dim * hw->bits, param = hw->acc_bits + 39;
    return line > param ? line : param;
}

/* ---- commands ---- */

static const char *const op_names[RTL_OP_COUNT] = {
    "NOP",     "LD_X", "LD_W",  "LD_P", "PRELOAD", "COMPUTE", "DRAIN",
    "REQUANT", "POOL", "STORE", "HOST", "ADD_CFG", "ADD"};

static const char *const host_names[RTL_HOST_KIND_COUNT] = {"im2col", "scatter", "transpose"};

const char *rtl_host_kind_name(int kind)
{
    return kind >= 0 && kind < RTL_HOST_KIND_COUNT ? host_names[kind] : "?";
}

const char *rtl_opcode_name(int op)
{
    return op >= 0 && op < RTL_OP_COUNT ? op_names[op] : "?";
}

void rtl_cmd_pack(const rtl_cmd *c, uint32_t w[RTL_CMD_WORDS])
{
    /* op[3:0] flags[7:4] a[23:8] b[39:24] n[55:40] t[71:56] x[103:72] */
    w[0] = (uint32_t)(c->op & 0xF) | (uint32_t)(c->flags & 0xF) << 4 | (uint32_t)c->a << 8 |
           (uint32_t)(c->b & 0xFF) << 24;
    w[1] = (uint32_t)(c->b >> 8) | (uint32_t)c->n << 8 | (uint32_t)(c->t & 0xFF) << 24;
    w[2] = (uint32_t)(c->t >> 8) | (c->x & 0xFFFFFF) << 8;
    w[3] = c->x >> 24;
}

td_status rtl_cmd_unpack(const uint32_t w[RTL_CMD_WORDS], rtl_cmd *c)
{
    c->op = w[0] & 0xF;
    c->flags = (w[0] >> 4) & 0xF;
    c->a = (uint16_t)(w[0] >> 8);
    c->b = (uint16_t)((w[0] >> 24) | (w[1] & 0xFF) << 8);
    c->n = (uint16_t)(w[1] >> 8);
    c->t = (uint16_t)((w[1] >> 24) | (w[2] & 0xFF) << 8);
    c->x = (w[2] >> 8) | (w[3] & 0xFF) << 24;
    if (c->op >= RTL_OP_COUNT)
        return td_fail(TD_ERR_FORMAT, "tile command: unknown opcode %u", c->op);
    if (w[3] >> 8)
        return td_fail(TD_ERR_FORMAT, "tile command: reserved bits [127:104] are 0x%06x, not 0",
                       w[3] >> 8);
    return TD_OK;
}

rtl_cmd rtl_cmd_compute_ws(uint16_t x_line, uint16_t acc_line, uint16_t m_t, uint16_t n_t,
                           bool accumulate, bool preload, uint16_t w_line, uint16_t k_t)
{
    rtl_cmd c = {.op = RTL_OP_COMPUTE, .a = x_line, .b = acc_line, .n = m_t, .t = n_t};
    c.flags = (uint8_t)((accumulate ? RTL_FLAG_ACC : 0) | (preload ? RTL_FLAG_FUSE : 0));
    c.x = (uint32_t)k_t << 16 | w_line;
    return c;
}

rtl_cmd rtl_cmd_compute_os(uint16_t x_line, uint16_t w_line, uint16_t k_t, uint16_t n_t, bool clear,
                           bool drain, uint16_t acc_line, uint16_t m_t, bool accumulate)
{
    rtl_cmd c = {.op = RTL_OP_COMPUTE, .a = x_line, .b = w_line, .n = k_t, .t = n_t};
    c.flags = (uint8_t)((clear ? RTL_FLAG_CLEAR : 0) | (drain ? RTL_FLAG_FUSE : 0) |
                        (accumulate ? RTL_FLAG_ACC : 0));
    c.x = (uint32_t)m_t << 16 | acc_line;
    return c;
}

rtl_cmd rtl_cmd_add_cfg(uint32_t mult_a, uint32_t mult_b, int32_t shift)
{
    rtl_cmd c = {.op = RTL_OP_ADD_CFG,
                 .a = (uint16_t)(mult_b & 0xFFFF),
                 .b = (uint16_t)(mult_b >> 16),
                 .n = (uint16_t)shift,
                 .x = mult_a};
    return c;
}

rtl_cmd rtl_cmd_add(uint16_t a_line, uint16_t b_line, uint16_t out_line, uint16_t n, bool relu,
                    int64_t hi)
{
    rtl_cmd c = {.op = RTL_OP_ADD,
                 .flags = relu ? RTL_FLAG_RELU : 0,
                 .a = a_line,
                 .b = b_line,
                 .n = n,
                 .t = out_line,
                 .x = (uint32_t)hi};
    return c;
}

int64_t rtl_cmd_cycles(const rtl_hw *hw, const rtl_cmd *c)
{
    const int64_t oh = hw_timing_cmd_overhead_cycles();
    const bool ws = hw->dataflow == HW_DATAFLOW_WS;
    switch (c->op) {
    case RTL_OP_LD_X:
    case RTL_OP_LD_W:
    case RTL_OP_LD_P:
    case RTL_OP_STORE:
        return c->n == 0 ? oh : -1;
    case RTL_OP_HOST:
        return -1;
    case RTL_OP_PRELOAD: /* n = k_t */
        return ws ? oh + hw_timing_ws_preload_cycles(c->n) : oh;
    case RTL_OP_COMPUTE: { /* x[31:16] = k_t (WS) or m_t (OS), t = n_t: the tile's size */
        const int64_t kt_mt = c->x >> 16;
        if (ws)
            return oh + ((c->flags & RTL_FLAG_FUSE) ? hw_timing_ws_preload_cycles(kt_mt) : 0) +
                   hw_timing_ws_stream_cycles(kt_mt, c->t, c->n);
        return oh + hw_timing_os_stream_cycles(kt_mt, c->t, c->n) +
               ((c->flags & RTL_FLAG_FUSE) ? hw_timing_os_drain_cycles(kt_mt) : 0);
    }
    case RTL_OP_DRAIN: /* n = m_t */
        return ws ? oh : oh + hw_timing_os_drain_cycles(c->n);
    case RTL_OP_REQUANT:
        return hw_timing_requant_cycles(c->n); /* acc read, vector-unit register, output write */
    case RTL_OP_ADD:
        return hw_timing_add_cycles(c->n);
    case RTL_OP_POOL: /* one read per window element, then the last write */
        return hw_timing_pool_cycles((int64_t)c->t * (c->x & 0xFFFF), (c->x >> 16) & 0xFF);
    default:
        return oh; /* NOP and unknown opcodes (the core sets its error flag) */
    }
}

/* ---- external memory image ---- */

td_status rtl_mem_init(rtl_mem *m, int32_t word_bits)
{
    memset(m, 0, sizeof *m);
    if (word_bits < 1)
        return td_fail(TD_ERR_CONFIG, "rtl memory: word width %d bits", word_bits);
    m->limbs = (word_bits + 31) / 32;
    return TD_OK;
}

void rtl_mem_free(rtl_mem *m)
{
    free(m->data);
    memset(m, 0, sizeof *m);
}

td_status rtl_mem_copy(rtl_mem *dst, const rtl_mem *src)
{
    *dst = *src;
    dst->data = NULL;
    dst->cap = 0;
    if (src->n_words == 0)
        return TD_OK;
    size_t bytes = (size_t)src->n_words * (size_t)src->limbs * sizeof(uint32_t);
    dst->data = malloc(bytes);
    if (!dst->data)
        return td_fail(TD_ERR_NOMEM, "rtl memory: cannot copy %zu bytes", bytes);
    memcpy(dst->data, src->data, bytes);
    dst->cap = src->n_words;
    return TD_OK;
}

td_status rtl_mem_alloc(rtl_mem *m, int64_t n, int64_t *base)
{
    if (n < 0 || m->n_words + n > ((int64_t)1 << 32))
        return td_fail(TD_ERR_CONFIG, "rtl memory: %lld more words exceed the 32-bit address space",
                       (long long)n);
    if (m->n_words + n > m->cap) {
        int64_t cap = max64(m->n_words + n, 2 * m->cap + 64);
        uint32_t *d = realloc(m->data, (size_t)cap * (size_t)m->limbs * sizeof(uint32_t));
        if (!d)
            return td_fail(TD_ERR_NOMEM, "rtl memory: cannot grow to %lld words", (long long)cap);
        m->data = d;
        m->cap = cap;
    }
    memset(m->data + (size_t)m->n_words * (size_t)m->limbs, 0,
           (size_t)n * (size_t)m->limbs * sizeof(uint32_t));
    *base = m->n_words;
    m->n_words += n;
    return TD_OK;
}

void rtl_mem_set(rtl_mem *m, int64_t addr, int32_t lsb, int32_t width, int64_t v)
{
    uint32_t *w = m->data + (size_t)addr * (size_t)m->limbs;
    for (int32_t i = 0; i < width; i++) {
        int32_t bit = lsb + i;
        uint32_t b = i < 64 ? (uint32_t)((uint64_t)v >> i) & 1u : (uint32_t)(v < 0);
        w[bit / 32] = (w[bit / 32] & ~(1u << (bit % 32))) | b << (bit % 32);
    }
}

int64_t rtl_mem_get(const rtl_mem *m, int64_t addr, int32_t lsb, int32_t width, bool is_signed)
{
    const uint32_t *w = m->data + (size_t)addr * (size_t)m->limbs;
    uint64_t v = 0;
    for (int32_t i = 0; i < width; i++) {
        int32_t bit = lsb + i;
        v |= (uint64_t)((w[bit / 32] >> (bit % 32)) & 1u) << i;
    }
    if (is_signed && width < 64 && (v >> (width - 1)) & 1u)
        v |= ~(uint64_t)0 << width;
    return (int64_t)v;
}

/* ---- programs ---- */

td_status rtl_program_init(rtl_program *p, const rtl_hw *hw)
{
    memset(p, 0, sizeof *p);
    td_status st = rtl_hw_check(hw);
    if (st != TD_OK)
        return st;
    p->hw = *hw;
    return rtl_mem_init(&p->mem, rtl_hw_mem_bits(hw));
}

void rtl_program_free(rtl_program *p)
{
    free(p->cmds);
    free(p->host);
    free(p->x_ranges);
    rtl_mem_free(&p->mem);
    memset(p, 0, sizeof *p);
}

td_status rtl_program_emit(rtl_program *p, rtl_cmd c)
{
    if (p->n_cmds == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        rtl_cmd *d = realloc(p->cmds, cap * sizeof *d);
        if (!d)
            return td_fail(TD_ERR_NOMEM, "rtl program: cannot grow to %zu commands", cap);
        p->cmds = d;
        p->cap = cap;
    }
    p->cmds[p->n_cmds++] = c;
    return TD_OK;
}

td_status rtl_program_emit_host(rtl_program *p, const rtl_host_op *op)
{
    if (p->n_host == p->host_cap) {
        size_t cap = p->host_cap ? 2 * p->host_cap : 16;
        rtl_host_op *d = realloc(p->host, cap * sizeof *d);
        if (!d)
            return td_fail(TD_ERR_NOMEM, "rtl program: cannot grow to %zu host steps", cap);
        p->host = d;
        p->host_cap = cap;
    }
    p->host[p->n_host] = *op;
    rtl_cmd c = {.op = RTL_OP_HOST, .x = (uint32_t)p->n_host};
    p->n_host++;
    return rtl_program_emit(p, c);
}

/* SCATTER and TRANSPOSE (layout only). */
static td_status host_move(const rtl_program *p, const rtl_host_op *op, rtl_mem *mem)
{
    const int64_t C = p->hw.cols, b = p->hw.bits, HW = op->h * op->w;
    const bool tr = op->kind == RTL_HOST_TRANSPOSE;
    int64_t last_src = op->src + cdiv(op->c, C) * HW - 1;
    int64_t last_dst =
        tr ? op->dst + cdiv(HW, C) * op->c - 1 : op->dst + cdiv(op->c0 + op->c, C) * HW - 1;
    if (op->src < 0 || op->dst < 0 || op->c0 < 0 || last_src >= mem->n_words ||
        last_dst >= mem->n_words)
        return td_fail(TD_ERR_CONFIG, "rtl program: %s step reaches beyond memory word %lld",
                       rtl_host_kind_name(op->kind), (long long)mem->n_words);
    for (int64_t ch = 0; ch < op->c; ch++)
        for (int64_t px = 0; px < HW; px++) {
            int64_t v = rtl_mem_get(mem, op->src + (ch / C) * HW + px, (int32_t)((ch % C) * b),
                                    (int32_t)b, true);
            int64_t och = tr ? px : op->c0 + ch, opx = tr ? ch : px, ohw = tr ? op->c : HW;
            rtl_mem_set(mem, op->dst + (och / C) * ohw + opx, (int32_t)((och % C) * b), (int32_t)b,
                        v);
        }
    return TD_OK;
}

/* im2col gather: X[m][k] of the convolution read from the line layout at op->src */
typedef struct im2col_ctx {
    const rtl_host_op *op;
    rtl_mem *mem;
    int64_t cols, bits, ow;
} im2col_ctx;

static void put_im2col(void *vctx, int64_t m, int64_t k, int64_t line, int32_t lane)
{
    const im2col_ctx *c = vctx;
    const rtl_host_op *op = c->op;
    const int64_t C = c->cols, b = c->bits, oy = m / c->ow, ox = m % c->ow;
    const int64_t ci = k / (op->k_h * op->k_w), ky = (k / op->k_w) % op->k_h, kx = k % op->k_w;
    const int64_t iy = oy * op->stride + ky - op->pad, ix = ox * op->stride + kx - op->pad;
    const int64_t ch = op->c0 + ci;
    int64_t v = 0;
    if (iy >= 0 && iy < op->h && ix >= 0 && ix < op->w)
        v = rtl_mem_get(c->mem, op->src + (ch / C) * op->h * op->w + iy * op->w + ix,
                        (int32_t)((ch % C) * b), (int32_t)b, true);
    rtl_mem_set(c->mem, op->dst + line, lane * (int32_t)b, (int32_t)b, v);
}

td_status rtl_host_op_execute(const rtl_program *p, const rtl_host_op *op, rtl_mem *mem)
{
    const rtl_hw *hw = &p->hw;
    const int64_t C = hw->cols, b = hw->bits;
    if (op->kind == RTL_HOST_SCATTER || op->kind == RTL_HOST_TRANSPOSE)
        return host_move(p, op, mem);
    if (op->kind != RTL_HOST_IM2COL)
        return td_fail(TD_ERR_FORMAT, "rtl program: unknown host step kind %d", (int)op->kind);
    const int64_t oh = (op->h + 2 * op->pad - op->k_h) / op->stride + 1;
    const int64_t ow = (op->w + 2 * op->pad - op->k_w) / op->stride + 1;
    const int64_t M = oh * ow, K = op->c * op->k_h * op->k_w;
    if (op->xr_n < 0 || op->xr_first < 0 || op->xr_first + op->xr_n > p->n_x_ranges)
        return td_fail(TD_ERR_CONFIG,
                       "rtl program: im2col step names X row ranges [%lld, %lld) "
                       "of %lld",
                       (long long)op->xr_first, (long long)(op->xr_first + op->xr_n),
                       (long long)p->n_x_ranges);
    rtl_x_layout xl;
    td_status st = rtl_x_layout_from_ranges(
        &xl, hw, M, K, op->xr_n ? p->x_ranges + 2 * op->xr_first : NULL, op->xr_n);
    if (st != TD_OK)
        return st;
    int64_t last_src = op->src + cdiv(op->c0 + op->c, C) * op->h * op->w - 1;
    int64_t last_dst = op->dst + xl.lines - 1;
    if (op->src < 0 || op->dst < 0 || op->c0 < 0 || last_src >= mem->n_words ||
        last_dst >= mem->n_words) {
        rtl_x_layout_free(&xl);
        return td_fail(TD_ERR_CONFIG, "rtl program: im2col step reaches beyond memory word %lld",
                       (long long)mem->n_words);
    }
    im2col_ctx ctx = {op, mem, C, b, ow};
    rtl_x_layout_place(&xl, put_im2col, &ctx);
    rtl_x_layout_free(&xl);
    return TD_OK;
}

int64_t rtl_program_compute_cycles(const rtl_program *p)
{
    int64_t sum = 0;
    for (size_t i = 0; i < p->n_cmds; i++) {
        int64_t c = rtl_cmd_cycles(&p->hw, &p->cmds[i]);
        if (c > 0)
            sum += c;
    }
    return sum;
}

static td_status emit_mem(rtl_program *p, rtl_opcode op, int64_t line, int64_t n, int64_t ext)
{
    rtl_cmd c = {.op = (uint8_t)op, .a = (uint16_t)line, .n = (uint16_t)n, .x = (uint32_t)ext};
    return rtl_program_emit(p, c);
}

static td_status check_value(int64_t v, int bits, const char *what, int64_t i)
{
    if (v < nn_qmin(bits) || v > nn_qmax(bits))
        return td_fail(TD_ERR_CONFIG, "rtl gemm: %s[%lld] = %lld does not fit %d-bit signed", what,
                       (long long)i, (long long)v, bits);
    return TD_OK;
}

/* Checks the operands of a GEMM against the core. */
static td_status gemm_check_ops(const rtl_hw *hw, int64_t M, int64_t K, int64_t N, const int32_t *x,
                                const int32_t *w, const int64_t *bias, const nn_requant *rq,
                                int64_t lo, int64_t hi)
{
    const int b = hw->bits;
    if (M < 1 || K < 1 || N < 1)
        return td_fail(TD_ERR_CONFIG, "rtl gemm: shape %lldx%lldx%lld has an empty dimension",
                       (long long)M, (long long)K, (long long)N);
    if (M > 65535 * 16 || K > 65535 * 16)
        return td_fail(TD_ERR_CONFIG, "rtl gemm: m %lld or k %lld too large", (long long)M,
                       (long long)K);
    int need = nn_acc_bits_needed(b, K) - 1; /* the bias is added in the vector unit */
    if (need > hw->acc_bits && w) {
        /* The weights at hand may need fewer: |sum_k x w| <= 2^(b-1) K max|w| (a global
         * average pool's all-ones weights: b + bitlen(K) bits, not 2b - 1 + log2 K). */
        int64_t w_max = 0;
        for (int64_t i = 0; i < K * N; i++) {
            int64_t a = w[i] < 0 ? -(int64_t)w[i] : w[i];
            w_max = a > w_max ? a : w_max;
        }
        int len = 0;
        while (len < 62 && ((int64_t)1 << len) <= K * w_max)
            len++;
        if (b + len < need)
            need = b + len; /* 2^(b-1) K max|w| < 2^(b-1+len): fits b + len signed bits */
    }
    if (need > hw->acc_bits)
        return td_fail(TD_ERR_INFEASIBLE,
                       "rtl gemm: k = %lld needs %d accumulator bits at %d-bit operands, the "
                       "core has %d",
                       (long long)K, need, b, hw->acc_bits);
    if (lo != 0 && lo != nn_qmin(b))
        return td_fail(TD_ERR_CONFIG, "rtl gemm: lower clamp %lld is neither 0 nor %lld",
                       (long long)lo, (long long)nn_qmin(b));
    if (hi < 0 || hi > nn_qmax(b))
        return td_fail(TD_ERR_CONFIG, "rtl gemm: upper clamp %lld outside [0, %lld]", (long long)hi,
                       (long long)nn_qmax(b));
    for (int64_t i = 0; x && i < M * K; i++)
        if (check_value(x[i], b, "x", i) != TD_OK)
            return TD_ERR_CONFIG;
    for (int64_t i = 0; i < K * N; i++)
        if (check_value(w[i], b, "w", i) != TD_OK)
            return TD_ERR_CONFIG;
    for (int64_t j = 0; j < N; j++) {
        if (rq[j].shift < 1 || rq[j].shift > 126)
            return td_fail(TD_ERR_CONFIG, "rtl gemm: column %lld shift %d outside [1, 126]",
                           (long long)j, rq[j].shift);
        if (bias && hw->acc_bits < 64) {
            int64_t lim = (int64_t)1 << (hw->acc_bits - 1);
            if (bias[j] < -lim || bias[j] >= lim)
                return td_fail(TD_ERR_CONFIG, "rtl gemm: bias[%lld] = %lld does not fit %d bits",
                               (long long)j, (long long)bias[j], hw->acc_bits);
        }
    }
    return TD_OK;
}

td_status rtl_gemm_check(const rtl_hw *hw, const rtl_gemm *g)
{
    return gemm_check_ops(hw, g->m, g->k, g->n, g->x, g->w, g->bias, g->rq, g->lo, g->hi);
}

td_status rtl_program_place_weights(rtl_program *p, int64_t K, int64_t N, const int32_t *w,
                                    bool w_is_nk, const int64_t *bias, const nn_requant *rq,
                                    int64_t *w_addr, int64_t *p_addr)
{
    const rtl_hw *hw = &p->hw;
    const int64_t C = hw->cols, b = hw->bits, fn = cdiv(N, C);
    td_status st = rtl_mem_alloc(&p->mem, fn * K, w_addr);
    if (st == TD_OK)
        st = rtl_mem_alloc(&p->mem, fn * C, p_addr);
    if (st != TD_OK)
        return st;
    for (int64_t k = 0; k < K; k++)
        for (int64_t n = 0; n < N; n++)
            rtl_mem_set(&p->mem, *w_addr + (n / C) * K + k, (int32_t)((n % C) * b), (int32_t)b,
                        w_is_nk ? w[n * K + k] : w[k * N + n]);
    for (int64_t n = 0; n < N; n++) {
        int64_t addr = *p_addr + n;
        rtl_mem_set(&p->mem, addr, 0, hw->acc_bits, bias ? bias[n] : 0);
        rtl_mem_set(&p->mem, addr, hw->acc_bits, 32, (int64_t)rq[n].mult);
        rtl_mem_set(&p->mem, addr, hw->acc_bits + 32, 7, rq[n].shift);
    }
    return TD_OK;
}

/* Rows [m_lo, m_hi) of output column tile j (n_t columns): the array commands, REQUANT into
 * output lines [ob0 + m - m_lo) and, unless pooling, STORE to Y. */
static td_status x_layout_add_range(rtl_x_layout *xl, int64_t lo, int64_t hi);

static td_status emit_gemm_rows(rtl_program *p, const rtl_gemm_plan *g, int64_t j, int64_t n_t,
                                int64_t m_lo, int64_t m_hi, int64_t ob0, bool pool, int64_t *x_line,
                                rtl_x_layout *rec)
{
    const rtl_hw *hw = &p->hw;
    const int64_t M = g->m, K = g->k, R = hw->rows;
    const uint8_t rq_flags = g->lo == 0 ? RTL_FLAG_RELU : 0;
    td_status st = TD_OK;
    if (hw->dataflow == HW_DATAFLOW_WS) {
        const int64_t mc_max = hw_timing_ws_m_tile_max(hw->x_depth, hw->acc_depth, hw->out_depth);
        for (int64_t m0 = m_lo; m0 < m_hi && st == TD_OK; m0 += mc_max) {
            const int64_t mc = min64(mc_max, m_hi - m0);
            for (int64_t kt = 0; kt * R < K && st == TD_OK; kt++) {
                const int64_t k_t = min64(R, K - kt * R);
                st = emit_mem(p, RTL_OP_LD_W, 0, k_t, g->w_addr + j * K + kt * R);
                if (st == TD_OK)
                    st = emit_mem(p, RTL_OP_LD_X, 0, mc, g->x_addr + kt * M + m0);
                if (st == TD_OK)
                    st = rtl_program_emit(p, rtl_cmd_compute_ws(0, 0, (uint16_t)mc, (uint16_t)n_t,
                                                                kt > 0, true, 0, (uint16_t)k_t));
            }
            rtl_cmd rq = {.op = RTL_OP_REQUANT,
                          .flags = rq_flags,
                          .a = 0,
                          .b = (uint16_t)(pool ? ob0 + m0 - m_lo : 0),
                          .n = (uint16_t)mc,
                          .x = (uint32_t)g->hi};
            if (st == TD_OK)
                st = rtl_program_emit(p, rq);
            if (st == TD_OK && !pool)
                st = emit_mem(p, RTL_OP_STORE, 0, mc, g->y_addr + j * M + m0);
        }
        return st;
    }
    /* OS: tiles of R rows from the range's own first row, whose X the layout holds at
     * *x_line on (rtl_x_layout: one range per call, in this order) */
    if (rec && j == 0 && (st = x_layout_add_range(rec, m_lo, m_hi)) != TD_OK)
        return st;
    const int64_t kc_max = hw_timing_os_k_chunk_max(hw->x_depth, hw->w_depth);
    const int64_t tiles = cdiv(m_hi - m_lo, R), x0 = *x_line;
    *x_line += tiles * K;
    for (int64_t t = 0; t < tiles && st == TD_OK; t++) {
        const int64_t r0 = m_lo + t * R, m_t = min64(R, m_hi - r0);
        for (int64_t k0 = 0; k0 < K && st == TD_OK; k0 += kc_max) {
            const int64_t kc = min64(kc_max, K - k0);
            st = emit_mem(p, RTL_OP_LD_X, 0, kc, g->x_addr + x0 + t * K + k0);
            if (st == TD_OK)
                st = emit_mem(p, RTL_OP_LD_W, 0, kc, g->w_addr + j * K + k0);
            if (st == TD_OK)
                st = rtl_program_emit(p,
                                      rtl_cmd_compute_os(0, 0, (uint16_t)kc, (uint16_t)n_t, k0 == 0,
                                                         k0 + kc == K, 0, (uint16_t)m_t, false));
        }
        rtl_cmd rq = {.op = RTL_OP_REQUANT,
                      .flags = rq_flags,
                      .a = 0,
                      .b = (uint16_t)(pool ? ob0 + r0 - m_lo : 0),
                      .n = (uint16_t)m_t,
                      .x = (uint32_t)g->hi};
        if (st == TD_OK)
            st = rtl_program_emit(p, rq);
        if (st == TD_OK && !pool)
            st = emit_mem(p, RTL_OP_STORE, 0, m_t, g->y_addr + j * M + r0);
    }
    return st;
}

bool rtl_pool_strips_plan(int64_t pool_k, int64_t pool_s, int64_t map_h, int64_t map_w,
                          int64_t out_depth, rtl_pool_strips *ps)
{
    const int64_t ph = (map_h - pool_k) / pool_s + 1, pw = (map_w - pool_k) / pool_s + 1;
    const int64_t room = min64(out_depth, 65536);
    memset(ps, 0, sizeof *ps);
    ps->ph = ph;
    ps->pw = pw;
    for (ps->cols = pw; ps->cols > 0; ps->cols--)
        if (pool_k * ((ps->cols - 1) * pool_s + pool_k) + ps->cols <= room)
            break;
    if (ps->cols < 1)
        return false;
    const int64_t sw = (ps->cols - 1) * pool_s + pool_k;
    for (ps->rows = ph; ps->rows > 1; ps->rows--)
        if (((ps->rows - 1) * pool_s + pool_k) * sw + ps->rows * ps->cols <= room)
            break;
    return true;
}

/* Column strips of a fused max-pool (docs/rtl.md): per strip of ps->cols pooled columns and
 * band of ps->rows pooled rows, the strip's segment of each map row its windows read is
 * computed and REQUANTed into output lines (row - r0) * strip width + column, then one POOL of
 * the band and one STORE per pooled row of the strip. */
static td_status emit_pool_strips(rtl_program *p, const rtl_gemm_plan *g, const rtl_pool_strips *ps,
                                  int64_t j, int64_t n_t, rtl_x_layout *rec)
{
    int64_t x_line = 0;
    const int64_t pk = g->pool_k, s = g->pool_s, mw = g->map_w;
    td_status st = TD_OK;
    for (int64_t px0 = 0; px0 < ps->pw && st == TD_OK; px0 += ps->cols) {
        const int64_t pc = min64(ps->cols, ps->pw - px0);
        const int64_t c0 = px0 * s, sw = (pc - 1) * s + pk;
        for (int64_t py0 = 0; py0 < ps->ph && st == TD_OK; py0 += ps->rows) {
            const int64_t py1 = min64(ps->ph, py0 + ps->rows);
            const int64_t r0 = py0 * s, r1 = (py1 - 1) * s + pk, mb = (r1 - r0) * sw;
            for (int64_t r = r0; r < r1 && st == TD_OK; r++)
                st = emit_gemm_rows(p, g, j, n_t, r * mw + c0, r * mw + c0 + sw, (r - r0) * sw,
                                    true, &x_line, rec);
            rtl_cmd pc_cmd = {.op = RTL_OP_POOL,
                              .a = 0,
                              .b = (uint16_t)mb,
                              .n = (uint16_t)sw,
                              .t = (uint16_t)(py1 - py0),
                              .x = (uint32_t)pc | (uint32_t)pk << 16 | (uint32_t)s << 24};
            if (st == TD_OK)
                st = rtl_program_emit(p, pc_cmd);
            for (int64_t py = py0; py < py1 && st == TD_OK; py++)
                st = emit_mem(p, RTL_OP_STORE, mb + (py - py0) * pc, pc,
                              g->y_addr + j * ps->ph * ps->pw + py * ps->pw + px0);
        }
    }
    return st;
}

/* rtl_program_emit_gemm; with rec, the OS row ranges are recorded too (rtl_x_layout_init). */
static td_status emit_gemm(rtl_program *p, const rtl_gemm_plan *g, rtl_x_layout *rec)
{
    const rtl_hw *hw = &p->hw;
    const int64_t M = g->m, N = g->n, C = hw->cols;
    const int64_t fn = cdiv(N, C);
    const bool pool = g->pool_k > 0;
    int64_t ph = 0, pw = 0, band = 0;
    if (pool) {
        if (g->pool_s < 1 || g->pool_k > 255 || g->pool_s > 255 || g->map_h * g->map_w != M ||
            g->map_h < g->pool_k || g->map_w < g->pool_k)
            return td_fail(TD_ERR_CONFIG,
                           "rtl gemm: max-pool %dx%d stride %d does not fit the "
                           "%lldx%lld map",
                           g->pool_k, g->pool_k, g->pool_s, (long long)g->map_h,
                           (long long)g->map_w);
        ph = (g->map_h - g->pool_k) / g->pool_s + 1;
        pw = (g->map_w - g->pool_k) / g->pool_s + 1;
        /* Pooled rows per band: the band's map rows and its pooled pixels in the output
         * buffer (the whole map when it fits: one band). */
        const int64_t room = min64(hw->out_depth, 65536);
        if (M + ph * pw <= room)
            band = ph;
        else
            for (band = ph; band > 0; band--)
                if (((band - 1) * g->pool_s + g->pool_k) * g->map_w + band * pw <= room)
                    break;
        if (band < 1) {
            /* Not even one pooled row of the whole map width fits: column strips. */
            rtl_pool_strips ps;
            if (!rtl_pool_strips_plan(g->pool_k, g->pool_s, g->map_h, g->map_w, hw->out_depth, &ps))
                return td_fail(TD_ERR_INFEASIBLE,
                               "rtl gemm: the fused max-pool needs %d map rows of %d pixels and "
                               "one pooled pixel in the output buffer (out_depth %lld)",
                               g->pool_k, g->pool_k, (long long)hw->out_depth);
            td_status st = TD_OK;
            for (int64_t j = 0; j < fn && st == TD_OK; j++) {
                const int64_t n_t = min64(C, N - j * C);
                st = emit_mem(p, RTL_OP_LD_P, 0, n_t, g->p_addr + j * C);
                if (st == TD_OK)
                    st = emit_pool_strips(p, g, &ps, j, n_t, rec);
            }
            return st;
        }
    }
    td_status st = TD_OK;
    for (int64_t j = 0; j < fn && st == TD_OK; j++) {
        const int64_t n_t = min64(C, N - j * C);
        int64_t x_line = 0; /* the same X for every column fold */
        st = emit_mem(p, RTL_OP_LD_P, 0, n_t, g->p_addr + j * C);
        if (!pool) {
            if (st == TD_OK)
                st = emit_gemm_rows(p, g, j, n_t, 0, M, 0, false, &x_line, rec);
            continue;
        }
        for (int64_t py0 = 0; py0 < ph && st == TD_OK; py0 += band) {
            const int64_t py1 = min64(ph, py0 + band);
            /* map rows of the band; the last band takes the rows below its windows too */
            const int64_t r0 = py0 * g->pool_s,
                          r1 = py1 == ph ? g->map_h : (py1 - 1) * g->pool_s + g->pool_k;
            const int64_t mb = (r1 - r0) * g->map_w;
            st = emit_gemm_rows(p, g, j, n_t, r0 * g->map_w, r1 * g->map_w, 0, true, &x_line, rec);
            rtl_cmd pc = {.op = RTL_OP_POOL,
                          .a = 0,
                          .b = (uint16_t)mb,
                          .n = (uint16_t)g->map_w,
                          .t = (uint16_t)(py1 - py0),
                          .x =
                              (uint32_t)pw | (uint32_t)g->pool_k << 16 | (uint32_t)g->pool_s << 24};
            if (st == TD_OK)
                st = rtl_program_emit(p, pc);
            if (st == TD_OK)
                st = emit_mem(p, RTL_OP_STORE, mb, (py1 - py0) * pw,
                              g->y_addr + j * ph * pw + py0 * pw);
        }
    }
    return st;
}

td_status rtl_program_emit_gemm(rtl_program *p, const rtl_gemm_plan *g)
{
    return emit_gemm(p, g, NULL);
}

/* ---- the core's X layout (docs/formats.md, "X layout") ---- */

/* Room for `need` (lo, hi) pairs in *pairs (capacity *cap pairs). */
static td_status grow_pairs(int64_t **pairs, int64_t *cap, int64_t need)
{
    if (need <= *cap)
        return TD_OK;
    const int64_t n = max64(need, 2 * *cap + 16);
    int64_t *d = realloc(*pairs, (size_t)n * 2 * sizeof *d);
    if (!d)
        return td_fail(TD_ERR_NOMEM, "rtl X layout: cannot grow to %lld row ranges", (long long)n);
    *pairs = d;
    *cap = n;
    return TD_OK;
}

static td_status x_layout_add_range(rtl_x_layout *xl, int64_t lo, int64_t hi)
{
    td_status st = grow_pairs(&xl->range, &xl->cap, xl->n_ranges + 1);
    if (st != TD_OK)
        return st;
    xl->range[2 * xl->n_ranges] = lo;
    xl->range[2 * xl->n_ranges + 1] = hi;
    xl->n_ranges++;
    return TD_OK;
}

static void x_layout_begin(rtl_x_layout *xl, const rtl_hw *hw, int64_t m, int64_t k)
{
    memset(xl, 0, sizeof *xl);
    xl->dataflow = hw->dataflow;
    xl->m = m;
    xl->k = k;
    xl->rows = hw->rows;
}

/* Sizes the layout once its ranges are in, or frees it when they failed. */
static td_status x_layout_end(rtl_x_layout *xl, td_status st)
{
    if (st != TD_OK) {
        rtl_x_layout_free(xl);
        return st;
    }
    if (xl->dataflow == HW_DATAFLOW_WS) {
        xl->lines = cdiv(xl->k, xl->rows) * xl->m;
        return TD_OK;
    }
    xl->lines = 0;
    for (int64_t i = 0; i < xl->n_ranges; i++)
        xl->lines += cdiv(xl->range[2 * i + 1] - xl->range[2 * i], xl->rows) * xl->k;
    return TD_OK;
}

td_status rtl_x_layout_init(rtl_x_layout *xl, const rtl_hw *hw, const rtl_gemm_plan *g)
{
    x_layout_begin(xl, hw, g->m, g->k);
    td_status st = TD_OK;
    if (hw->dataflow == HW_DATAFLOW_OS) {
        if (g->pool_k > 0) { /* the ranges the compiler computes, in its order */
            rtl_program scratch;
            rtl_gemm_plan dry = *g;
            dry.x_addr = dry.w_addr = dry.p_addr = dry.y_addr = 0;
            if ((st = rtl_program_init(&scratch, hw)) == TD_OK)
                st = emit_gemm(&scratch, &dry, xl);
            rtl_program_free(&scratch);
        } else {
            st = x_layout_add_range(xl, 0, g->m);
        }
    }
    return x_layout_end(xl, st);
}

td_status rtl_x_layout_from_ranges(rtl_x_layout *xl, const rtl_hw *hw, int64_t m, int64_t k,
                                   const int64_t *range, int64_t n_ranges)
{
    x_layout_begin(xl, hw, m, k);
    td_status st = TD_OK;
    if (hw->dataflow == HW_DATAFLOW_OS && n_ranges == 0)
        st = x_layout_add_range(xl, 0, m);
    for (int64_t i = 0; hw->dataflow == HW_DATAFLOW_OS && i < n_ranges && st == TD_OK; i++) {
        const int64_t lo = range[2 * i], hi = range[2 * i + 1];
        if (lo < 0 || hi <= lo || hi > m)
            st = td_fail(TD_ERR_CONFIG,
                         "rtl X layout: row range %lld [%lld, %lld) is not within the GEMM's "
                         "%lld rows",
                         (long long)i, (long long)lo, (long long)hi, (long long)m);
        else
            st = x_layout_add_range(xl, lo, hi);
    }
    return x_layout_end(xl, st);
}

void rtl_x_layout_free(rtl_x_layout *xl)
{
    free(xl->range);
    memset(xl, 0, sizeof *xl);
}

void rtl_x_layout_place(const rtl_x_layout *xl, rtl_x_put_fn put, void *ctx)
{
    const int64_t M = xl->m, K = xl->k, R = xl->rows;
    if (xl->dataflow == HW_DATAFLOW_WS) {
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                put(ctx, m, k, (k / R) * M + m, (int32_t)(k % R));
        return;
    }
    int64_t off = 0;
    for (int64_t i = 0; i < xl->n_ranges; i++) {
        const int64_t lo = xl->range[2 * i], hi = xl->range[2 * i + 1];
        for (int64_t m = lo; m < hi; m++)
            for (int64_t k = 0; k < K; k++)
                put(ctx, m, k, off + ((m - lo) / R) * K + k, (int32_t)((m - lo) % R));
        off += cdiv(hi - lo, R) * K;
    }
}

td_status rtl_program_add_x_ranges(rtl_program *p, const rtl_x_layout *xl, rtl_host_op *op)
{
    op->xr_first = p->n_x_ranges;
    op->xr_n = xl->dataflow == HW_DATAFLOW_OS ? xl->n_ranges : 0;
    td_status st = grow_pairs(&p->x_ranges, &p->x_ranges_cap, p->n_x_ranges + op->xr_n);
    if (st != TD_OK)
        return st;
    if (op->xr_n > 0) /* (WS: no ranges, and no arrays yet) */
        memcpy(p->x_ranges + 2 * p->n_x_ranges, xl->range, (size_t)op->xr_n * 2 * sizeof(int64_t));
    p->n_x_ranges += op->xr_n;
    return TD_OK;
}

typedef struct x_matrix_ctx {
    rtl_mem *mem;
    int64_t base, k;
    int32_t bits;
    const int32_t *x;
} x_matrix_ctx;

static void put_matrix(void *vctx, int64_t m, int64_t k, int64_t line, int32_t lane)
{
    x_matrix_ctx *c = vctx;
    rtl_mem_set(c->mem, c->base + line, lane * c->bits, c->bits, c->x[m * c->k + k]);
}

td_status rtl_program_add_gemm(rtl_program *p, const rtl_gemm *g, rtl_gemm_out *out)
{
    const rtl_hw *hw = &p->hw;
    const int64_t M = g->m, K = g->k, N = g->n, C = hw->cols;
    td_status st = rtl_gemm_check(hw, g);
    if (st != TD_OK)
        return st;
    const bool pool = g->pool_k > 0;
    const int64_t P =
        pool ? ((g->map_h - g->pool_k) / g->pool_s + 1) * ((g->map_w - g->pool_k) / g->pool_s + 1)
             : M;
    rtl_gemm_plan plan = {.m = M,
                          .k = K,
                          .n = N,
                          .lo = g->lo,
                          .hi = g->hi,
                          .pool_k = g->pool_k,
                          .pool_s = g->pool_s,
                          .map_h = g->map_h,
                          .map_w = g->map_w};
    /* X in the core's layout (rtl_x_layout); W line (j, k) = W[k][j*C ..] at w_addr + j*K + k;
     * params (j, c) at p_addr + j*C + c; Y line (j, m) = Y[m][j*C ..] at y_addr + j*P + m
     * (P = M, or the pooled pixels). */
    rtl_x_layout xl; /* (its dry run checks the pool against the map) */
    if ((st = rtl_x_layout_init(&xl, hw, &plan)) != TD_OK)
        return st;
    st = rtl_mem_alloc(&p->mem, xl.lines, &plan.x_addr);
    if (st == TD_OK)
        st = rtl_program_place_weights(p, K, N, g->w, false, g->bias, g->rq, &plan.w_addr,
                                       &plan.p_addr);
    if (st == TD_OK)
        st = rtl_mem_alloc(&p->mem, cdiv(N, C) * P, &plan.y_addr);
    if (st == TD_OK) {
        x_matrix_ctx ctx = {&p->mem, plan.x_addr, K, hw->bits, g->x};
        rtl_x_layout_place(&xl, put_matrix, &ctx);
    }
    out->x_addr = plan.x_addr;
    out->x_lines = xl.lines;
    rtl_x_layout_free(&xl);
    if (st == TD_OK)
        st = rtl_program_emit_gemm(p, &plan);
    if (st != TD_OK)
        return st;
    out->y_addr = plan.y_addr;
    out->m = P;
    out->n = N;
    return TD_OK;
}

void rtl_gemm_read(const rtl_program *p, const rtl_mem *mem, const rtl_gemm_out *out, int32_t *y)
{
    const int64_t C = p->hw.cols, b = p->hw.bits;
    for (int64_t m = 0; m < out->m; m++)
        for (int64_t n = 0; n < out->n; n++)
            y[m * out->n + n] = (int32_t)rtl_mem_get(mem, out->y_addr + (n / C) * out->m + m,
                                                     (int32_t)((n % C) * b), (int32_t)b, true);
}

/* ---- C model of the core (values only) ---- */

typedef struct core_model {
    const rtl_program *prog;
    const rtl_hw *hw;
    int64_t *xs, *ws, *ob; /* depth x lanes */
    nn_acc_t *acc;         /* acc_depth x cols, wrapped to acc_bits */
    int64_t *bias, *mult, *shift;
    int64_t *pe_w;           /* WS: rows x cols stationary weights */
    nn_acc_t *pe_acc;        /* OS: rows x cols accumulators */
    uint32_t add_ma, add_mb; /* ADD_CFG */
    int32_t add_shift;
} core_model;

static size_t p_host_count(const core_model *cm)
{
    return cm->prog->n_host;
}

static nn_acc_t wrap_acc(nn_acc_t v, int bits)
{
    if (bits >= 127)
        return v;
    unsigned __int128 mask = ((unsigned __int128)1 << bits) - 1;
    unsigned __int128 u = (unsigned __int128)v & mask;
    if (u >> (bits - 1))
        u |= ~mask;
    return (nn_acc_t)u;
}

static td_status line_check(int64_t line, int64_t depth, const char *what, size_t ci)
{
    if (line < 0 || line >= depth)
        return td_fail(TD_ERR_CONFIG, "rtl program: command %zu addresses %s line %lld of %lld", ci,
                       what, (long long)line, (long long)depth);
    return TD_OK;
}

static td_status ext_check(const rtl_mem *mem, int64_t addr, size_t ci)
{
    if (addr < 0 || addr >= mem->n_words)
        return td_fail(TD_ERR_CONFIG, "rtl program: command %zu addresses memory word %lld of %lld",
                       ci, (long long)addr, (long long)mem->n_words);
    return TD_OK;
}

static td_status model_cmd(core_model *cm, const rtl_cmd *c, size_t ci, rtl_mem *mem)
{
    const rtl_hw *hw = cm->hw;
    const int64_t R = hw->rows, C = hw->cols, b = hw->bits;
    const bool ws = hw->dataflow == HW_DATAFLOW_WS;
    td_status st = TD_OK;
    switch (c->op) {
    case RTL_OP_NOP:
        return TD_OK;
    case RTL_OP_LD_X:
    case RTL_OP_LD_W:
    case RTL_OP_LD_P: {
        int64_t depth = c->op == RTL_OP_LD_X ? hw->x_depth : c->op == RTL_OP_LD_W ? hw->w_depth : C;
        int64_t lanes = c->op == RTL_OP_LD_X ? R : C;
        for (int64_t i = 0; i < c->n && st == TD_OK; i++) {
            int64_t line = c->a + i, addr = (int64_t)c->x + i;
            st = line_check(line, depth, rtl_opcode_name(c->op), ci);
            if (st == TD_OK)
                st = ext_check(mem, addr, ci);
            if (st != TD_OK)
                break;
            if (c->op == RTL_OP_LD_P) {
                int bw = hw->acc_bits < 64 ? hw->acc_bits : 64;
                cm->bias[line] = rtl_mem_get(mem, addr, 0, bw, true);
                cm->mult[line] = rtl_mem_get(mem, addr, hw->acc_bits, 32, false);
                cm->shift[line] = rtl_mem_get(mem, addr, hw->acc_bits + 32, 7, false);
                continue;
            }
            int64_t *dst = (c->op == RTL_OP_LD_X ? cm->xs : cm->ws) + line * lanes;
            for (int64_t l = 0; l < lanes; l++)
                dst[l] = rtl_mem_get(mem, addr, (int32_t)(l * b), (int32_t)b, true);
        }
        return st;
    }
    case RTL_OP_PRELOAD:
    case RTL_OP_COMPUTE:
    case RTL_OP_DRAIN:
        break;
    case RTL_OP_REQUANT: {
        int64_t lo = (c->flags & RTL_FLAG_RELU) ? 0 : nn_qmin((int)b);
        int64_t hi = min64((int32_t)c->x, nn_qmax((int)b));
        for (int64_t i = 0; i < c->n && st == TD_OK; i++) {
            st = line_check(c->a + i, hw->acc_depth, "accumulator", ci);
            if (st == TD_OK)
                st = line_check(c->b + i, hw->out_depth, "output", ci);
            for (int64_t l = 0; l < C && st == TD_OK; l++) {
                nn_requant rq = {(uint32_t)cm->mult[l], (int32_t)cm->shift[l]};
                nn_acc_t a = cm->acc[(c->a + i) * C + l] + (nn_acc_t)cm->bias[l];
                cm->ob[(c->b + i) * C + l] = nn_requantize(a, rq, lo, hi);
            }
        }
        return st;
    }
    case RTL_OP_POOL: {
        int64_t in_w = c->n, oh = c->t, ow = c->x & 0xFFFF, k = (c->x >> 16) & 0xFF,
                s = (c->x >> 24) & 0xFF;
        for (int64_t y = 0; y < oh; y++)
            for (int64_t x = 0; x < ow; x++) {
                int64_t dst = c->b + y * ow + x;
                st = line_check(dst, hw->out_depth, "output", ci);
                for (int64_t l = 0; l < C && st == TD_OK && k > 0; l++) {
                    int64_t best = 0;
                    for (int64_t ky = 0; ky < k && st == TD_OK; ky++)
                        for (int64_t kx = 0; kx < k && st == TD_OK; kx++) {
                            int64_t src = c->a + (y * s + ky) * in_w + x * s + kx;
                            st = line_check(src, hw->out_depth, "output", ci);
                            if (st == TD_OK && ((ky == 0 && kx == 0) || cm->ob[src * C + l] > best))
                                best = cm->ob[src * C + l];
                        }
                    if (st == TD_OK)
                        cm->ob[dst * C + l] = best;
                }
                if (st != TD_OK)
                    return st;
            }
        return TD_OK;
    }
    case RTL_OP_ADD_CFG:
        cm->add_ma = c->x;
        cm->add_mb = (uint32_t)c->b << 16 | c->a;
        cm->add_shift = c->n & 0x7F;
        return TD_OK;
    case RTL_OP_ADD: {
        int64_t lo = (c->flags & RTL_FLAG_RELU) ? 0 : nn_qmin((int)b);
        int64_t hi = min64((int32_t)c->x, nn_qmax((int)b));
        if (cm->add_shift < 1)
            return td_fail(TD_ERR_CONFIG, "rtl program: command %zu is ADD with shift 0", ci);
        for (int64_t i = 0; i < c->n && st == TD_OK; i++) {
            st = line_check(c->a + i, hw->w_depth, "weight", ci);
            if (st == TD_OK)
                st = line_check(c->b + i, hw->w_depth, "weight", ci);
            if (st == TD_OK)
                st = line_check(c->t + i, hw->out_depth, "output", ci);
            for (int64_t l = 0; l < C && st == TD_OK; l++)
                cm->ob[(c->t + i) * C + l] = nn_requantize_add(
                    cm->ws[(c->a + i) * C + l], cm->add_ma, cm->ws[(c->b + i) * C + l], cm->add_mb,
                    cm->add_shift, lo, hi);
        }
        return st;
    }
    case RTL_OP_HOST:
        if (c->x >= p_host_count(cm))
            return td_fail(TD_ERR_FORMAT, "rtl program: command %zu names host step %u of %zu", ci,
                           c->x, p_host_count(cm));
        return rtl_host_op_execute(cm->prog, &cm->prog->host[c->x], mem);
    case RTL_OP_STORE:
        for (int64_t i = 0; i < c->n && st == TD_OK; i++) {
            int64_t line = c->a + i, addr = (int64_t)c->x + i;
            st = line_check(line, hw->out_depth, "output", ci);
            if (st == TD_OK)
                st = ext_check(mem, addr, ci);
            if (st != TD_OK)
                break;
            int32_t words = mem->limbs;
            memset(mem->data + (size_t)addr * (size_t)words, 0, (size_t)words * sizeof(uint32_t));
            for (int64_t l = 0; l < C; l++)
                rtl_mem_set(mem, addr, (int32_t)(l * b), (int32_t)b, cm->ob[line * C + l]);
        }
        return st;
    default:
        return td_fail(TD_ERR_FORMAT, "rtl program: command %zu has unknown opcode %u", ci, c->op);
    }

    /* array commands */
    const bool fuse = (c->flags & RTL_FLAG_FUSE) != 0;
    const bool acc_flag = (c->flags & RTL_FLAG_ACC) != 0;
    if (c->op == RTL_OP_PRELOAD || (c->op == RTL_OP_COMPUTE && ws && fuse)) {
        if (!ws)
            return td_fail(TD_ERR_CONFIG, "rtl program: command %zu is PRELOAD on an OS core", ci);
        int64_t w_line = c->op == RTL_OP_PRELOAD ? c->a : (c->x & 0xFFFF);
        int64_t k_t = c->op == RTL_OP_PRELOAD ? c->n : (c->x >> 16);
        /* k_t lines shift in from the top: line r lands in row r, the old rows move down k_t */
        for (int64_t r = R - 1; r >= 0; r--)
            for (int64_t l = 0; l < C; l++) {
                if (r < k_t && (st = line_check(w_line + r, hw->w_depth, "weight", ci)) != TD_OK)
                    return st;
                cm->pe_w[r * C + l] =
                    r < k_t ? cm->ws[(w_line + r) * C + l] : cm->pe_w[(r - k_t) * C + l];
            }
        if (c->op == RTL_OP_PRELOAD)
            return TD_OK;
    }
    int64_t drain_line = 0, drain_m = 0;
    if (c->op == RTL_OP_COMPUTE && ws) {
        for (int64_t m = 0; m < c->n; m++) {
            if ((st = line_check(c->a + m, hw->x_depth, "input", ci)) != TD_OK ||
                (st = line_check(c->b + m, hw->acc_depth, "accumulator", ci)) != TD_OK)
                return st;
            for (int64_t l = 0; l < C && l < c->t; l++) {
                nn_acc_t s = 0; /* rows >= k_t are not fed (docs/rtl.md, "Partial tiles") */
                for (int64_t r = 0; r < R && r < (int64_t)(c->x >> 16); r++)
                    s += (nn_acc_t)cm->xs[(c->a + m) * R + r] * cm->pe_w[r * C + l];
                nn_acc_t *dst = &cm->acc[(c->b + m) * C + l];
                *dst = wrap_acc(acc_flag ? *dst + s : s, hw->acc_bits);
            }
        }
        return TD_OK;
    }
    if (c->op == RTL_OP_COMPUTE) { /* OS */
        if (c->flags & RTL_FLAG_CLEAR)
            memset(cm->pe_acc, 0, (size_t)(R * C) * sizeof(nn_acc_t));
        for (int64_t k = 0; k < c->n; k++) {
            if ((st = line_check(c->a + k, hw->x_depth, "input", ci)) != TD_OK ||
                (st = line_check(c->b + k, hw->w_depth, "weight", ci)) != TD_OK)
                return st;
            for (int64_t r = 0; r < R; r++)
                for (int64_t l = 0; l < C; l++)
                    cm->pe_acc[r * C + l] =
                        wrap_acc(cm->pe_acc[r * C + l] + (nn_acc_t)cm->xs[(c->a + k) * R + r] *
                                                             cm->ws[(c->b + k) * C + l],
                                 hw->acc_bits);
        }
        if (!fuse)
            return TD_OK;
        drain_line = c->x & 0xFFFF;
        drain_m = c->x >> 16;
    } else { /* DRAIN */
        if (ws)
            return td_fail(TD_ERR_CONFIG, "rtl program: command %zu is DRAIN on a WS core", ci);
        drain_line = c->b;
        drain_m = c->n;
    }
    for (int64_t r = 0; r < R && r < drain_m; r++) {
        if ((st = line_check(drain_line + r, hw->acc_depth, "accumulator", ci)) != TD_OK)
            return st;
        for (int64_t l = 0; l < C && l < c->t; l++) {
            nn_acc_t *dst = &cm->acc[(drain_line + r) * C + l];
            *dst = wrap_acc(acc_flag ? *dst + cm->pe_acc[r * C + l] : cm->pe_acc[r * C + l],
                            hw->acc_bits);
        }
    }
    return TD_OK;
}

td_status rtl_program_execute(const rtl_program *p, rtl_mem *mem)
{
    const rtl_hw *hw = &p->hw;
    if (mem->limbs != p->mem.limbs)
        return td_fail(TD_ERR_CONFIG, "rtl program: memory words have %d limbs, program %d",
                       mem->limbs, p->mem.limbs);
    core_model cm = {.prog = p, .hw = hw, .add_shift = 1}; /* the RTL's reset values */
    const size_t R = (size_t)hw->rows, C = (size_t)hw->cols;
    cm.xs = calloc((size_t)hw->x_depth * R, sizeof(int64_t));
    cm.ws = calloc((size_t)hw->w_depth * C, sizeof(int64_t));
    cm.ob = calloc((size_t)hw->out_depth * C, sizeof(int64_t));
    cm.acc = calloc((size_t)hw->acc_depth * C, sizeof(nn_acc_t));
    cm.bias = calloc(C, sizeof(int64_t));
    cm.mult = calloc(C, sizeof(int64_t));
    cm.shift = calloc(C, sizeof(int64_t));
    cm.pe_w = calloc(R * C, sizeof(int64_t));
    cm.pe_acc = calloc(R * C, sizeof(nn_acc_t));
    for (size_t l = 0; cm.shift && l < C; l++)
        cm.shift[l] = 1; /* the RTL's reset value: an unloaded column requantizes to 0 */
    td_status st = TD_OK;
    if (!cm.xs || !cm.ws || !cm.ob || !cm.acc || !cm.bias || !cm.mult || !cm.shift || !cm.pe_w ||
        !cm.pe_acc)
        st = td_fail(TD_ERR_NOMEM, "rtl program: cannot allocate the core model");
    for (size_t i = 0; i < p->n_cmds && st == TD_OK; i++)
        st = model_cmd(&cm, &p->cmds[i], i, mem);
    free(cm.xs);
    free(cm.ws);
    free(cm.ob);
    free(cm.acc);
    free(cm.bias);
    free(cm.mult);
    free(cm.shift);
    free(cm.pe_w);
    free(cm.pe_acc);
    return st;
}
