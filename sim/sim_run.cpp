// Runs: a forked child elaborates the SystemC model once, runs the job, and hands its result
// back through a shared anonymous mapping (SystemC allows one elaboration per process).
#include "sim_system.h"

extern "C" {
#include "nn_intmath.h"
#include "rtl_net.h"
#include "nn_quant.h"
#include "td_rng.h"
}

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

// libsystemc references sc_main; tandem has its own main and never calls sc_elab_and_sim.
int sc_main(int, char **)
{
    return 1;
}

namespace tdsim
{
namespace
{

struct Rng {
    uint64_t s;
    explicit Rng(uint64_t seed) : s(seed ? seed : 0x9E3779B97F4A7C15ull) {}
    uint64_t next()
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    int64_t range(int64_t lo, int64_t hi)
    {
        return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
    }
};

int64_t packed(int64_t n, int64_t bits)
{
    return (n * bits + 7) / 8;
}

// Shared result block: a status, a message, then the payload.
struct alignas(64) Shared {
    int status;
    char msg[1024];
};

void *shared_alloc(size_t bytes)
{
    void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
}

// Runs fn in a child process; fn returns a status and leaves its message in td_error_message.
td_status run_forked(Shared *sh, const std::function<td_status()> &fn)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return td_fail(TD_ERR_INTERNAL, "sim: fork failed: %s", strerror(errno));
    if (pid == 0) {
        td_status st;
        try {
            st = fn();
        } catch (const sc_report &e) {
            st = td_fail(TD_ERR_INTERNAL, "SystemC: %s", e.what());
        } catch (const std::exception &e) {
            st = td_fail(TD_ERR_INTERNAL, "sim: %s", e.what());
        }
        sh->status = (int)st;
        snprintf(sh->msg, sizeof sh->msg, "%s", st == TD_OK ? "" : td_error_message());
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        return td_fail(TD_ERR_INTERNAL, "sim: the simulation process %s %d",
                       WIFSIGNALED(ws) ? "died of signal" : "exited with",
                       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
    if (sh->status != TD_OK)
        return td_fail((td_status)sh->status, "%s", sh->msg);
    return TD_OK;
}

td_status simulate(System &sys)
{
    if (!sys.ok())
        return TD_ERR_UNSUPPORTED; // message set by rtl_make
    sc_report_handler::set_actions(SC_ERROR, SC_THROW);
    sc_report_handler::set_actions(SC_INFO, SC_DO_NOTHING);
    sc_report_handler::set_actions("/IEEE_Std_1666/deprecated", SC_DO_NOTHING);
    sc_start();
    return TD_OK;
}

// ------------------------------------------------------------------ network lowering

struct Act {
    nn_shape s{0, 0, 0};
    std::vector<int32_t> v;
    bool onchip = false;
};

struct NetCtx {
    const nn_graph *g;
    const hw_config *cfg;
    const sim_options *o;
    sim_result *r; // layers preallocated (n_nodes)
    td_status st = TD_OK;
};

void snapshot_diff(const sim_counters &a, const sim_counters &b, sim_counters *d)
{
    const int64_t *pa = (const int64_t *)&a, *pb = (const int64_t *)&b;
    int64_t *pd = (int64_t *)d;
    for (size_t i = 0; i < sizeof(sim_counters) / sizeof(int64_t); i++)
        pd[i] = pb[i] - pa[i];
}

// Whether rtl_program_emit_gemm lowers conv followed by max-pool pool on core hw (its
// output buffer holds a band of pooled rows, or a column strip).
bool pool_compiles(const rtl_hw &hw, const nn_node &conv, const nn_node &pool)
{
    rtl_program p;
    if (rtl_program_init(&p, &hw) != TD_OK)
        return false;
    rtl_gemm_plan plan{};
    plan.m = conv.out.h * conv.out.w;
    plan.k = (conv.in.c / conv.groups) * conv.k_h * conv.k_w;
    plan.n = conv.out_channels / conv.groups;
    plan.lo = nn_qmin(hw.bits);
    plan.hi = nn_qmax(hw.bits);
    plan.pool_k = pool.k_h;
    plan.pool_s = pool.stride;
    plan.map_h = conv.out.h;
    plan.map_w = conv.out.w;
    const bool ok = rtl_program_emit_gemm(&p, &plan) == TD_OK;
    rtl_program_free(&p);
    return ok;
}

// Runs one conv / fc node (its batch norm folded, its ReLU fused when relu, a max-pool
// pool_k x pool_k stride pool_s fused after its REQUANTs when pool_k > 0; output shape oshape)
// or a global average pool (a GEMM M = C, K = H W, N = 1 with all-ones weights, as the RTL
// compiler lowers it) on the core. ql: the trained integer layer (weights, bias,
// requantization, clamp), or NULL for random ones (relu: clamp at 0).
td_status run_array_layer(System &sys, NetCtx &cx, int32_t i, bool relu, bool out_onchip,
                          const Act &in, Act &out, const nn_qlayer *ql, sim_layer *L,
                          const nn_shape &oshape, int32_t pool_k = 0, int32_t pool_s = 0)
{
    const nn_node *n = &cx.g->nodes[i];
    const rtl_hw &hw = sys.hw;
    const int b = hw.bits;
    const int64_t q = nn_qmax(b);
    const bool gap = n->op == NN_OP_GLOBAL_AVGPOOL;
    int64_t G, M, K, N, OH = 1, OW = 1;
    if (n->op == NN_OP_FC) {
        G = 1;
        M = 1;
        K = in.s.c * in.s.h * in.s.w;
        N = n->out_channels;
    } else if (gap) { // X[c][p] = in[c][p] (the host transposes the CHW tensor)
        G = 1;
        M = in.s.c;
        K = in.s.h * in.s.w;
        N = 1;
    } else {
        G = n->groups;
        OH = n->out.h;
        OW = n->out.w;
        M = OH * OW;
        K = (in.s.c / G) * n->k_h * n->k_w;
        N = n->out_channels / G;
    }
    Rng rng(td_seed_derive(cx.o->seed, (uint64_t)i + 1));
    rtl_program p;
    td_status st = rtl_program_init(&p, &hw);
    if (st != TD_OK)
        return st;
    ProgMemMap map;
    std::vector<rtl_gemm_out> outs((size_t)G);
    std::vector<std::vector<int32_t>> xs((size_t)G), wsv((size_t)G), yref((size_t)G);
    std::vector<std::vector<int64_t>> biases((size_t)G);
    std::vector<std::vector<nn_requant>> rqs((size_t)G);
    const int64_t lo = ql ? ql->lo : relu ? 0 : nn_qmin(b), hi = ql ? ql->hi : q;
    const bool wsdf = hw.dataflow == HW_DATAFLOW_WS;
    for (int64_t gi = 0; gi < G && st == TD_OK; gi++) {
        std::vector<int32_t> &X = xs[(size_t)gi], &W = wsv[(size_t)gi];
        X.assign((size_t)(M * K), 0);
        if (n->op == NN_OP_FC || gap) { // fc: one row of C*H*W; gap: C rows of H*W (CHW)
            for (int64_t k = 0; k < M * K; k++)
                X[(size_t)k] = in.v[(size_t)k];
        } else {
            const int64_t cg = in.s.c / G, kh = n->k_h, kw = n->k_w;
            for (int64_t oy = 0; oy < OH; oy++)
                for (int64_t ox = 0; ox < OW; ox++)
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t ky = 0; ky < kh; ky++)
                            for (int64_t kx = 0; kx < kw; kx++) {
                                int64_t iy = oy * n->stride - n->pad + ky;
                                int64_t ix = ox * n->stride - n->pad + kx;
                                int32_t v = 0;
                                if (iy >= 0 && iy < in.s.h && ix >= 0 && ix < in.s.w)
                                    v = in.v[(size_t)(((gi * cg + c) * in.s.h + iy) * in.s.w + ix)];
                                X[(size_t)((oy * OW + ox) * K + (c * kh + ky) * kw + kx)] = v;
                            }
        }
        W.resize((size_t)(K * N));
        biases[(size_t)gi].resize((size_t)N);
        rqs[(size_t)gi].resize((size_t)N);
        if (gap) { // all-ones weights, no bias, the pool's requantization
            for (auto &w : W)
                w = 1;
            biases[(size_t)gi][0] = 0;
            if (ql)
                rqs[(size_t)gi][0] = ql->rq_pool[0];
            else
                st = nn_requant_from_real(1.0 / (double)K, &rqs[(size_t)gi][0]);
        } else if (ql) { // w [oc][K], oc = gi * N + j
            for (int64_t k = 0; k < K; k++)
                for (int64_t j = 0; j < N; j++)
                    W[(size_t)(k * N + j)] = ql->w[(size_t)((gi * N + j) * K + k)];
            for (int64_t j = 0; j < N; j++) {
                biases[(size_t)gi][(size_t)j] = (int64_t)ql->bias[gi * N + j];
                rqs[(size_t)gi][(size_t)j] = ql->rq[gi * N + j];
            }
        }
        for (auto &w : W)
            if (!ql && !gap)
                w = (int32_t)rng.range(-q, q);
        const double f = 0.75 / (std::sqrt((double)K) * (double)q);
        for (int64_t j = 0; j < N && st == TD_OK && !ql && !gap; j++) {
            int64_t bq = b >= 16 ? (int64_t)1 << 20 : q * q;
            biases[(size_t)gi][(size_t)j] = rng.range(-bq, bq);
            st = nn_requant_from_real(f * (0.75 + 0.5 * (double)(rng.next() % 1000) / 1000.0),
                                      &rqs[(size_t)gi][(size_t)j]);
        }
        if (st != TD_OK)
            break;
        const int64_t x_lo = p.mem.n_words;
        // a max-pool fused after the REQUANTs (pool_k > 0), as rtl_net's compiler emits a conv
        // followed by a max-pool: Y is the pooled map
        rtl_gemm gm = {M,
                       K,
                       N,
                       X.data(),
                       W.data(),
                       biases[(size_t)gi].data(),
                       rqs[(size_t)gi].data(),
                       lo,
                       hi,
                       pool_k,
                       pool_s,
                       OH,
                       OW};
        st = rtl_program_add_gemm(&p, &gm, &outs[(size_t)gi]);
        if (st != TD_OK)
            break;
        const int64_t x_words = outs[(size_t)gi].x_lines;
        const int64_t fn = cdiv64(N, hw.cols);
        if (in.onchip)
            map.onchip.push_back(Region{x_lo, x_lo + x_words, 0, 0});
        else
            map.onchip.push_back(Region{x_lo, x_lo + x_words, -1, -1}); // filled below
        if (gi == 0)
            map.out_lo = outs[0].y_addr;
        map.out_hi = outs[(size_t)gi].y_addr + fn * outs[(size_t)gi].m;
        yref[(size_t)gi].resize((size_t)(M * N));
        nn_int_gemm_ref(yref[(size_t)gi].data(), X.data(), W.data(), biases[(size_t)gi].data(),
                        rqs[(size_t)gi].data(), lo, hi, M, K, N);
        if (pool_k > 0) { // the max over each window of the requantized map
            const int64_t PH = oshape.h, PW = oshape.w;
            std::vector<int32_t> pr((size_t)(PH * PW * N));
            for (int64_t py = 0; py < PH; py++)
                for (int64_t px = 0; px < PW; px++)
                    for (int64_t j = 0; j < N; j++) {
                        int32_t best = INT32_MIN;
                        for (int64_t ky = 0; ky < pool_k; ky++)
                            for (int64_t kx = 0; kx < pool_k; kx++) {
                                const int64_t m = (py * pool_s + ky) * OW + px * pool_s + kx;
                                best = std::max(best, yref[(size_t)gi][(size_t)(m * N + j)]);
                            }
                        pr[(size_t)((py * PW + px) * N + j)] = best;
                    }
            yref[(size_t)gi] = pr;
        }
    }
    if (st != TD_OK) {
        rtl_program_free(&p);
        return td_fail_context(st, "layer '%s': ", n->name);
    }
    // An input in DRAM: the DMA fetches the packed tensor once into L2 and forms the im2col
    // lines on chip when it fits the staging half; otherwise it re-streams the packed input
    // (each group's share) once per output-column pass of the compiled loop.
    const int64_t raw = packed(in.s.c * in.s.h * in.s.w, b);
    if (!in.onchip) {
        if (raw <= sys.l2_bytes / 2) {
            // words land in order: the first after one word's transfer, the last at t1
            const double t1 = sys.dma_fetch((double)raw);
            const double first = t1 - (double)(raw - sys.word_bytes) / sys.bytes_per_cycle();
            for (Region &rg : map.onchip) {
                rg.t0 = first < t1 ? first : t1;
                rg.t1 = t1;
            }
        } else {
            for (Region &rg : map.onchip)
                rg.stream_bytes = (double)raw / (double)G;
        }
    }
    map.out_onchip = out_onchip;
    rtl_mem mem;
    if ((st = rtl_mem_copy(&mem, &p.mem)) != TD_OK) {
        rtl_program_free(&p);
        return st;
    }
    const sim_counters before = sys.counters;
    const int64_t t0 = sys.now();
    std::vector<CmdRecord> rec;
    sys.run_program(&p, &mem, map, &rec);
    const int64_t t1 = sys.now();
    snapshot_diff(before, sys.counters, &L->counters);
    L->cycles = t1 - t0;
    for (size_t c = 0; c < p.n_cmds; c++) {
        const int64_t d = rec[c].end - rec[c].accept;
        switch (p.cmds[c].op) {
        case RTL_OP_COMPUTE:
            L->tiles++;
            L->compute_cycles += d;
            break;
        case RTL_OP_PRELOAD:
        case RTL_OP_DRAIN:
        case RTL_OP_NOP:
            L->compute_cycles += d;
            break;
        case RTL_OP_REQUANT:
        case RTL_OP_POOL:
            L->vector_cycles += d;
            break;
        default:
            break;
        }
    }
    L->memory_cycles = L->cycles - L->compute_cycles - L->vector_cycles;
    L->counters.stall_cycles[SIM_STALL_PORT] =
        L->memory_cycles - L->counters.stall_cycles[SIM_STALL_DRAM] -
        L->counters.stall_cycles[SIM_STALL_WRITEBACK] - L->counters.stall_cycles[SIM_STALL_BANK];
    sys.counters.stall_cycles[SIM_STALL_PORT] += L->counters.stall_cycles[SIM_STALL_PORT];
    // Values: the output tensor, checked against the C integer reference.
    out.s = oshape;
    out.v.assign((size_t)(oshape.c * oshape.h * oshape.w), 0);
    out.onchip = out_onchip;
    L->values_match = true;
    const int64_t MO = outs.empty() ? M : outs[0].m; // output pixels (pooled)
    std::vector<int32_t> y((size_t)(MO * N));
    for (int64_t gi = 0; gi < G; gi++) {
        rtl_gemm_read(&p, &mem, &outs[(size_t)gi], y.data());
        for (int64_t m = 0; m < MO; m++)
            for (int64_t j = 0; j < N; j++) {
                const int32_t got = y[(size_t)(m * N + j)],
                              want = yref[(size_t)gi][(size_t)(m * N + j)];
                out.v[(size_t)((gi * N + j) * MO + m)] = got;
                if (got != want) {
                    if (L->values_match && cx.r->first_mismatch[0] == '\0') {
                        const int64_t mt =
                            wsdf ? std::min<int64_t>(std::min(hw.x_depth, hw.acc_depth),
                                                     std::min<int64_t>(hw.out_depth, 65535))
                                 : hw.rows;
                        snprintf(cx.r->first_mismatch, sizeof cx.r->first_mismatch,
                                 "layer '%s' group %lld tile (m %lld, n %lld) index [%lld][%lld]: "
                                 "expected %d, got %d",
                                 n->name, (long long)gi, (long long)(m / mt),
                                 (long long)(j / hw.cols), (long long)m, (long long)j, want, got);
                    }
                    L->values_match = false;
                    L->mismatches++;
                }
            }
    }
    rtl_mem_free(&mem);
    rtl_program_free(&p);
    return TD_OK;
}

// A residual add node (random scales 2^-1 each, shift 31, no clamp beyond saturation) as
// rtl_program_add_net compiles it: ADD_CFG, then per chunk LD_W (A), LD_W (B), ADD, STORE, run
// on the core. The compiler's one-layer program reads both operands from its input; the B
// loads are pointed at a second tensor placed after it. Values: nn_requantize_add.
td_status run_add_layer(System &sys, NetCtx &cx, int32_t i, const Act &a, const Act &a2, Act &out,
                        bool out_onchip, sim_layer *L, const nn_qlayer *ql = nullptr)
{
    const nn_node *n = &cx.g->nodes[i];
    const rtl_hw &hw = sys.hw;
    const int b = hw.bits;
    const int64_t qmin = nn_qmin(b), qmax = nn_qmax(b);
    const nn_shape s = n->out;
    const int64_t lines = cdiv64(s.c, hw.cols) * s.h * s.w, el = s.c * s.h * s.w;
    rtl_layer l{};
    l.op = RTL_LAYER_ADD;
    snprintf(l.name, sizeof l.name, "%s", n->name);
    l.src[0] = l.src[1] = -1;
    l.in = l.conv_out = l.out = s;
    l.stride = l.groups = 1;
    l.wt.mult_a = ql ? ql->mult_a : 1u << 30;
    l.wt.mult_b = ql ? ql->mult_b : 1u << 30;
    l.wt.shift = ql ? ql->shift : 31;
    l.wt.lo = ql ? ql->lo : qmin;
    l.wt.hi = ql ? ql->hi : qmax;
    rtl_program p;
    td_status st = rtl_program_init(&p, &hw);
    if (st != TD_OK)
        return st;
    std::unique_ptr<rtl_net_io> io(new rtl_net_io());
    int64_t b_addr = 0;
    st = rtl_program_add_net(&p, &l, 1, s, io.get());
    if (st == TD_OK)
        st = rtl_mem_alloc(&p.mem, lines, &b_addr);
    rtl_mem mem{};
    if (st == TD_OK)
        st = rtl_mem_copy(&mem, &p.mem);
    if (st != TD_OK) {
        rtl_program_free(&p);
        return td_fail_context(st, "layer '%s': ", n->name);
    }
    for (size_t c = 0; c < p.n_cmds; c++)
        if (p.cmds[c].op == RTL_OP_LD_W && p.cmds[c].a != 0) // operand B
            p.cmds[c].x = (uint32_t)(b_addr + ((int64_t)p.cmds[c].x - io->input_addr));
    rtl_net_write_act(&p, &mem, io->input_addr, s, a.v.data());
    rtl_net_write_act(&p, &mem, b_addr, s, a2.v.data());
    // Operands on chip (earlier layers' outputs held in L2), or fetched whole from DRAM by the
    // DMA as packed tensors (A, then B) when the layer starts, like an array layer's input.
    ProgMemMap map;
    const int64_t raw = packed(el, b);
    const int64_t lo_[2] = {io->input_addr, b_addr};
    const Act *ops[2] = {&a, &a2};
    for (int k = 0; k < 2; k++) {
        Region rg{lo_[k], lo_[k] + lines, 0, 0};
        if (!ops[k]->onchip) {
            const double t1 = sys.dma_fetch((double)raw);
            const double first = t1 - (double)(raw - sys.word_bytes) / sys.bytes_per_cycle();
            rg.t0 = first < t1 ? first : t1;
            rg.t1 = t1;
        }
        map.onchip.push_back(rg);
    }
    map.out_lo = io->out_addr[0];
    map.out_hi = io->out_addr[0] + lines;
    map.out_onchip = out_onchip;
    const sim_counters before = sys.counters;
    const int64_t t0 = sys.now();
    std::vector<CmdRecord> rec;
    sys.run_program(&p, &mem, map, &rec);
    L->cycles = sys.now() - t0;
    snapshot_diff(before, sys.counters, &L->counters);
    for (size_t c = 0; c < p.n_cmds; c++)
        if (p.cmds[c].op == RTL_OP_ADD || p.cmds[c].op == RTL_OP_ADD_CFG)
            L->vector_cycles += rec[c].end - rec[c].accept;
    L->memory_cycles = L->cycles - L->vector_cycles;
    L->counters.stall_cycles[SIM_STALL_PORT] =
        L->memory_cycles - L->counters.stall_cycles[SIM_STALL_DRAM] -
        L->counters.stall_cycles[SIM_STALL_WRITEBACK] - L->counters.stall_cycles[SIM_STALL_BANK];
    sys.counters.stall_cycles[SIM_STALL_PORT] += L->counters.stall_cycles[SIM_STALL_PORT];
    out.s = s;
    out.v.assign((size_t)el, 0);
    out.onchip = out_onchip;
    rtl_net_read_act(&p, &mem, io->out_addr[0], s, out.v.data());
    L->values_match = true;
    for (int64_t k = 0; k < el; k++) {
        const int32_t want =
            (int32_t)nn_requantize_add(a.v[(size_t)k], l.wt.mult_a, a2.v[(size_t)k], l.wt.mult_b,
                                       l.wt.shift, l.wt.lo, l.wt.hi);
        if (out.v[(size_t)k] != want) {
            if (L->values_match && cx.r->first_mismatch[0] == '\0')
                snprintf(cx.r->first_mismatch, sizeof cx.r->first_mismatch,
                         "layer '%s' index %lld: expected %d, got %d", n->name, (long long)k, want,
                         out.v[(size_t)k]);
            L->values_match = false;
            L->mismatches++;
        }
    }
    rtl_mem_free(&mem);
    rtl_program_free(&p);
    return TD_OK;
}

// Times a vector-unit layer and fills L (values computed by the caller).
void vector_layer(System &sys, NetCtx &cx, sim_layer *L, int64_t ops, int64_t requants,
                  int64_t in_bytes, int64_t l2_in, int64_t out_bytes, bool out_on)
{
    const sim_counters before = sys.counters;
    const int64_t t0 = sys.now();
    int64_t vc = cdiv64(ops, cx.cfg->vector_lanes);
    sys.run_vector(ops, requants, in_bytes, l2_in, out_bytes, out_on, &vc);
    L->cycles = sys.now() - t0;
    L->vector_cycles = vc;
    L->memory_cycles = L->cycles - vc;
    snapshot_diff(before, sys.counters, &L->counters);
    L->values_match = true;
}

void finish_layer(System &sys, NetCtx &cx, sim_layer *L)
{
    L->utilization = L->cycles ? (double)L->counters.macs /
                                     ((double)sys.hw.rows * sys.hw.cols * (double)L->cycles)
                               : 0;
    sim_energy e;
    sim_energy_compute(&L->counters, cx.cfg, hw_tech_for_node(cx.cfg->tech_nm), L->cycles, &e);
    L->energy_uj = e.total_uj;
    if (!L->values_match)
        cx.r->values_match = false;
    cx.r->cycles += L->cycles;
}

// A trained integer model (nn_qmodel): its layers in order, weights and requantization from
// the model, the input a random quantized image; every layer's output is compared with
// nn_qmodel_infer_ref on the same image.
void run_qnet_job(System &sys, NetCtx &cx)
{
    const nn_qmodel *q = cx.o->qmodel;
    const nn_graph *g = cx.g;
    const int b = q->bits;
    const int64_t qmin = nn_qmin(b), qmax = nn_qmax(b);
    const int32_t nq = q->n_layers;
    std::vector<Act> acts((size_t)nq);
    Act input;
    input.s = q->input;
    input.v.resize((size_t)(q->input.c * q->input.h * q->input.w));
    Rng rin(td_seed_derive(cx.o->seed, 0));
    for (auto &v : input.v)
        v = (int32_t)rin.range(qmin, qmax);
    // the reference, every layer
    std::vector<std::vector<int32_t>> ref((size_t)nq);
    std::vector<int32_t *> refp((size_t)nq);
    for (int32_t i = 0; i < nq; i++) {
        ref[(size_t)i].resize((size_t)nn_qlayer_out_size(&q->layers[i]));
        refp[(size_t)i] = ref[(size_t)i].data();
    }
    nn_qmodel_infer_ref(q, refp.data(), input.v.data());
    std::vector<int32_t> nodes((size_t)nq, -1), consumers((size_t)nq, 0);
    for (int32_t i = 0; i < nq; i++) {
        const nn_qlayer *ql = &q->layers[i];
        for (size_t k = 0; k < g->n_nodes; k++)
            if (strcmp(g->nodes[k].name, ql->name) == 0)
                nodes[(size_t)i] = (int32_t)k;
        for (int k = 0; k < 2; k++)
            if (ql->in[k] >= 0 && (k == 0 || ql->op == NN_QOP_ADD))
                consumers[(size_t)ql->in[k]]++;
    }
    size_t nl = 0;
    for (int32_t i = 0; i < nq && cx.st == TD_OK; i++) {
        const nn_qlayer *ql = &q->layers[i];
        const int32_t node = nodes[(size_t)i];
        if (node < 0) {
            cx.st = td_fail(TD_ERR_FORMAT, "integer layer '%s' has no node in the graph", ql->name);
            break;
        }
        // A max-pool right after a conv, its only consumer, unpadded: fused after the conv's
        // REQUANTs when the compiler can lower it on this core (as in run_net_job and
        // hw_model), its output the pooled map; the max-pool has no layer of its own.
        const nn_qlayer *qp = i + 1 < nq ? &q->layers[i + 1] : nullptr;
        const bool fuse_pool =
            ql->op == NN_QOP_CONV && qp && qp->op == NN_QOP_MAXPOOL && qp->in[0] == i &&
            consumers[(size_t)i] == 1 && qp->pad == 0 && nodes[(size_t)i + 1] >= 0 &&
            pool_compiles(sys.hw, g->nodes[node], g->nodes[nodes[(size_t)i + 1]]);
        sim_layer *L = &cx.r->layers[nl++];
        memset(L, 0, sizeof *L);
        L->node = node;
        snprintf(L->name, sizeof L->name, "%s", ql->name);
        snprintf(L->op, sizeof L->op, "%s", nn_qop_name(ql->op));
        const Act &a = ql->in[0] < 0 ? input : acts[(size_t)ql->in[0]];
        const int32_t oi = fuse_pool ? i + 1 : i; // the layer whose output this one produces
        Act &o = acts[(size_t)oi];
        const int64_t y_el = nn_qlayer_out_size(&q->layers[oi]), in_el = a.s.c * a.s.h * a.s.w;
        const bool out_on = oi != nq - 1 && packed(y_el, b) <= sys.l2_bytes / 2;
        L->input_onchip = a.onchip;
        L->output_onchip = out_on;
        if (ql->op == NN_QOP_ADD) { // the compiled ADD program, the model's scales
            const Act &a2 = ql->in[1] < 0 ? input : acts[(size_t)ql->in[1]];
            cx.st = run_add_layer(sys, cx, node, a, a2, o, out_on, L, ql);
            if (cx.st != TD_OK)
                break;
        } else if (ql->op == NN_QOP_CONV || ql->op == NN_QOP_FC || ql->op == NN_QOP_GAP) {
            L->on_array = true;
            cx.st =
                run_array_layer(sys, cx, node, false, out_on, a, o, ql, L, q->layers[oi].out_shape,
                                fuse_pool ? qp->k : 0, fuse_pool ? qp->stride : 0);
            if (cx.st != TD_OK)
                break;
        } else {
            o.s = ql->out_shape;
            o.v.assign((size_t)y_el, 0);
            o.onchip = out_on;
            int64_t ops = y_el, requants = 0;
            int64_t l2_in = a.onchip ? packed(in_el, b) : 0,
                    in_bytes = a.onchip ? 0 : packed(in_el, b);
            const int64_t C = a.s.c, H = a.s.h, W = a.s.w, OH = ql->out_shape.h,
                          OW = ql->out_shape.w;
            if (ql->op == NN_QOP_GAP) {
                ops = in_el;
                requants = y_el;
                for (int64_t c = 0; c < C; c++) {
                    nn_acc_t sum = 0;
                    for (int64_t k = 0; k < H * W; k++)
                        sum += a.v[(size_t)(c * H * W + k)];
                    o.v[(size_t)c] = (int32_t)nn_requantize(sum, ql->rq_pool[0], ql->lo, ql->hi);
                }
            } else if (ql->op == NN_QOP_MAXPOOL || ql->op == NN_QOP_AVGPOOL) {
                ops = y_el * ql->k * ql->k;
                requants = ql->op == NN_QOP_AVGPOOL ? y_el : 0;
                for (int64_t c = 0; c < C; c++)
                    for (int64_t oy = 0; oy < OH; oy++)
                        for (int64_t ox = 0; ox < OW; ox++) {
                            int64_t sum = 0, cnt = 0, best = INT64_MIN;
                            for (int64_t ky = 0; ky < ql->k; ky++)
                                for (int64_t kx = 0; kx < ql->k; kx++) {
                                    int64_t iy = oy * ql->stride - ql->pad + ky;
                                    int64_t ix = ox * ql->stride - ql->pad + kx;
                                    if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                        continue;
                                    int64_t v = a.v[(size_t)((c * H + iy) * W + ix)];
                                    sum += v;
                                    cnt++;
                                    best = v > best ? v : best;
                                }
                            o.v[(size_t)((c * OH + oy) * OW + ox)] =
                                ql->op == NN_QOP_MAXPOOL
                                    ? (int32_t)best
                                    : (int32_t)nn_requantize(sum, ql->rq_pool[cnt - 1], ql->lo,
                                                             ql->hi);
                        }
            } else if (ql->op == NN_QOP_ADD) {
                const Act &a2 = ql->in[1] < 0 ? input : acts[(size_t)ql->in[1]];
                requants = 2 * y_el;
                if (a2.onchip)
                    l2_in += packed(in_el, b);
                else
                    in_bytes += packed(in_el, b);
                for (int64_t k = 0; k < y_el; k++)
                    o.v[(size_t)k] =
                        (int32_t)nn_requantize_add(a.v[(size_t)k], ql->mult_a, a2.v[(size_t)k],
                                                   ql->mult_b, ql->shift, ql->lo, ql->hi);
            } else { // RELU: clamp
                for (int64_t k = 0; k < y_el; k++) {
                    int64_t v = a.v[(size_t)k];
                    o.v[(size_t)k] = (int32_t)(v < ql->lo ? ql->lo : v > ql->hi ? ql->hi : v);
                }
            }
            vector_layer(sys, cx, L, ops, requants, in_bytes, l2_in, packed(y_el, b), out_on);
        }
        // the whole-model reference
        for (int64_t k = 0; k < y_el; k++)
            if (o.v[(size_t)k] != ref[(size_t)oi][(size_t)k]) {
                if (cx.r->first_mismatch[0] == '\0')
                    snprintf(cx.r->first_mismatch, sizeof cx.r->first_mismatch,
                             "layer '%s' index %lld: expected %d (nn_qmodel_infer_ref), got %d",
                             q->layers[oi].name, (long long)k, ref[(size_t)oi][(size_t)k],
                             o.v[(size_t)k]);
                L->values_match = false;
                L->mismatches++;
            }
        finish_layer(sys, cx, L);
        i = oi; // a fused max-pool is done
    }
    cx.r->n_layers = nl;
}

void run_net_job(System &sys, NetCtx &cx)
{
    if (cx.o->qmodel) {
        run_qnet_job(sys, cx);
        return;
    }
    const nn_graph *g = cx.g;
    const size_t nn = g->n_nodes;
    const int b = sys.hw.bits;
    const int64_t qmin = nn_qmin(b), qmax = nn_qmax(b);
    std::vector<Act> acts(nn);
    std::vector<int> consumers(nn, 0);
    for (size_t i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i].n_inputs; k++)
            if (g->nodes[i].inputs[k] >= 0)
                consumers[(size_t)g->nodes[i].inputs[k]]++;
    // Fusion: batch norm and ReLU directly after a conv/fc (single consumer chain).
    std::vector<int32_t> fused_into(nn, -1); // node -> the conv/fc it is fused into
    std::vector<int32_t> chain_end(nn);
    std::vector<bool> relu(nn, false);
    std::vector<int32_t> pool_of(nn, -1); // conv -> the max-pool fused after it
    for (size_t i = 0; i < nn; i++) {
        chain_end[i] = (int32_t)i;
        const nn_node *n = &g->nodes[i];
        if (n->op == NN_OP_MAXPOOL && i > 0) {
            // fused after its conv's REQUANTs, as the RTL compiler does (rtl_layers_from_graph):
            // the chain's end directly before it, its only consumer; unpadded, square
            const int32_t p = n->inputs[0];
            const int32_t head = fused_into[(size_t)p] >= 0 ? fused_into[(size_t)p] : p;
            // and the compiler can lower it on this core (else the conv stores its map and
            // the vector unit pools, as hw_eval models it): a dry run of its emission
            const bool fits = pool_compiles(sys.hw, g->nodes[(size_t)head], *n);
            if (p == (int32_t)i - 1 && g->nodes[(size_t)head].op == NN_OP_CONV &&
                chain_end[(size_t)head] == p && consumers[(size_t)p] == 1 && n->pad == 0 &&
                n->k_h == n->k_w && fits) {
                fused_into[i] = head;
                chain_end[(size_t)head] = (int32_t)i;
                pool_of[(size_t)head] = (int32_t)i;
            }
            continue;
        }
        if (n->op != NN_OP_BATCHNORM && n->op != NN_OP_RELU && n->op != NN_OP_RELU6)
            continue;
        int32_t p = n->inputs[0];
        int32_t head = fused_into[(size_t)p] >= 0 ? fused_into[(size_t)p] : p;
        const nn_op hop = g->nodes[(size_t)head].op;
        if ((hop == NN_OP_CONV || hop == NN_OP_FC) && consumers[(size_t)p] == 1 &&
            !(n->op == NN_OP_BATCHNORM && relu[(size_t)head])) {
            fused_into[i] = head;
            chain_end[(size_t)head] = (int32_t)i;
            if (n->op != NN_OP_BATCHNORM)
                relu[(size_t)head] = true;
        }
    }
    const int32_t last = (int32_t)nn - 1;
    Rng rin(td_seed_derive(cx.o->seed, 0));
    acts[0].s = g->input;
    acts[0].v.resize((size_t)(g->input.c * g->input.h * g->input.w));
    for (auto &v : acts[0].v)
        v = (int32_t)rin.range(qmin, qmax);
    acts[0].onchip = false;
    size_t nl = 0;
    const double mhz = cx.cfg->clock_mhz;
    for (size_t i = 1; i < nn && cx.st == TD_OK; i++) {
        const nn_node *n = &g->nodes[i];
        if (fused_into[i] >= 0)
            continue; // produced with its conv/fc
        sim_layer *L = &cx.r->layers[nl];
        memset(L, 0, sizeof *L);
        L->node = (int32_t)i;
        snprintf(L->name, sizeof L->name, "%s", n->name);
        snprintf(L->op, sizeof L->op, "%s", nn_op_name(n->op));
        const int32_t end = chain_end[i];
        const nn_shape oshape = g->nodes[(size_t)end].out;
        const int64_t y_el = oshape.c * oshape.h * oshape.w;
        const bool out_on = end != last && packed(y_el, b) <= sys.l2_bytes / 2;
        if (n->op == NN_OP_CONV || n->op == NN_OP_FC || n->op == NN_OP_GLOBAL_AVGPOOL) {
            L->on_array = true;
            L->input_onchip = acts[(size_t)n->inputs[0]].onchip;
            L->output_onchip = out_on;
            const int32_t pj = pool_of[i];
            cx.st = run_array_layer(sys, cx, (int32_t)i, relu[i], out_on,
                                    acts[(size_t)n->inputs[0]], acts[(size_t)end], nullptr, L,
                                    oshape, pj >= 0 ? g->nodes[(size_t)pj].k_h : 0,
                                    pj >= 0 ? g->nodes[(size_t)pj].stride : 0);
            if (cx.st != TD_OK)
                break;
        } else if (n->op == NN_OP_ADD) {
            const Act &a = acts[(size_t)n->inputs[0]], &a2 = acts[(size_t)n->inputs[1]];
            L->input_onchip = a.onchip;
            L->output_onchip = out_on;
            cx.st = run_add_layer(sys, cx, (int32_t)i, a, a2, acts[(size_t)end], out_on, L);
            if (cx.st != TD_OK)
                break;
        } else {
            // The behavioural vector unit: what the RTL compiler does not lower (an average
            // pool, a max-pool it cannot fuse), a lone ReLU or batch norm (identity on the
            // integer path). Values by the integer contract.
            const Act &a = acts[(size_t)n->inputs[0]];
            Act &o = acts[(size_t)end];
            o.s = n->out;
            o.v.assign((size_t)y_el, 0);
            int64_t ops = y_el, requants = 0, in_el = a.s.c * a.s.h * a.s.w;
            int64_t l2_in = a.onchip ? packed(in_el, b) : 0,
                    in_bytes = a.onchip ? 0 : packed(in_el, b);
            if (n->op == NN_OP_MAXPOOL || n->op == NN_OP_AVGPOOL) {
                ops = y_el * n->k_h * n->k_w;
                for (int64_t c = 0; c < n->out.c; c++)
                    for (int64_t oy = 0; oy < n->out.h; oy++)
                        for (int64_t ox = 0; ox < n->out.w; ox++) {
                            int64_t best = qmin, sum = 0, cnt = 0;
                            for (int64_t ky = 0; ky < n->k_h; ky++)
                                for (int64_t kx = 0; kx < n->k_w; kx++) {
                                    int64_t iy = oy * n->stride - n->pad + ky;
                                    int64_t ix = ox * n->stride - n->pad + kx;
                                    if (iy < 0 || iy >= a.s.h || ix < 0 || ix >= a.s.w)
                                        continue;
                                    int64_t v = a.v[(size_t)((c * a.s.h + iy) * a.s.w + ix)];
                                    best = v > best ? v : best;
                                    sum += v;
                                    cnt++;
                                }
                            int64_t y = best;
                            if (n->op == NN_OP_AVGPOOL) {
                                nn_requant rq;
                                nn_requant_from_real(1.0 / (double)(cnt ? cnt : 1), &rq);
                                y = nn_requantize(sum, rq, qmin, qmax);
                            }
                            o.v[(size_t)((c * n->out.h + oy) * n->out.w + ox)] = (int32_t)y;
                        }
                if (n->op == NN_OP_AVGPOOL)
                    requants = y_el;
            } else { // relu / relu6 / batch norm on their own
                const bool clamp = n->op != NN_OP_BATCHNORM;
                for (int64_t k = 0; k < y_el; k++)
                    o.v[(size_t)k] = clamp && a.v[(size_t)k] < 0 ? 0 : a.v[(size_t)k];
            }
            o.onchip = out_on;
            L->input_onchip = a.onchip;
            L->output_onchip = out_on;
            const sim_counters before = sys.counters;
            const int64_t t0 = sys.now();
            int64_t vc = cdiv64(ops, cx.cfg->vector_lanes);
            sys.run_vector(ops, requants, in_bytes, l2_in, packed(y_el, b), out_on, &vc);
            L->cycles = sys.now() - t0;
            L->vector_cycles = vc;
            L->memory_cycles = L->cycles - vc;
            snapshot_diff(before, sys.counters, &L->counters);
            L->values_match = true;
        }
        L->utilization = L->cycles ? (double)L->counters.macs /
                                         ((double)sys.hw.rows * sys.hw.cols * (double)L->cycles)
                                   : 0;
        sim_energy e;
        sim_energy_compute(&L->counters, cx.cfg, hw_tech_for_node(cx.cfg->tech_nm), L->cycles, &e);
        L->energy_uj = e.total_uj;
        if (!L->values_match)
            cx.r->values_match = false;
        cx.r->cycles += L->cycles;
        nl++;
    }
    cx.r->n_layers = nl;
    (void)mhz;
}

} // namespace
} // namespace tdsim

