// Internal (C++): the core as seen by the system model. Both cores (the SystemC twin and the
// Verilated rtl_top) sit behind this interface: the control handshakes are sc_signals that
// the sequencer and the memory-port server drive and sample on the rising clock edge, the
// wide data words go through set/get calls that convert to each core's port types.
#ifndef SIM_CORE_H
#define SIM_CORE_H

#include <systemc.h>

extern "C" {
#include "rtl_program.h"
#include "sim.h"
}

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tdsim
{

// Signals between the system and the core (rtl_top's ports, docs/rtl.md).
struct CoreBus {
    sc_signal<bool> rst_n{"rst_n"};
    sc_signal<bool> cmd_valid{"cmd_valid"}, cmd_ready{"cmd_ready"}, busy{"busy"}, err{"err"};
    sc_signal<uint32_t> cmd_w0{"cmd_w0"}, cmd_w1{"cmd_w1"}, cmd_w2{"cmd_w2"}, cmd_w3{"cmd_w3"};
    sc_signal<bool> req_valid{"req_valid"}, req_ready{"req_ready"}, req_we{"req_we"};
    sc_signal<uint32_t> req_addr{"req_addr"};
    sc_signal<bool> rsp_valid{"rsp_valid"};
};

class Core
{
  public:
    virtual ~Core() {}
    // Response data for the next rsp_valid (visible to the core from the next clock edge).
    virtual void set_rdata(const uint32_t *limbs, int n) = 0;
    // The write data the core drives with a write request (value before the clock edge).
    virtual void get_wdata(uint32_t *limbs, int n) = 0;
    // Adds the core's own activity counts (the twin counts; the RTL core's are counted by the
    // system from its commands, see sim_counters_from_cmd).
    virtual void trace(sc_trace_file *) {}
};

// Builds the core of the given kind bound to clk and bus; nullptr with td_fail set when no
// Verilated core matches hw.
std::unique_ptr<Core> core_make(sim_core_kind kind, const rtl_hw &hw, sc_clock &clk, CoreBus &bus);
std::unique_ptr<Core> twin_make(const rtl_hw &hw, sc_clock &clk, CoreBus &bus);
std::unique_ptr<Core> rtl_make(const rtl_hw &hw, sc_clock &clk, CoreBus &bus);

// Activity of one accepted command on the datapath (array, buffers, vector unit): the same
// counts for both cores, from the command fields alone.
void counters_from_cmd(const rtl_hw &hw, const rtl_cmd &c, sim_counters *k);

} // namespace tdsim

#endif
