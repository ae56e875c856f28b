// The SystemC behavioural twin of rtl_top (docs/sim.md, "Twin"): the controller's port-level
// state machine cycle for cycle (command handshake, memory requests and responses), and each
// array / vector command as one value update at its acceptance followed by exactly the
// cycles the RTL spends on it (rtl_cmd_cycles, i.e. hw_timing.h). The datapath values are
// computed here, independently of the RTL and of rtl_program's C model.
#include "sim_core.h"

extern "C" {
#include "nn_intmath.h"
}

#include <cstring>

namespace tdsim
{

namespace
{

typedef __int128 acc_t;

acc_t wrap_acc(acc_t v, int bits)
{
    if (bits >= 127)
        return v;
    unsigned __int128 mask = ((unsigned __int128)1 << bits) - 1;
    unsigned __int128 u = (unsigned __int128)v & mask;
    if (u >> (bits - 1))
        u |= ~mask;
    return (acc_t)u;
}

int64_t get_bits(const uint32_t *w, int lsb, int width, bool is_signed)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++) {
        int bit = lsb + i;
        v |= (uint64_t)((w[bit / 32] >> (bit % 32)) & 1u) << i;
    }
    if (is_signed && width < 64 && ((v >> (width - 1)) & 1u))
        v |= ~(uint64_t)0 << width;
    return (int64_t)v;
}

void set_bits(uint32_t *w, int lsb, int width, int64_t v)
{
    for (int i = 0; i < width; i++) {
        int bit = lsb + i;
        uint32_t b = i < 64 ? (uint32_t)((uint64_t)v >> i) & 1u : (uint32_t)(v < 0);
        w[bit / 32] = (w[bit / 32] & ~(1u << (bit % 32))) | b << (bit % 32);
    }
}

} // namespace

class Twin : public sc_module, public Core
{
  public:
    SC_HAS_PROCESS(Twin);
    Twin(sc_module_name name, const rtl_hw &hw, sc_clock &clk, CoreBus &bus)
        : sc_module(name), hw_(hw), bus_(bus)
    {
        const size_t R = (size_t)hw.rows, C = (size_t)hw.cols;
        limbs_ = (rtl_hw_mem_bits(&hw) + 31) / 32;
        xs_.assign((size_t)hw.x_depth * R, 0);
        ws_.assign((size_t)hw.w_depth * C, 0);
        ob_.assign((size_t)hw.out_depth * C, 0);
        acc_.assign((size_t)hw.acc_depth * C, 0);
        bias_.assign(C, 0);
        mult_.assign(C, 0);
        shift_.assign(C, 1);
        pe_w_.assign(R * C, 0);
        pe_acc_.assign(R * C, 0);
        rdata_.assign((size_t)limbs_, 0);
        wdata_.assign((size_t)limbs_, 0);
        SC_METHOD(tick);
        sensitive << clk.posedge_event(); // synchronous view of rst_ni (held for 2 cycles)
        dont_initialize();
    }

    void set_rdata(const uint32_t *limbs, int n) override
    {
        for (int i = 0; i < limbs_; i++)
            rdata_[(size_t)i] = i < n ? limbs[i] : 0;
    }
    void get_wdata(uint32_t *limbs, int n) override
    {
        for (int i = 0; i < n; i++)
            limbs[i] = i < limbs_ ? wdata_[(size_t)i] : 0;
    }

  private:
    enum State { IDLE, LD_REQ, LD_RSP, ST_RD, ST_REQ, BUSY };

    void outputs()
    {
        bus_.cmd_ready.write(state_ == IDLE);
        bus_.busy.write(state_ != IDLE);
        bus_.err.write(err_);
        bus_.req_valid.write(state_ == LD_REQ || state_ == ST_REQ);
        bus_.req_we.write(state_ == ST_REQ);
        bus_.req_addr.write(c_.x + (uint32_t)cnt_);
    }

