// Verilator testbench of the core (rtl_top) for one parameter set (TB_* compile definitions;
// one verilated library per set, tests/rtl/CMakeLists.txt). It compiles random GEMMs and
// convolutions with the C compiler (rtl_program), runs them on the RTL with a memory model
// that stalls and answers with random latency, and checks:
//  - every output equals the C integer reference (nn_int_gemm_ref / a direct convolution),
//  - every command that does not use the memory port takes exactly rtl_cmd_cycles() cycles,
//    which for the array commands are the hw_timing.h functions,
//  - the core's error flag stays low on legal programs and rises on illegal commands.
// Exits 0 when all pass, 1 otherwise (CTest).
#include TB_HEADER

#include "tb_driver.h"
#include "verilated.h"

extern "C" {
#include "hw_timing.h"
#include "rtl_net.h"
#include "rtl_program.h"
#include "rtl_testgen.h"
}

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

typedef TB_CLASS Model;

namespace
{

struct CmdTiming {
    rtl_cmd cmd;
    int64_t measured, predicted;
};

// The shared driver (rtl_templates/bundle/tb_driver.h, also the bundle's) on this set's core.
class Bench
{
  public:
    Bench() : ctx_(new VerilatedContext), m_(new Model(ctx_.get(), "core")), drv_(m_.get(), 12345)
    {
    }
    ~Bench()
    {
        m_->final();
    }

    // Runs cmds against mem (word image, limbs per word). Returns false on a protocol error.
    bool run(const rtl_cmd *cmds, size_t n, rtl_mem *mem, std::vector<CmdTiming> *timing,
             bool *err_flag, bool do_reset = true)
    {
        if (do_reset)
            drv_.reset();
        std::vector<uint32_t> words(4 * n);
        for (size_t i = 0; i < n; i++)
            rtl_cmd_pack(&cmds[i], &words[4 * i]);
        std::vector<uint64_t> accept;
        std::string why;
        if (!drv_.run(words.data(), n, mem->data, mem->n_words, mem->limbs, &accept, &why)) {
            fprintf(stderr, "tb: %s\n", why.c_str());
            return false;
        }
        for (size_t i = 0; i < n; i++) {
            int64_t end = i + 1 < n ? (int64_t)accept[i + 1] : (int64_t)drv_.cycle();
            timing->push_back({cmds[i], end - (int64_t)accept[i], 0});
        }
        *err_flag = drv_.err();
        return true;
    }

