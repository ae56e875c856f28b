#include "hw_space.h"

/* Default ranges are the ones architects start from (DESIGN.md §3). */
const td_cfg_key hw_config_keys[] = {
    {"space.hw.macs", TD_CFG_INT_LIST, 1, 1048576, NULL, "[128, 4096]", 2, 2,
     "[min, max] MACs (rows x cols)"},
    {"space.hw.dims", TD_CFG_INT_LIST, 1, 1024, NULL, "[4, 8, 16, 32, 64]", 1, 16,
     "allowed array rows and cols"},
    {"space.hw.dataflows", TD_CFG_ENUM_LIST, 0, 0, "ws|os", "[ws, os]", 1, 2, "dataflows"},
    {"space.hw.bits", TD_CFG_INT_LIST, 4, 32, NULL, "[4, 8, 16, 32]", 1, 4,
     "integer bit widths (each 4, 8, 16 or 32)"},
    {"space.hw.l1_kib", TD_CFG_INT_LIST, 1, 65536, NULL, "[16, 256]", 2, 2,
     "[min, max] L1 scratchpad per buffer (KiB)"},
    {"space.hw.l2_kib", TD_CFG_INT_LIST, 1, 1048576, NULL, "[256, 8192]", 2, 2,
     "[min, max] L2 global buffer (KiB)"},
    {"space.hw.dram_gbps", TD_CFG_FLOAT_LIST, 0.1, 10000, NULL, "[50.0, 500.0]", 2, 2,
     "[min, max] DRAM bandwidth (GB/s)"},
    {"space.hw.clock_mhz", TD_CFG_FLOAT_LIST, 1, 10000, NULL, "[500.0, 2000.0]", 2, 2,
     "[min, max] clock (MHz)"},
    {"space.hw.vector_lanes", TD_CFG_INT_LIST, 1, 4096, NULL, "[4, 64]", 2, 2,
     "[min, max] vector-unit lanes"},
    {"space.hw.tech_nm", TD_CFG_INT, 5, 180, NULL, "45", 0, 0, "technology node (nm)"},
    TD_CFG_END,
};