    void tick()
    {
        if (!bus_.rst_n.read()) {
            state_ = IDLE;
            err_ = false;
            cnt_ = 0;
            c_ = rtl_cmd{};
            std::fill(shift_.begin(), shift_.end(), 1);
            std::fill(bias_.begin(), bias_.end(), 0);
            std::fill(mult_.begin(), mult_.end(), 0);
            add_ma_ = add_mb_ = 0;
            add_shift_ = 1;
            outputs();
            return;
        }
        switch (state_) {
        case IDLE:
            cnt_ = 0;
            if (bus_.cmd_valid.read())
                accept();
            break;
        case LD_REQ:
            if (bus_.req_ready.read())
                state_ = LD_RSP;
            break;
        case LD_RSP:
            if (bus_.rsp_valid.read()) {
                load_word(c_.a + cnt_);
                cnt_++;
                state_ = cnt_ == c_.n ? IDLE : LD_REQ;
            }
            break;
        case ST_RD: {
            const int64_t C = hw_.cols, line = (c_.a + cnt_) % hw_.out_depth;
            std::fill(wdata_.begin(), wdata_.end(), 0);
            for (int64_t l = 0; l < C; l++)
                set_bits(wdata_.data(), (int)(l * hw_.bits), hw_.bits, ob_[(size_t)(line * C + l)]);
            state_ = ST_REQ;
            break;
        }
        case ST_REQ:
            if (bus_.req_ready.read()) {
                cnt_++;
                state_ = cnt_ == c_.n ? IDLE : ST_RD;
            }
            break;
        case BUSY:
            if (--remaining_ == 0)
                state_ = IDLE;
            break;
        }
        outputs();
    }

    void accept()
    {
        uint32_t w[RTL_CMD_WORDS] = {bus_.cmd_w0.read(), bus_.cmd_w1.read(), bus_.cmd_w2.read(),
                                     bus_.cmd_w3.read()};
        rtl_cmd c;
        // Reserved bits are ignored by the RTL controller; unknown opcodes raise err.
        c.op = w[0] & 0xF;
        c.flags = (w[0] >> 4) & 0xF;
        c.a = (uint16_t)(w[0] >> 8);
        c.b = (uint16_t)((w[0] >> 24) | (w[1] & 0xFF) << 8);
        c.n = (uint16_t)(w[1] >> 8);
        c.t = (uint16_t)((w[1] >> 24) | (w[2] & 0xFF) << 8);
        c.x = (w[2] >> 8) | (w[3] & 0xFF) << 24;
        c_ = c;
        const bool ws = hw_.dataflow == HW_DATAFLOW_WS;
        switch (c.op) {
        case RTL_OP_NOP:
            return;
        case RTL_OP_LD_X:
        case RTL_OP_LD_W:
        case RTL_OP_LD_P:
            state_ = c.n == 0 ? IDLE : LD_REQ;
            return;
        case RTL_OP_STORE:
            state_ = c.n == 0 ? IDLE : ST_RD;
            return;
        case RTL_OP_PRELOAD:
            if (!ws) {
                err_ = true;
                return;
            }
            break;
        case RTL_OP_DRAIN:
            if (ws) {
                err_ = true;
                return;
            }
            break;
        case RTL_OP_ADD_CFG: // the controller latches the add parameters at acceptance
            add_ma_ = c.x;
            add_mb_ = (uint32_t)c.b << 16 | c.a;
            add_shift_ = c.n & 0x7F;
            return;
        case RTL_OP_COMPUTE:
        case RTL_OP_REQUANT:
        case RTL_OP_POOL:
        case RTL_OP_ADD:
            break;
        default:
            err_ = true;
            return;
        }
        execute(c);
        int64_t cycles = rtl_cmd_cycles(&hw_, &c);
        remaining_ = cycles - 1;
        state_ = remaining_ > 0 ? BUSY : IDLE;
    }

