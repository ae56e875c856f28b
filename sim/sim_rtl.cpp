// The Verilated rtl_top (`verilator --sc --pins-bv 2`) behind the Core interface. One
// verilated model per parameter set listed in sim/CMakeLists.txt (SIM_RTL_VARIANTS); the
// generated sim_rtl_variants.inc includes their headers and lists them.
#include "sim_core.h"

#include <cstdio>
#include <string>

#ifdef SIM_HAVE_RTL
#include "sim_rtl_headers.inc"
#endif

namespace tdsim
{

#ifdef SIM_HAVE_RTL
namespace
{

template <class V, int MB> class RtlCore : public sc_module, public Core
{
  public:
    SC_HAS_PROCESS(RtlCore);
    RtlCore(sc_module_name name, sc_clock &clk, CoreBus &bus)
        : sc_module(name), v_("rtl_top"), bus_(bus)
    {
        v_.clk_i(clk);
        v_.rst_ni(bus.rst_n);
        v_.cmd_valid_i(bus.cmd_valid);
        v_.cmd_ready_o(bus.cmd_ready);
        v_.cmd_i(cmd_s_);
        v_.busy_o(bus.busy);
        v_.err_o(bus.err);
        v_.mem_req_valid_o(bus.req_valid);
        v_.mem_req_ready_i(bus.req_ready);
        v_.mem_req_we_o(bus.req_we);
        v_.mem_req_addr_o(addr_s_);
        v_.mem_req_wdata_o(wdata_s_);
        v_.mem_rsp_valid_i(bus.rsp_valid);
        v_.mem_rsp_rdata_i(rdata_s_);
        SC_METHOD(cmd_conv);
        sensitive << bus.cmd_w0 << bus.cmd_w1 << bus.cmd_w2 << bus.cmd_w3;
        SC_METHOD(addr_conv);
        sensitive << addr_s_;
    }

    void set_rdata(const uint32_t *limbs, int n) override
    {
        sc_bv<MB> v;
        for (int i = 0; i * 32 < MB; i++) {
            int w = MB - i * 32 < 32 ? MB - i * 32 : 32;
            v.range(i * 32 + w - 1, i * 32) = i < n ? limbs[i] : 0u;
        }
        rdata_s_.write(v);
    }
    void get_wdata(uint32_t *limbs, int n) override
    {
        const sc_bv<MB> v = wdata_s_.read();
        for (int i = 0; i < n; i++) {
            if (i * 32 >= MB) {
                limbs[i] = 0;
                continue;
            }
            int w = MB - i * 32 < 32 ? MB - i * 32 : 32;
            limbs[i] = (uint32_t)v.range(i * 32 + w - 1, i * 32).to_uint();
        }
    }
    void trace(sc_trace_file *tf) override
    {
        sc_trace(tf, cmd_s_, "core.cmd");
        sc_trace(tf, addr_s_, "core.mem_req_addr");
    }

  private:
    void cmd_conv()
    {
        sc_bv<128> v;
        v.range(31, 0) = bus_.cmd_w0.read();
        v.range(63, 32) = bus_.cmd_w1.read();
        v.range(95, 64) = bus_.cmd_w2.read();
        v.range(127, 96) = bus_.cmd_w3.read();
        cmd_s_.write(v);
    }
    void addr_conv()
    {
        bus_.req_addr.write((uint32_t)addr_s_.read().to_uint());
    }

    V v_;
    CoreBus &bus_;
    sc_signal<sc_bv<128>> cmd_s_{"cmd_s"};
    sc_signal<sc_bv<32>> addr_s_{"addr_s"};
    sc_signal<sc_bv<MB>> wdata_s_{"wdata_s"}, rdata_s_{"rdata_s"};
};

struct Variant {
    const char *name;
    rtl_hw hw;
    Core *(*make)(sc_clock &clk, CoreBus &bus);
};

#define SIM_RTL_VARIANT(NAME, CLASS, R, C, B, A, DF, XD, WD, AD, OD, MB)                           \
    {NAME,                                                                                         \
     {R, C, B, A, (DF) ? HW_DATAFLOW_OS : HW_DATAFLOW_WS, XD, WD, AD, OD},                         \
     [](sc_clock &clk, CoreBus &bus) -> Core * {                                                   \
         return new RtlCore<CLASS, MB>("rtl", clk, bus);                                           \
     }},
const Variant variants[] = {
#include "sim_rtl_variants.inc"
};
#undef SIM_RTL_VARIANT

bool same_hw(const rtl_hw &a, const rtl_hw &b)
{
    return a.rows == b.rows && a.cols == b.cols && a.bits == b.bits && a.acc_bits == b.acc_bits &&
           a.dataflow == b.dataflow && a.x_depth == b.x_depth && a.w_depth == b.w_depth &&
           a.acc_depth == b.acc_depth && a.out_depth == b.out_depth;
}

const char *const *variant_names()
{
    static const char *names[sizeof variants / sizeof variants[0] + 1];
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++)
        names[i] = variants[i].name;
    return names;
}

} // namespace
#endif

std::unique_ptr<Core> rtl_make(const rtl_hw &hw, sc_clock &clk, CoreBus &bus)
{
#ifdef SIM_HAVE_RTL
    for (const Variant &v : variants)
        if (same_hw(v.hw, hw))
            return std::unique_ptr<Core>(v.make(clk, bus));
#else
    (void)clk;
    (void)bus;
#endif
    sim_rtl_available(&hw); // sets the message
    return nullptr;
}

} // namespace tdsim

extern "C" const char *const *sim_rtl_variants(void)
{
#ifdef SIM_HAVE_RTL
    return tdsim::variant_names();
#else
    static const char *none[] = {NULL};
    return none;
#endif
}

extern "C" td_status sim_rtl_available(const rtl_hw *hw)
{
#ifdef SIM_HAVE_RTL
    for (const tdsim::Variant &v : tdsim::variants)
        if (tdsim::same_hw(v.hw, *hw))
            return TD_OK;
#endif
    std::string list;
    for (const char *const *p = sim_rtl_variants(); *p; p++)
        list += (list.empty() ? "" : ", ") + std::string(*p);
    return td_fail(TD_ERR_UNSUPPORTED,
                   "no Verilated core for %dx%d %s %d-bit (acc %d, depths x %lld w %lld acc %lld "
                   "out %lld) in this build; built: %s (use --core twin, or add the set to "
                   "SIM_RTL_VARIANTS in sim/CMakeLists.txt)",
                   hw->rows, hw->cols, hw->dataflow == HW_DATAFLOW_OS ? "os" : "ws", hw->bits,
                   hw->acc_bits, (long long)hw->x_depth, (long long)hw->w_depth,
                   (long long)hw->acc_depth, (long long)hw->out_depth,
                   list.empty() ? "none (Verilator not found at configure time)" : list.c_str());
}