  private:
    std::unique_ptr<VerilatedContext> ctx_;
    std::unique_ptr<Model> m_;
    tbdrv::Driver<Model> drv_;
};

rtl_hw tb_hw()
{
    rtl_hw hw;
    hw.rows = TB_ROWS;
    hw.cols = TB_COLS;
    hw.bits = TB_BITS;
    hw.acc_bits = TB_ACC;
    hw.dataflow = TB_DF ? HW_DATAFLOW_OS : HW_DATAFLOW_WS;
    hw.x_depth = TB_XD;
    hw.w_depth = TB_WD;
    hw.acc_depth = TB_AD;
    hw.out_depth = TB_OD;
    return hw;
}

int g_fail = 0;
int64_t g_checked_cmds = 0, g_checked_outputs = 0, g_array_cycles = 0;

// Checks the measured cycles of every command with a fixed duration.
void check_timing(const rtl_hw &hw, std::vector<CmdTiming> &t, const char *what)
{
    for (size_t i = 0; i < t.size(); i++) {
        t[i].predicted = rtl_cmd_cycles(&hw, &t[i].cmd);
        if (t[i].predicted < 0)
            continue;
        g_checked_cmds++;
        if (t[i].cmd.op == RTL_OP_COMPUTE)
            g_array_cycles += t[i].measured;
        if (t[i].measured != t[i].predicted) {
            if (g_fail++ < 20)
                fprintf(stderr,
                        "%s: command %zu %s (n=%u t=%u flags=%u) took %" PRId64
                        " cycles, hw_timing/rtl_cmd_cycles says %" PRId64 "\n",
                        what, i, rtl_opcode_name(t[i].cmd.op), t[i].cmd.n, t[i].cmd.t,
                        t[i].cmd.flags, t[i].measured, t[i].predicted);
        }
    }
}

void run_gemm_case(Bench &bench, const rtl_hw &hw, const rtl_case &c, const char *what)
{
    rtl_program p;
    rtl_gemm g = {c.m, c.k, c.n, c.x, c.w, c.bias, c.rq, c.lo, c.hi, 0, 0, 0, 0};
    rtl_gemm_out out;
    if (rtl_program_init(&p, &hw) != TD_OK || rtl_program_add_gemm(&p, &g, &out) != TD_OK) {
        fprintf(stderr, "%s: compile: %s\n", what, td_error_message());
        g_fail++;
        return;
    }
    rtl_mem mem;
    if (rtl_mem_copy(&mem, &p.mem) != TD_OK) {
        g_fail++;
        rtl_program_free(&p);
        return;
    }
    std::vector<CmdTiming> timing;
    bool err = false;
    if (!bench.run(p.cmds, p.n_cmds, &mem, &timing, &err)) {
        fprintf(stderr, "%s: simulation failed\n", what);
        g_fail++;
    } else {
        if (err) {
            fprintf(stderr, "%s: the core raised its error flag\n", what);
            g_fail++;
        }
        check_timing(hw, timing, what);
        std::vector<int32_t> y((size_t)(c.m * c.n));
        rtl_gemm_read(&p, &mem, &out, y.data());
        int bad = 0;
        for (int64_t i = 0; i < c.m * c.n; i++) {
            g_checked_outputs++;
            if (y[i] != c.y_ref[i] && bad++ < 5)
                fprintf(stderr,
                        "%s (%" PRId64 "x%" PRId64 "x%" PRId64 "): y[%" PRId64 "][%" PRId64
                        "] = %d, reference %d\n",
                        what, c.m, c.k, c.n, i / c.n, i % c.n, y[i], c.y_ref[i]);
        }
        if (bad) {
            fprintf(stderr, "%s: %d mismatching outputs\n", what, bad);
            g_fail++;
        }
    }
    rtl_mem_free(&mem);
    rtl_program_free(&p);
}

// Runs a program with host steps: the core runs the commands between RTL_OP_HOST commands,
// the host step runs on the memory image in between (as the DMA/host would).
bool run_program(Bench &bench, const rtl_program &p, rtl_mem *mem, std::vector<CmdTiming> *t,
                 bool *err)
{
    size_t start = 0;
    bool first = true;
    *err = false;
    for (size_t i = 0; i <= p.n_cmds; i++) {
        if (i < p.n_cmds && p.cmds[i].op != RTL_OP_HOST)
            continue;
        bool e = false;
        if (i > start && !bench.run(p.cmds + start, i - start, mem, t, &e, first))
            return false;
        first = first && i == start;
        *err = *err || e;
        if (i < p.n_cmds && rtl_host_op_execute(&p, &p.host[p.cmds[i].x], mem) != TD_OK) {
            fprintf(stderr, "host step: %s\n", td_error_message());
            return false;
        }
        start = i + 1;
    }
    return true;
}

// A network (rtl_net_case_init: built-in, genome:SEED or ops:N) with random weights: every
// layer's output against direct loops.
void run_net_case(Bench &bench, const rtl_hw &hw, const char *name, uint64_t seed)
{
    td_rng rng;
    rtl_net_case nc;
    rtl_program p;
    rtl_net_io io;
    if (td_rng_init(&rng, seed) != TD_OK || rtl_net_case_init(&nc, name, hw.bits, &rng) != TD_OK) {
        fprintf(stderr, "%s: %s\n", name, td_error_message());
        g_fail++;
        return;
    }
    if (rtl_program_init(&p, &hw) != TD_OK ||
        rtl_program_add_net(&p, nc.layers, nc.n_layers, nc.g.input, &io) != TD_OK) {
        fprintf(stderr, "%s: compile: %s\n", name, td_error_message());
        g_fail++;
        rtl_net_case_free(&nc);
        td_rng_free(&rng);
        return;
    }
    rtl_mem mem;
    std::vector<CmdTiming> t;
    bool err = false;
    if (rtl_mem_copy(&mem, &p.mem) != TD_OK) {
        g_fail++;
    } else {
        rtl_net_write_act(&p, &mem, io.input_addr, io.input, nc.input);
        if (!run_program(bench, p, &mem, &t, &err) || err) {
            fprintf(stderr, "%s: simulation failed or raised the error flag\n", name);
            g_fail++;
        }
        check_timing(hw, t, name);
        for (int32_t l = 0; l < nc.n_layers; l++) {
            nn_shape s = io.out_shape[l];
            std::vector<int32_t> y((size_t)(s.c * s.h * s.w));
            rtl_net_read_act(&p, &mem, io.out_addr[l], s, y.data());
            int bad = 0;
            for (size_t i = 0; i < y.size(); i++) {
                g_checked_outputs++;
                if (y[i] != nc.ref[l][i] && bad++ < 5)
                    fprintf(stderr, "%s layer %s: output %zu = %d, reference %d\n", name,
                            nc.layers[l].name, i, y[i], nc.ref[l][i]);
            }
            if (bad)
                g_fail++;
        }
        int64_t total = 0;
        for (const CmdTiming &c : t)
            total += c.measured;
        printf("%s: %d layers, %zu commands, %" PRId64 " core cycles (%" PRId64
               " predicted for the commands that do not use the memory port)\n",
               name, nc.n_layers, t.size(), total, rtl_program_compute_cycles(&p));
        rtl_mem_free(&mem);
    }
    rtl_program_free(&p);
    rtl_net_case_free(&nc);
    td_rng_free(&rng);
}

// Illegal commands raise the sticky error flag and take one cycle.
void run_error_case(Bench &bench, const rtl_hw &hw)
{
    rtl_mem mem;
    int64_t base;
    if (rtl_mem_init(&mem, rtl_hw_mem_bits(&hw)) != TD_OK ||
        rtl_mem_alloc(&mem, 1, &base) != TD_OK) {
        g_fail++;
        return;
    }
    rtl_cmd legal[2] = {{RTL_OP_NOP, 0, 0, 0, 0, 0, 0}, {RTL_OP_NOP, 0, 0, 0, 0, 0, 0}};
    rtl_cmd bad[2] = {{RTL_OP_NOP, 0, 0, 0, 0, 0, 0}, {14, 0, 0, 0, 0, 0, 0}};
    rtl_cmd wrong_df[1] = {
        {(uint8_t)(hw.dataflow == HW_DATAFLOW_WS ? RTL_OP_DRAIN : RTL_OP_PRELOAD), 0, 0, 0, 1, 1,
         0}};
    std::vector<CmdTiming> t;
    bool err = true;
    if (!bench.run(legal, 2, &mem, &t, &err) || err || t[0].measured != 1 || t[1].measured != 1) {
        fprintf(stderr, "error case: NOPs raised the error flag or took more than one cycle\n");
        g_fail++;
    }
    err = false;
    t.clear();
    if (!bench.run(bad, 2, &mem, &t, &err) || !err) {
        fprintf(stderr, "error case: opcode 14 did not raise the error flag\n");
        g_fail++;
    }
    err = false;
    t.clear();
    if (!bench.run(wrong_df, 1, &mem, &t, &err) || !err || t[0].measured != 1) {
        fprintf(stderr, "error case: a command of the other dataflow did not raise the flag\n");
        g_fail++;
    }
    rtl_mem_free(&mem);
}

} // namespace

