// The system model (sim_system.h) and the cores' shared command accounting.
#include "sim_system.h"

#include <cmath>
#include <cstring>

namespace tdsim
{

std::unique_ptr<Core> core_make(sim_core_kind kind, const rtl_hw &hw, sc_clock &clk, CoreBus &bus)
{
    return kind == SIM_CORE_RTL ? rtl_make(hw, clk, bus) : twin_make(hw, clk, bus);
}

void counters_from_cmd(const rtl_hw &hw, const rtl_cmd &c, sim_counters *k)
{
    const int64_t R = hw.rows, C = hw.cols;
    const bool ws = hw.dataflow == HW_DATAFLOW_WS;
    k->commands++;
    switch (c.op) {
    case RTL_OP_PRELOAD:
        if (ws)
            k->ws_reads += c.n;
        break;
    case RTL_OP_COMPUTE:
        if (ws) {
            const int64_t kt = c.x >> 16, nt = c.t < C ? c.t : C;
            if (c.flags & RTL_FLAG_FUSE)
                k->ws_reads += kt;
            k->xs_reads += c.n;
            k->macs += (int64_t)c.n * kt * nt;
            k->pe_cycles += (int64_t)c.n * R * C;
            k->acc_writes += c.n;
            if (c.flags & RTL_FLAG_ACC)
                k->acc_reads += c.n;
        } else {
            const int64_t mt = c.x >> 16, nt = c.t < C ? c.t : C;
            k->xs_reads += c.n;
            k->ws_reads += c.n;
            k->macs += (int64_t)c.n * (mt < R ? mt : R) * nt;
            k->pe_cycles += (int64_t)c.n * R * C;
            if (c.flags & RTL_FLAG_FUSE) {
                k->acc_writes += mt < R ? mt : R;
                if (c.flags & RTL_FLAG_ACC)
                    k->acc_reads += mt < R ? mt : R;
            }
        }
        break;
    case RTL_OP_DRAIN:
        if (!ws)
            k->acc_writes += c.n;
        break;
    case RTL_OP_REQUANT:
        k->acc_reads += c.n;
        k->out_writes += c.n;
        k->requants += (int64_t)c.n * C;
        break;
    case RTL_OP_POOL: {
        int64_t oh = c.t, ow = c.x & 0xFFFF, kk = (c.x >> 16) & 0xFF;
        k->out_reads += oh * ow * kk * kk;
        k->out_writes += oh * ow;
        k->vector_ops += oh * ow * kk * kk * C;
        break;
    }
    case RTL_OP_LD_X:
        k->xs_writes += c.n;
        break;
    case RTL_OP_LD_W:
        k->ws_writes += c.n;
        break;
    case RTL_OP_LD_P:
        k->param_writes += c.n;
        break;
    case RTL_OP_STORE:
        k->out_reads += c.n;
        break;
    default:
        break;
    }
}

System::System(sc_module_name name, const rtl_hw &h, const hw_config *cfg, const sim_params &p,
               sim_core_kind kind, const char *trace_path)
    : sc_module(name), hw(h), word_bytes((rtl_hw_mem_bits(&h) + 7) / 8),
      limbs((rtl_hw_mem_bits(&h) + 31) / 32), prm(p), clk_("clk", 1, SC_NS)
{
    // One clock period is 1 ns of simulated time = one core cycle; DRAM figures are
    // converted to cycles with the config's clock.
    const double mhz = cfg ? cfg->clock_mhz : 1000.0;
    dram_.bytes_per_cycle = cfg ? cfg->dram_gbps * 1000.0 / mhz : 1e9;
    dram_.latency_cycles = cfg ? p.dram_latency_ns * mhz / 1000.0 : 0;
    l2_bytes = cfg ? (int64_t)cfg->l2_kib * 1024 : ((int64_t)1 << 40);
    l2_.init(l2_bytes / 2, p.burst_bytes, p.l2_banks);
    buf_.assign((size_t)limbs, 0);
    core_ = core_make(kind, hw, clk_, bus_);
    if (!core_)
        return;
    SC_METHOD(port_tick);
    sensitive << clk_.posedge_event();
    dont_initialize();
    SC_THREAD(seq_thread);
    if (trace_path && *trace_path) {
        std::string base(trace_path);
        if (base.size() > 4 && base.compare(base.size() - 4, 4, ".vcd") == 0)
            base.resize(base.size() - 4);
        tf_ = sc_create_vcd_trace_file(base.c_str());
        if (tf_) {
            tf_->set_time_unit(1, SC_NS);
            sc_trace(tf_, clk_, "clk");
            sc_trace(tf_, bus_.rst_n, "rst_n");
            sc_trace(tf_, bus_.cmd_valid, "cmd_valid");
            sc_trace(tf_, bus_.cmd_ready, "cmd_ready");
            sc_trace(tf_, bus_.cmd_w0, "cmd_w0");
            sc_trace(tf_, bus_.busy, "busy");
            sc_trace(tf_, bus_.err, "err");
            sc_trace(tf_, bus_.req_valid, "mem_req_valid");
            sc_trace(tf_, bus_.req_ready, "mem_req_ready");
            sc_trace(tf_, bus_.req_we, "mem_req_we");
            sc_trace(tf_, bus_.req_addr, "mem_req_addr");
            sc_trace(tf_, bus_.rsp_valid, "mem_rsp_valid");
            sc_trace(tf_, dram_stall_, "dram_stall");
            core_->trace(tf_);
        }
    }
}

System::~System()
{
    if (tf_)
        sc_close_vcd_trace_file(tf_);
}

int64_t System::now() const
{
    return (int64_t)(sc_time_stamp().value() / clk_.period().value());
}

void System::wait_cycles(int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        wait(clk_.posedge_event());
}

double System::dma_fetch(double bytes)
{
    counters.dram_read_bytes += (int64_t)bytes;
    counters.l2_write_bytes += (int64_t)bytes;
    return dram_.transfer((double)now(), bytes);
}

void System::writeback(double bytes)
{
    wb_pending_ += bytes;
    while (wb_pending_ >= prm.burst_bytes) {
        wb_done_ = dram_.transfer((double)now(), prm.burst_bytes);
        counters.dram_write_bytes += prm.burst_bytes;
        counters.l2_read_bytes += prm.burst_bytes;
        wb_pending_ -= prm.burst_bytes;
    }
}

double System::word_available(int64_t addr, double t)
{
    for (const Region &r : map_->onchip)
        if (addr >= r.lo && addr < r.hi)
            return r.arrival(addr);
    const int64_t block = addr * word_bytes / prm.burst_bytes;
    double a = l2_.lookup(block);
    if (a < 0) { // never fetched, or evicted: demand fetch
        a = dma_fetch(prm.burst_bytes);
        l2_.insert(block, a);
        mark_fill(block, a);
    }
    (void)t;
    return a;
}

void System::prefetch_group(size_t g)
{
    if (g >= group_start_.size() || fetched_[g])
        return;
    fetched_[g] = true;
    const size_t end = g + 1 < group_start_.size() ? group_start_[g + 1] : prog_->n_cmds;
    for (size_t i = group_start_[g]; i < end; i++) {
        const rtl_cmd &c = prog_->cmds[i];
        if (c.op != RTL_OP_LD_X && c.op != RTL_OP_LD_W && c.op != RTL_OP_LD_P)
            continue;
        int64_t lo = c.x, hi = (int64_t)c.x + c.n;
        bool onchip = false;
        for (const Region &r : map_->onchip)
            if (lo >= r.lo && hi <= r.hi)
                onchip = true;
        if (onchip || c.n == 0)
            continue;
        const int64_t b0 = lo * word_bytes / prm.burst_bytes;
        const int64_t b1 = (hi * word_bytes - 1) / prm.burst_bytes;
        for (int64_t b = b0; b <= b1; b++)
            if (l2_.lookup(b) < 0) {
                const double a = dma_fetch(prm.burst_bytes);
                l2_.insert(b, a);
                mark_fill(b, a);
            }
    }
}

void System::port_tick()
{
    const int64_t t = now();
    bus_.rsp_valid.write(false);
    bus_.req_ready.write(!rsp_pending_);
    if (rsp_pending_) {
        if (t >= rsp_at_) {
            core_->set_rdata(mem_->data + (size_t)rsp_addr_ * (size_t)mem_->limbs, mem_->limbs);
            bus_.rsp_valid.write(true);
            rsp_pending_ = false;
            bus_.req_ready.write(true);
            dram_stall_.write(false);
        }
        return;
    }
    if (!bus_.req_valid.read() || !mem_)
        return;
    // Handshake at this edge (req_ready is high whenever no read is outstanding).
    const int64_t addr = bus_.req_addr.read();
    if (addr >= mem_->n_words) {
        SC_REPORT_ERROR("sim", ("memory request to word " + std::to_string(addr) + " of " +
                                std::to_string(mem_->n_words))
                                   .c_str());
        return;
    }
    if (bus_.req_we.read()) {
        core_->get_wdata(buf_.data(), mem_->limbs);
        std::memcpy(mem_->data + (size_t)addr * (size_t)mem_->limbs, buf_.data(),
                    (size_t)mem_->limbs * sizeof(uint32_t));
        counters.l2_write_bytes += word_bytes;
        if (!(map_ && map_->out_onchip && addr >= map_->out_lo && addr < map_->out_hi))
            writeback(word_bytes);
        return;
    }
    counters.l2_read_bytes += word_bytes;
    double avail = map_ ? word_available(addr, (double)t) : 0;
    int64_t at = t + prm.l2_read_cycles - 1;
    int64_t a = (int64_t)cycle_ceil(avail);
    if (a > at) {
        counters.stall_cycles[SIM_STALL_DRAM] += a - at;
        at = a;
        dram_stall_.write(true);
    }
    // The L2 read happens in cycle `at`; a DMA fill landing in the same bank then goes first.
    const int64_t bank = (addr * word_bytes / prm.burst_bytes) % prm.l2_banks;
    if (bank_fill_.count(at * prm.l2_banks + bank)) {
        counters.stall_cycles[SIM_STALL_BANK]++;
        at++;
    }
    if (at <= t) {
        core_->set_rdata(mem_->data + (size_t)addr * (size_t)mem_->limbs, mem_->limbs);
        bus_.rsp_valid.write(true);
    } else {
        rsp_pending_ = true;
        rsp_addr_ = addr;
        rsp_at_ = at;
        bus_.req_ready.write(false);
    }
}

void System::seq_thread()
{
    bus_.rst_n.write(false);
    bus_.cmd_valid.write(false);
    wait_cycles(2);
    bus_.rst_n.write(true);
    wait_cycles(1);
    if (job)
        job(*this);
    sc_stop();
}

void System::run_program(const rtl_program *p, rtl_mem *mem, ProgMemMap &map,
                         std::vector<CmdRecord> *rec)
{
    prog_ = p;
    mem_ = mem;
    map_ = &map;
    wb_pending_ = 0;
    // Each program (a layer of sim_run_net) has its own memory image whose addresses start
    // at 0: blocks cached for an earlier program are other data (they gave false hits).
    // What legitimately stays on chip between layers is map.onchip, not the block cache.
    l2_.clear();
    // Tile groups: a run of loads and the commands after it up to the next load.
    group_start_.clear();
    for (size_t i = 0; i < p->n_cmds; i++) {
        const int op = p->cmds[i].op;
        const bool ld = op == RTL_OP_LD_X || op == RTL_OP_LD_W || op == RTL_OP_LD_P;
        const bool prev_ld =
            i > 0 && (p->cmds[i - 1].op == RTL_OP_LD_X || p->cmds[i - 1].op == RTL_OP_LD_W ||
                      p->cmds[i - 1].op == RTL_OP_LD_P);
        if (i == 0 || (ld && !prev_ld))
            group_start_.push_back(i);
    }
    fetched_.assign(group_start_.size(), false);
    size_t g = 0;
    if (rec)
        rec->assign(p->n_cmds, CmdRecord{0, 0});
    for (size_t i = 0; i < p->n_cmds; i++) {
        if (g < group_start_.size() && group_start_[g] == i) {
            prefetch_group(g);     // normally already in flight
            prefetch_group(g + 1); // double buffering: the next tile's operands
            g++;
        }
        // A streamed input (too large to stay in L2): each output-column pass (it starts with
        // LD_P) re-streams the packed input of its GEMM from DRAM; the DMA forms the im2col
        // lines on chip as it lands.
        if (p->cmds[i].op == RTL_OP_LD_P) {
            Region *rg = nullptr;
            for (Region &r : map.onchip)
                if (r.stream_bytes > 0 && r.lo <= (int64_t)p->cmds[i].x)
                    rg = &r;
            if (rg) {
                const double t1 = dma_fetch(rg->stream_bytes);
                const double first = t1 - (rg->stream_bytes - word_bytes) / dram_.bytes_per_cycle;
                rg->t0 = first < t1 ? first : t1;
                rg->t1 = t1;
            }
        }
        if (p->cmds[i].op == RTL_OP_HOST) {
            // A host layout step (im2col, scatter, transpose; rtl_program.h) between core
            // commands: once the core is idle it rewrites external memory, in zero core cycles.
            // (the previous command was accepted at this edge: wait for it to finish)
            bus_.cmd_valid.write(false);
            if (i > 0 && p->cmds[i - 1].op != RTL_OP_HOST)
                do
                    wait(clk_.posedge_event());
                while (!bus_.cmd_ready.read());
            const int64_t t = now();
            if (rec) {
                (*rec)[i].accept = (*rec)[i].end = t;
                if (i > 0 && p->cmds[i - 1].op != RTL_OP_HOST)
                    (*rec)[i - 1].end = t;
            }
            if (p->cmds[i].x >= p->n_host ||
                rtl_host_op_execute(p, &p->host[p->cmds[i].x], mem_) != TD_OK)
                host_err_ = true;
            continue;
        }
        uint32_t w[RTL_CMD_WORDS];
        rtl_cmd_pack(&p->cmds[i], w);
        bus_.cmd_w0.write(w[0]);
        bus_.cmd_w1.write(w[1]);
        bus_.cmd_w2.write(w[2]);
        bus_.cmd_w3.write(w[3]);
        bus_.cmd_valid.write(true);
        do
            wait(clk_.posedge_event());
        while (!bus_.cmd_ready.read());
        const int64_t t = now();
        if (rec) {
            (*rec)[i].accept = t;
            if (i > 0 && p->cmds[i - 1].op != RTL_OP_HOST)
                (*rec)[i - 1].end = t;
        }
        counters_from_cmd(hw, p->cmds[i], &counters);
    }
    bus_.cmd_valid.write(false);
    // The core has finished when it shows ready again.
    do
        wait(clk_.posedge_event());
    while (!bus_.cmd_ready.read());
    if (rec && p->n_cmds && p->cmds[p->n_cmds - 1].op != RTL_OP_HOST)
        (*rec)[p->n_cmds - 1].end = now();
    // Output write-back: the last partial burst, then wait for the channel.
    if (wb_pending_ > 0) {
        wb_done_ = dram_.transfer((double)now(), wb_pending_);
        counters.dram_write_bytes += (int64_t)wb_pending_;
        counters.l2_read_bytes += (int64_t)wb_pending_;
        wb_pending_ = 0;
    }
    int64_t done = (int64_t)cycle_ceil(wb_done_);
    if (done > now()) {
        counters.stall_cycles[SIM_STALL_WRITEBACK] += done - now();
        wait_cycles(done - now());
    }
    map_ = nullptr;
    mem_ = nullptr;
    bank_fill_.clear();
}

void System::run_vector(int64_t ops, int64_t requants, int64_t in_bytes, int64_t l2_in,
                        int64_t out_bytes, bool out_onchip, int64_t *vector_cycles)
{
    const int64_t t0 = now();
    const int64_t lanes = hw.cols; // overwritten by the caller's lane count via ops scaling
    (void)lanes;
    double in_done = in_bytes > 0 ? dma_fetch((double)in_bytes) : (double)t0;
    counters.l2_read_bytes += l2_in + in_bytes;
    counters.vector_ops += ops;
    counters.requants += requants;
    counters.l2_write_bytes += out_bytes;
    const int64_t vc = *vector_cycles;
    int64_t end = t0 + vc;
    if ((int64_t)cycle_ceil(in_done) > end)
        end = (int64_t)cycle_ceil(in_done);
    if (!out_onchip) {
        double wb = dram_.transfer((double)end, (double)out_bytes);
        counters.dram_write_bytes += out_bytes;
        counters.l2_read_bytes += out_bytes;
        if ((int64_t)cycle_ceil(wb) > end)
            end = (int64_t)cycle_ceil(wb);
    }
    if (end - t0 > vc)
        counters.stall_cycles[SIM_STALL_DRAM] += end - t0 - vc;
    wait_cycles(end - t0);
}

} // namespace tdsim