using namespace tdsim;

extern "C" td_status sim_run_net(const nn_graph *g, const hw_config *cfg, const sim_options *o,
                                 sim_result *r)
{
    memset(r, 0, sizeof *r);
    rtl_hw hw;
    td_status st = sim_rtl_hw_from_config(cfg, &hw);
    if (st != TD_OK)
        return st;
    if (o->core == SIM_CORE_RTL && (st = sim_rtl_available(&hw)) != TD_OK)
        return st;
    if (o->qmodel && o->qmodel->bits != cfg->bits)
        return td_fail(TD_ERR_CONFIG,
                       "the integer model is %d-bit, accelerator '%s' computes at %d bits",
                       o->qmodel->bits, cfg->name, cfg->bits);
    const size_t n = g->n_nodes ? g->n_nodes : 1;
    const size_t bytes = sizeof(Shared) + sizeof(sim_result) + n * sizeof(sim_layer);
    void *mapp = shared_alloc(bytes);
    if (!mapp)
        return td_fail(TD_ERR_NOMEM, "sim: cannot map %zu bytes for the results", bytes);
    Shared *sh = (Shared *)mapp;
    sim_result *sr = (sim_result *)(sh + 1);
    sim_layer *layers = (sim_layer *)(sr + 1);
    st = run_forked(sh, [&]() -> td_status {
        sr->layers = layers;
        sr->core = o->core;
        sr->hw = hw;
        sr->values_match = true;
        sr->trained_weights = o->qmodel != nullptr;
        System sys("system", hw, cfg, o->params, o->core, o->trace_path);
        NetCtx cx{g, cfg, o, sr};
        sys.job = [&](System &s) { run_net_job(s, cx); };
        auto t0 = std::chrono::steady_clock::now();
        td_status s2 = simulate(sys);
        auto t1 = std::chrono::steady_clock::now();
        if (s2 != TD_OK)
            return s2;
        if (cx.st != TD_OK)
            return cx.st;
        sr->sim_seconds = std::chrono::duration<double>(t1 - t0).count();
        sr->counters = sys.counters;
        return TD_OK;
    });
    if (st == TD_OK) {
        *r = *sr;
        r->layers = (sim_layer *)calloc(sr->n_layers ? sr->n_layers : 1, sizeof(sim_layer));
        if (!r->layers)
            st = td_fail(TD_ERR_NOMEM, "sim: out of memory for %zu layers", sr->n_layers);
        else
            memcpy(r->layers, layers, sr->n_layers * sizeof(sim_layer));
        r->latency_ms = (double)r->cycles / (cfg->clock_mhz * 1000.0);
        sim_energy_compute(&r->counters, cfg, hw_tech_for_node(cfg->tech_nm), r->cycles,
                           &r->energy);
        r->energy_uj = r->energy.total_uj;
        r->power_mw = r->latency_ms > 0 ? r->energy_uj / r->latency_ms : 0;
        r->cycles_per_second = r->sim_seconds > 0 ? (double)r->cycles / r->sim_seconds : 0;
    }
    munmap(mapp, bytes);
    if (st != TD_OK)
        memset(r, 0, sizeof *r);
    return st;
}