int main(int argc, char **argv)
{
    Verilated::commandArgs(argc, argv);
    const rtl_hw hw = tb_hw();
    if (rtl_hw_check(&hw) != TD_OK) {
        fprintf(stderr, "tb: %s\n", td_error_message());
        return 1;
    }
    Bench bench;
    td_rng rng;
    if (td_rng_init(&rng, 2026) != TD_OK)
        return 1;
    const int R = hw.rows, C = hw.cols;
    char what[160];
    // Shapes: single element, exact tiles, partial tiles in every dimension, k beyond the
    // accumulator-width limit halves itself (rtl_case_gemm), m beyond the buffer depths.
    const int64_t shapes[][3] = {
        {1, 1, 1},
        {R, R, C},
        {2 * R + 1, 2 * R + 1, 2 * C + 1},
        {TB_XD + 3, 3 * R - 1, C + 1},
        {7, 37, 5},
        {13, 4 * R + 3, 3 * C - 1},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        rtl_case c;
        if (rtl_case_gemm(&c, &rng, hw.bits, hw.acc_bits, shapes[s][0], shapes[s][1],
                          shapes[s][2]) != TD_OK) {
            fprintf(stderr, "tb: %s\n", td_error_message());
            return 1;
        }
        snprintf(what, sizeof what, "gemm %zu", s);
        run_gemm_case(bench, hw, c, what);
        rtl_case_free(&c);
    }
    // Convolutions lowered by im2col: 3x3 pad 1, strided, 1x1, odd channel counts.
    const int64_t convs[][7] = {
        {3, 7, 6, 5, 3, 1, 1},
        {2, 9, 9, 3, 3, 2, 0},
        {5, 4, 5, 7, 1, 1, 0},
        {1, 6, 6, 2, 5, 1, 2},
    };
    for (size_t s = 0; s < sizeof convs / sizeof convs[0]; s++) {
        rtl_case c;
        if (rtl_case_conv(&c, &rng, hw.bits, convs[s][0], convs[s][1], convs[s][2], convs[s][3],
                          convs[s][4], convs[s][5], convs[s][6]) != TD_OK) {
            fprintf(stderr, "tb: %s\n", td_error_message());
            return 1;
        }
        if (nn_acc_bits_needed(hw.bits, c.k) - 1 > hw.acc_bits) {
            rtl_case_free(&c);
            continue;
        }
        snprintf(what, sizeof what, "conv %zu", s);
        run_gemm_case(bench, hw, c, what);
        rtl_case_free(&c);
    }
    run_error_case(bench, hw);
    // Depthwise / grouped convolutions, residual adds (vector-unit ADD), global average pools.
    // ops:3: fused max-pools, in column strips at the depth-8 and depth-16 corners; ops:4: a GAP
    // over 256 pixels (its accumulator need: the all-ones weights' bound)
    for (int i = 0; i < 5; i++) {
        snprintf(what, sizeof what, "ops:%d", i);
        run_net_case(bench, hw, what, 11 + (uint64_t)i);
    }
    if (TB_NET) {
        run_net_case(bench, hw, "ref-cnn", 7);
        // a network of the default search space (dwsep, MBConv, residual adds, GAP + fc)
        run_net_case(bench, hw, "genome:23", 8);
    }
    td_rng_free(&rng);
    printf("%s: %dx%d %d-bit acc %d %s: %" PRId64 " outputs and %" PRId64
           " command timings checked (%" PRId64 " COMPUTE cycles), %d failures\n",
           TB_NAME, R, C, hw.bits, hw.acc_bits, TB_DF ? "OS" : "WS", g_checked_outputs,
           g_checked_cmds, g_array_cycles, g_fail);
    return g_fail ? 1 : 0;
}
