// Internal (C++): the system model around the core (docs/sim.md, "System model").
//  - Dram: one channel, bandwidth (bytes per cycle) and first-byte latency, bursts served in
//    order; reads (DMA fetches) and writes (output write-back) share it.
//  - L2: the global buffer. Half of it stages DMA fetches (a block cache of burst-sized
//    blocks, LRU, banks interleaved by block); the other half holds a layer's output when it
//    fits, so the next layer reads it on chip.
//  - PortServer: the far side of the core's memory port. A read is answered after the L2
//    read latency when its block has arrived, else when the DMA fetch lands (DRAM stall); a
//    block that was never fetched is fetched on demand.
//  - Sequencer: feeds a compiled program to the core over the command handshake and runs
//    the DMA one tile ahead (double buffering): when the core starts tile g, the DMA starts
//    fetching tile g+1's operands into the other staging buffer.
#ifndef SIM_SYSTEM_H
#define SIM_SYSTEM_H

#include "sim_core.h"

#include <cmath>
#include <functional>
#include <list>
#include <unordered_map>
#include <unordered_set>

namespace tdsim
{

inline int64_t cdiv64(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

// The first whole cycle at or after t (arrival times are fractional; a hair of rounding noise
// must not cost a cycle).
inline int64_t cycle_ceil(double t)
{
    return (int64_t)std::ceil(t - 1e-6);
}

struct Dram {
    double bytes_per_cycle = 1, latency_cycles = 0, next_free = 0;
    // Schedules a transfer requested at cycle t; returns the cycle its last byte lands.
    double transfer(double t, double bytes)
    {
        double start = t > next_free ? t : next_free;
        next_free = start + bytes / bytes_per_cycle;
        return next_free + latency_cycles;
    }
};

// A region of external words that lives on chip (a layer input held in L2, or a DMA
// im2col of an input fetched once): word w is available from arrival(w).
struct Region {
    int64_t lo, hi;
    double t0, t1;           // first and last word's arrival (linear in between)
    double stream_bytes = 0; // > 0: re-streamed from DRAM (this many bytes) at each LD_P pass
    double arrival(int64_t w) const
    {
        return hi - lo <= 1 ? t1 : t0 + (t1 - t0) * (double)(w - lo) / (double)(hi - lo - 1);
    }
};

class L2
{
  public:
    void init(int64_t staging_bytes, int32_t block_bytes, int32_t banks)
    {
        block_bytes_ = block_bytes;
        cap_ = staging_bytes / block_bytes > 2 ? staging_bytes / block_bytes : 2;
        banks_ = banks;
        clear();
    }
    void clear()
    {
        lru_.clear();
        map_.clear();
    }
    // Arrival cycle of a block, or -1 when absent (touches it as most recently used).
    double lookup(int64_t block)
    {
        auto it = map_.find(block);
        if (it == map_.end())
            return -1;
        lru_.splice(lru_.begin(), lru_, it->second.second);
        return it->second.first;
    }
    void insert(int64_t block, double arrival)
    {
        auto it = map_.find(block);
        if (it != map_.end()) {
            it->second.first = arrival;
            return;
        }
        if ((int64_t)map_.size() >= cap_) {
            map_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(block);
        map_[block] = {arrival, lru_.begin()};
    }
    int32_t bank(int64_t block) const
    {
        return (int32_t)(block % banks_);
    }
    int32_t block_bytes() const
    {
        return block_bytes_;
    }

  private:
    int32_t block_bytes_ = 64, banks_ = 1;
    int64_t cap_ = 2;
    std::list<int64_t> lru_;
    std::unordered_map<int64_t, std::pair<double, std::list<int64_t>::iterator>> map_;
};

// What a program run needs to know about where its external words live.
struct ProgMemMap {
    std::vector<Region> onchip;     // X regions held in L2 (input on chip or DMA im2col)
    int64_t out_lo = 0, out_hi = 0; // Y words: written to L2
    bool out_onchip = false;        // Y stays in L2 (else it is written back to DRAM)
};

// Per-command record of a program run.
struct CmdRecord {
    int64_t accept, end;
};

class System : public sc_module
{
  public:
    SC_HAS_PROCESS(System);
    System(sc_module_name name, const rtl_hw &hw, const hw_config *cfg, const sim_params &prm,
           sim_core_kind kind, const char *trace_path);
    ~System() override;

    bool ok() const
    {
        return core_ != nullptr;
    }
    // The core's error flag, or a host step that failed (bad index or out of memory range).
    bool core_err() const
    {
        return bus_.err.read() || host_err_;
    }
    double bytes_per_cycle() const
    {
        return dram_.bytes_per_cycle;
    }
    // The job run by the sequencer thread after reset; sc_stop() follows it.
    std::function<void(System &)> job;

    // Runs a program on the core (called from the job): ext memory mem is read and written;
    // host steps (RTL_OP_HOST) run on mem between commands, in zero core cycles.
    void run_program(const rtl_program *p, rtl_mem *mem, ProgMemMap &map,
                     std::vector<CmdRecord> *rec);
    // Models a vector-unit layer: ops element operations, in_bytes fetched from DRAM (0 when
    // on chip), l2_in bytes read from L2, out_bytes written (to DRAM unless out_onchip).
    void run_vector(int64_t ops, int64_t requants, int64_t in_bytes, int64_t l2_in,
                    int64_t out_bytes, bool out_onchip, int64_t *vector_cycles);
    // Fetches bytes from DRAM now (DMA); returns the arrival of the last byte.
    double dma_fetch(double bytes);
    void wait_cycles(int64_t n);
    int64_t now() const;

    sim_counters counters{};
    const rtl_hw hw;
    const int32_t word_bytes, limbs;
    const sim_params prm;
    int64_t l2_bytes;

  private:
    void port_tick();
    void seq_thread();
    double word_available(int64_t addr, double t);
    void prefetch_group(size_t g);
    void writeback(double bytes);

    sc_clock clk_;
    CoreBus bus_;
    std::unique_ptr<Core> core_;
    sc_trace_file *tf_ = nullptr;
    Dram dram_;
    L2 l2_;
    // current program
    const rtl_program *prog_ = nullptr;
    rtl_mem *mem_ = nullptr;
    ProgMemMap *map_ = nullptr;
    std::vector<size_t> group_start_; // first command of each tile group
    std::vector<bool> fetched_;
    double wb_pending_ = 0, wb_done_ = 0;
    bool host_err_ = false;
    // port server state
    bool rsp_pending_ = false;
    int64_t rsp_addr_ = 0, rsp_at_ = 0;
    std::vector<uint32_t> buf_;
    sc_signal<bool> dram_stall_{"dram_stall"};
    // L2 bank fills by the DMA: (cycle * banks + bank) of each block landing
    std::unordered_set<int64_t> bank_fill_;
    void mark_fill(int64_t block, double arrival)
    {
        bank_fill_.insert(cycle_ceil(arrival) * prm.l2_banks + l2_.bank(block));
    }
};

} // namespace tdsim

#endif