extern "C" void sim_result_free(sim_result *r)
{
    free(r->layers);
    memset(r, 0, sizeof *r);
}

extern "C" td_status sim_run_program(const rtl_program *p, const hw_config *cfg, sim_core_kind core,
                                     const sim_params *params, sim_prog_result *r)
{
    memset(r, 0, sizeof *r);
    td_status st;
    if (core == SIM_CORE_RTL && (st = sim_rtl_available(&p->hw)) != TD_OK)
        return st;
    const size_t mem_bytes = (size_t)p->mem.n_words * (size_t)p->mem.limbs * sizeof(uint32_t);
    const size_t bytes = sizeof(Shared) + sizeof(sim_prog_result) + mem_bytes;
    void *mapp = shared_alloc(bytes);
    if (!mapp)
        return td_fail(TD_ERR_NOMEM, "sim: cannot map %zu bytes for the results", bytes);
    Shared *sh = (Shared *)mapp;
    sim_prog_result *sr = (sim_prog_result *)(sh + 1);
    uint32_t *words = (uint32_t *)(sr + 1);
    const sim_params prm = params ? *params : sim_params_default();
    st = run_forked(sh, [&]() -> td_status {
        rtl_mem mem;
        td_status s = rtl_mem_copy(&mem, &p->mem);
        if (s != TD_OK)
            return s;
        System sys("system", p->hw, cfg, prm, core, nullptr);
        ProgMemMap map;
        int64_t t_end = 0;
        uint64_t h = 1469598103934665603ull;
        sys.job = [&](System &sy) {
            std::vector<CmdRecord> rec;
            const int64_t t_start = sy.now(); // after reset
            sy.run_program(p, &mem, map, &rec);
            t_end = sy.now() - t_start;
            for (const CmdRecord &c : rec) {
                h = (h ^ (uint64_t)c.accept) * 1099511628211ull;
                h = (h ^ (uint64_t)(c.end - c.accept)) * 1099511628211ull;
            }
        };
        s = simulate(sys);
        if (s == TD_OK) {
            sr->err_flag = sys.core_err();
            sr->cycles = t_end;
            sr->cmd_cycles_hash = (int64_t)h;
            sr->counters = sys.counters;
            if (mem_bytes)
                memcpy(words, mem.data, mem_bytes);
        }
        rtl_mem_free(&mem);
        return s;
    });
    if (st == TD_OK) {
        r->cycles = sr->cycles;
        r->cmd_cycles_hash = sr->cmd_cycles_hash;
        r->err_flag = sr->err_flag;
        r->counters = sr->counters;
        st = rtl_mem_copy(&r->mem, &p->mem);
        if (st == TD_OK && mem_bytes)
            memcpy(r->mem.data, words, mem_bytes);
    }
    munmap(mapp, bytes);
    return st;
}

extern "C" void sim_prog_result_free(sim_prog_result *r)
{
    rtl_mem_free(&r->mem);
    memset(r, 0, sizeof *r);
}