    void load_word(int64_t line)
    {
        const int64_t R = hw_.rows, C = hw_.cols, b = hw_.bits;
        const uint32_t *w = rdata_.data();
        if (c_.op == RTL_OP_LD_P) {
            // The RTL's parameter index has max(1, clog2(Cols)) bits.
            int64_t idx_bits = C > 1 ? 64 - __builtin_clzll((uint64_t)(C - 1)) : 1;
            int64_t col = line & ((1ll << idx_bits) - 1);
            if (col >= C)
                return;
            int bw = hw_.acc_bits < 64 ? hw_.acc_bits : 64;
            bias_[(size_t)col] = get_bits(w, 0, bw, true);
            mult_[(size_t)col] = get_bits(w, hw_.acc_bits, 32, false);
            shift_[(size_t)col] = get_bits(w, hw_.acc_bits + 32, 7, false);
            return;
        }
        const bool x = c_.op == RTL_OP_LD_X;
        const int64_t lanes = x ? R : C, depth = x ? hw_.x_depth : hw_.w_depth;
        int64_t *dst = (x ? xs_.data() : ws_.data()) + (line % depth) * lanes;
        for (int64_t l = 0; l < lanes; l++)
            dst[l] = get_bits(w, (int)(l * b), (int)b, true);
    }

    int64_t requant(acc_t acc, int64_t l, int64_t lo, int64_t hi) const
    {
        acc_t sum = acc + (acc_t)bias_[(size_t)l];
        int s = (int)shift_[(size_t)l];
        acc_t prod = sum * (acc_t)(uint64_t)mult_[(size_t)l];
        acc_t rnd = prod + ((acc_t)1 << (s - 1));
        acc_t v = s >= 127 ? 0 : rnd >> s;
        if (v < lo)
            return lo;
        if (v > hi)
            return hi;
        return (int64_t)v;
    }

