#include "hw_timing.h"

/* See docs/models.md, "Array timing", for the derivation of each expression. */

int64_t hw_timing_cmd_overhead_cycles(void)
{
    return 1;
}

int64_t hw_timing_ws_preload_cycles(int64_t rows, int64_t cols)
{
    (void)cols;
    return rows; /* one weight row shifted in per cycle, always the full height */
}

int64_t hw_timing_ws_stream_cycles(int64_t rows, int64_t cols, int64_t m_t)
{
    return m_t + rows + cols - 1; /* skewed entry, rows of partial sums, column skew out */
}

int64_t hw_timing_os_stream_cycles(int64_t rows, int64_t cols, int64_t k_t)
{
    return k_t + rows + cols - 1; /* last operand pair reaches PE(rows-1, cols-1) */
}

int64_t hw_timing_os_drain_cycles(int64_t rows, int64_t cols)
{
    (void)cols;
    return rows; /* one row of results shifted out per cycle */
}
