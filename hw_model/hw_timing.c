#include "hw_timing.h"

/* See docs/models.md, "Array timing", for the derivation of each expression. The values are
 * what the RTL core (rtl_templates/sv) does, measured cycle for cycle by the rtl tests
 * (docs/rtl.md, "Timing"): a WS COMPUTE with preload costs overhead + preload + stream; an
 * OS COMPUTE costs overhead + stream, plus drain when it drains (one command each). */

int64_t hw_timing_cmd_overhead_cycles(void)
{
    return 1;
}

int64_t hw_timing_ws_preload_cycles(int64_t rows, int64_t cols)
{
    (void)cols;
    return rows + 1; /* one scratchpad read cycle, then one weight row shifted in per cycle,
                        always the full height */
}

int64_t hw_timing_ws_stream_cycles(int64_t rows, int64_t cols, int64_t m_t)
{
    /* one scratchpad read cycle, skewed entry, rows of partial sums, column skew out, and the
     * bottom PE's result register before the accumulator write */
    return m_t + rows + cols;
}

int64_t hw_timing_os_stream_cycles(int64_t rows, int64_t cols, int64_t k_t)
{
    /* one scratchpad read cycle, then the last operand pair reaches PE(rows-1, cols-1) */
    return k_t + rows + cols - 1;
}

int64_t hw_timing_os_drain_cycles(int64_t rows, int64_t cols)
{
    (void)cols;
    return rows; /* one row of results shifted out per cycle */
}
