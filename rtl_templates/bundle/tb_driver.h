// The one Verilator driver of the core (rtl_top or a bundle's tandem_core), shared by the
// bundle testbench (tb/tb_main.cpp, which needs only Verilator and a C++ compiler) and the
// rtl tests (tests/rtl/tb_core.cpp). Header-only, no Tandem library: it feeds 128-bit tile
// commands over the valid/ready port and serves the core's memory port from a word image
// with a memory model that refuses a quarter of the requests and answers reads after 1 to 3
// cycles (docs/rtl.md, "Tests"). Host steps are the caller's: it runs the commands between
// two host steps with run(), then the step, then run() again without a reset.
#ifndef TB_DRIVER_H
#define TB_DRIVER_H

#include "verilated.h"

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace tbdrv
{

// ---- port access for every width Verilator uses ----
template <std::size_t N> inline void port_set(VlWide<N> &p, const uint32_t *w, int limbs)
{
    for (std::size_t i = 0; i < N; i++)
        p[i] = (int)i < limbs ? w[i] : 0;
}
inline void port_set(QData &p, const uint32_t *w, int limbs)
{
    p = w[0] | (limbs > 1 ? (uint64_t)w[1] << 32 : 0);
}
inline void port_set(IData &p, const uint32_t *w, int)
{
    p = w[0];
}
template <std::size_t N> inline void port_get(const VlWide<N> &p, uint32_t *w, int limbs)
{
    for (int i = 0; i < limbs; i++)
        w[i] = i < (int)N ? p[i] : 0;
}
inline void port_get(const QData &p, uint32_t *w, int limbs)
{
    w[0] = (uint32_t)p;
    if (limbs > 1)
        w[1] = (uint32_t)(p >> 32);
}
inline void port_get(const IData &p, uint32_t *w, int)
{
    w[0] = p;
}

// Drives one Verilated core. Model: the Verilated class (ports clk_i, rst_ni, cmd_*, mem_*,
// err_o as rtl_top has them).
template <class Model> class Driver
{
  public:
    Driver(Model *m, uint64_t seed) : m_(m), rng_(seed) {}

    uint64_t cycle() const
    {
        return cyc_;
    }
    bool err() const
    {
        return m_->err_o;
    }

    // Two cycles of reset, one after.
    void reset()
    {
        m_->clk_i = 0;
        m_->rst_ni = 0;
        m_->cmd_valid_i = 0;
        m_->mem_req_ready_i = 0;
        m_->mem_rsp_valid_i = 0;
        m_->eval();
        tick();
        tick();
        m_->rst_ni = 1;
        m_->eval();
        tick();
    }

    // Runs n commands (4 words each, least significant first) against the memory image
    // (`words` words of `limbs` 32-bit limbs), until the core is ready again after the last.
    // accept receives each command's acceptance cycle; a command's duration is the next
    // acceptance (or cycle() at the return, for the last) minus its own. False, with the
    // reason in *why, on a protocol error (request beyond the image, a second read
    // outstanding, no progress).
    bool run(const uint32_t *cmds, size_t n, uint32_t *mem, int64_t words, int limbs,
             std::vector<uint64_t> *accept, std::string *why)
    {
        accept->assign(n, 0);
        size_t next = 0;
        bool rsp_pending = false;
        uint64_t rsp_cycle = 0;
        std::vector<uint32_t> rsp(limbs), buf(limbs);
        for (uint64_t guard = 0;; guard++) {
            if (guard > 500000000ull) {
                *why = "timeout with " + std::to_string(next) + " of " + std::to_string(n) +
                       " commands issued";
                return false;
            }
            if (next == n && (n == 0 || cyc_ > (*accept)[n - 1]) && m_->cmd_ready_o)
                return true;
            m_->cmd_valid_i = next < n;
            static const uint32_t nop[4] = {0, 0, 0, 0};
            port_set(m_->cmd_i, next < n ? cmds + 4 * next : nop, 4);
            m_->mem_req_ready_i = (rand_next() % 4) != 0; // stalls a quarter of the cycles
            m_->mem_rsp_valid_i = rsp_pending && rsp_cycle == cyc_;
            port_set(m_->mem_rsp_rdata_i, rsp.data(), limbs);
            m_->eval();
            if (m_->cmd_valid_i && m_->cmd_ready_o)
                (*accept)[next++] = cyc_;
            if (m_->mem_rsp_valid_i)
                rsp_pending = false;
            if (m_->mem_req_valid_o && m_->mem_req_ready_i) {
                const uint64_t a = m_->mem_req_addr_o;
                if (a >= (uint64_t)words) {
                    char msg[96];
                    snprintf(msg, sizeof msg, "memory request to word %" PRIu64 " of %" PRId64, a,
                             words);
                    *why = msg;
                    return false;
                }
                uint32_t *word = mem + a * (uint64_t)limbs;
                if (m_->mem_req_we_o) {
                    port_get(m_->mem_req_wdata_o, buf.data(), limbs);
                    std::memcpy(word, buf.data(), (size_t)limbs * sizeof(uint32_t));
                } else {
                    if (rsp_pending) {
                        *why = "second read request before the response";
                        return false;
                    }
                    std::memcpy(rsp.data(), word, (size_t)limbs * sizeof(uint32_t));
                    rsp_pending = true;
                    rsp_cycle = cyc_ + 1 + rand_next() % 3; // latency 1..3 cycles
                }
            }
            tick();
        }
    }

  private:
    void tick()
    {
        m_->clk_i = 1;
        m_->eval();
        m_->clk_i = 0;
        m_->eval();
        cyc_++;
    }
    uint32_t rand_next()
    {
        rng_ = rng_ * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(rng_ >> 33);
    }

    Model *m_;
    uint64_t rng_;
    uint64_t cyc_ = 0;
};

} // namespace tbdrv

#endif