    void execute(const rtl_cmd &c)
    {
        const int64_t R = hw_.rows, C = hw_.cols, b = hw_.bits, A = hw_.acc_bits;
        const bool ws = hw_.dataflow == HW_DATAFLOW_WS;
        const bool fuse = (c.flags & RTL_FLAG_FUSE) != 0, accf = (c.flags & RTL_FLAG_ACC) != 0;
        auto X = [&](int64_t line, int64_t r) {
            return xs_[(size_t)((line % hw_.x_depth) * R + r)];
        };
        auto W = [&](int64_t line, int64_t l) {
            return ws_[(size_t)((line % hw_.w_depth) * C + l)];
        };
        auto ACC = [&](int64_t line, int64_t l) -> acc_t & {
            return acc_[(size_t)((line % hw_.acc_depth) * C + l)];
        };
        auto OB = [&](int64_t line, int64_t l) -> int64_t & {
            return ob_[(size_t)((line % hw_.out_depth) * C + l)];
        };
        if (c.op == RTL_OP_REQUANT) {
            const int64_t qmin = -((int64_t)1 << (b - 1)), qmax = ((int64_t)1 << (b - 1)) - 1;
            const int64_t lo = (c.flags & RTL_FLAG_RELU) ? 0 : qmin;
            const int64_t hreq = (int32_t)c.x, hi = hreq < qmax ? hreq : qmax;
            for (int64_t i = 0; i < c.n; i++)
                for (int64_t l = 0; l < C; l++)
                    OB(c.b + i, l) = requant(ACC(c.a + i, l), l, lo, hi);
            return;
        }
        if (c.op == RTL_OP_ADD) {
            // clamp((A*Ma + B*Mb + 2^(S-1)) >> S): both operands from the weight scratchpad
            const int64_t qmin = -((int64_t)1 << (b - 1)), qmax = ((int64_t)1 << (b - 1)) - 1;
            const int64_t lo = (c.flags & RTL_FLAG_RELU) ? 0 : qmin;
            const int64_t hreq = (int32_t)c.x, hi = hreq < qmax ? hreq : qmax;
            const int s = add_shift_;
            for (int64_t i = 0; i < c.n; i++)
                for (int64_t l = 0; l < C; l++) {
                    acc_t sum = (acc_t)W(c.a + i, l) * (acc_t)add_ma_ +
                                (acc_t)W(c.b + i, l) * (acc_t)add_mb_;
                    // S = 0 (never compiled): no rounding constant, no shift, as the RTL
                    acc_t v = s == 0 ? sum : (sum + ((acc_t)1 << (s - 1))) >> s;
                    OB(c.t + i, l) = v < lo ? lo : v > hi ? hi : (int64_t)v;
                }
            return;
        }
        if (c.op == RTL_OP_POOL) {
            const int64_t in_w = c.n, oh = c.t, ow = c.x & 0xFFFF, k = (c.x >> 16) & 0xFF,
                          s = (c.x >> 24) & 0xFF;
            if (oh == 0 || ow == 0 || k == 0)
                return;
            for (int64_t y = 0; y < oh; y++)
                for (int64_t xx = 0; xx < ow; xx++)
                    for (int64_t l = 0; l < C; l++) {
                        int64_t best = 0;
                        for (int64_t ky = 0; ky < k; ky++)
                            for (int64_t kx = 0; kx < k; kx++) {
                                int64_t v = OB(c.a + (y * s + ky) * in_w + xx * s + kx, l);
                                if ((ky == 0 && kx == 0) || v > best)
                                    best = v;
                            }
                        OB(c.b + y * ow + xx, l) = best;
                    }
            return;
        }
        if (c.op == RTL_OP_PRELOAD || (c.op == RTL_OP_COMPUTE && ws && fuse)) {
            const int64_t wl = c.op == RTL_OP_PRELOAD ? c.a : (c.x & 0xFFFF);
            const int64_t kt = c.op == RTL_OP_PRELOAD ? c.n : (c.x >> 16);
            // kt lines shift in from the top: line r lands in row r, old rows move down kt
            for (int64_t r = R - 1; r >= 0; r--)
                for (int64_t l = 0; l < C; l++)
                    pe_w_[(size_t)(r * C + l)] =
                        r < kt ? W(wl + r, l) : pe_w_[(size_t)((r - kt) * C + l)];
            if (c.op == RTL_OP_PRELOAD)
                return;
        }
        int64_t drain_line = 0, drain_m = 0;
        if (c.op == RTL_OP_COMPUTE && ws) {
            for (int64_t m = 0; m < c.n; m++)
                for (int64_t l = 0; l < C && l < c.t; l++) {
                    acc_t s = 0; // rows >= k_t are not fed
                    for (int64_t r = 0; r < R && r < (int64_t)(c.x >> 16); r++)
                        s += (acc_t)X(c.a + m, r) * pe_w_[(size_t)(r * C + l)];
                    acc_t &d = ACC(c.b + m, l);
                    d = wrap_acc(accf ? d + s : s, (int)A);
                }
            return;
        }
        if (c.op == RTL_OP_COMPUTE) { // OS
            if (c.flags & RTL_FLAG_CLEAR)
                std::fill(pe_acc_.begin(), pe_acc_.end(), 0);
            for (int64_t k = 0; k < c.n; k++)
                for (int64_t r = 0; r < R; r++)
                    for (int64_t l = 0; l < C; l++) {
                        acc_t &p = pe_acc_[(size_t)(r * C + l)];
                        p = wrap_acc(p + (acc_t)X(c.a + k, r) * W(c.b + k, l), (int)A);
                    }
            if (!fuse)
                return;
            drain_line = c.x & 0xFFFF;
            drain_m = c.x >> 16;
        } else { // DRAIN
            drain_line = c.b;
            drain_m = c.n;
        }
        for (int64_t r = 0; r < R && r < drain_m; r++)
            for (int64_t l = 0; l < C && l < c.t; l++) {
                acc_t &d = ACC(drain_line + r, l);
                acc_t p = pe_acc_[(size_t)(r * C + l)];
                d = wrap_acc(accf ? d + p : p, (int)A);
            }
    }

    const rtl_hw hw_;
    CoreBus &bus_;
    int limbs_ = 1;
    std::vector<int64_t> xs_, ws_, ob_, bias_, mult_, shift_, pe_w_;
    std::vector<acc_t> acc_, pe_acc_;
    std::vector<uint32_t> rdata_, wdata_;
    State state_ = IDLE;
    bool err_ = false;
    int64_t cnt_ = 0, remaining_ = 0;
    rtl_cmd c_{};
    uint32_t add_ma_ = 0, add_mb_ = 0; // ADD_CFG
    int add_shift_ = 1;
};

std::unique_ptr<Core> twin_make(const rtl_hw &hw, sc_clock &clk, CoreBus &bus)
{
    return std::unique_ptr<Core>(new Twin("twin", hw, clk, bus));
}

} // namespace tdsim
