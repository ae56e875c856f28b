/* Systolic-array tile timing: the ONE definition of how many cycles the RTL core takes
 * for a tile command. hw_model's analytical model and the RTL/SystemC tests both call
 * these functions; a change in the RTL's pipeline is made here and nowhere else
 * (formulas and derivation in docs/models.md, "Array timing").
 *
 * Array: Rows x Cols PEs. Dataflows:
 *  - WS (weight-stationary): a K_t x N_t weight tile (K_t <= Rows, N_t <= Cols) is
 *    preloaded into the PEs, then M_t input vectors stream through; rows carry the
 *    reduction, columns the outputs.
 *  - OS (output-stationary): an M_t x N_t output tile (M_t <= Rows, N_t <= Cols) stays in
 *    the PEs while K_t reduction steps stream in from the left (inputs) and the top
 *    (weights); results are then drained.
 */
#ifndef HW_TIMING_H
#define HW_TIMING_H

#include <stdint.h>

typedef enum hw_dataflow {
    HW_DATAFLOW_WS = 0,
    HW_DATAFLOW_OS,
    HW_DATAFLOW_COUNT
} hw_dataflow;

/* Fixed cycles the controller spends per tile command (decode and handshake). */
int64_t hw_timing_cmd_overhead_cycles(void);

/* WS: cycles to preload one weight tile. */
int64_t hw_timing_ws_preload_cycles(int64_t rows, int64_t cols);
/* WS: cycles to stream m_t input vectors through a preloaded array, from the first input
 * entering to the last output leaving (fill + steady state + drain). */
int64_t hw_timing_ws_stream_cycles(int64_t rows, int64_t cols, int64_t m_t);
/* OS: cycles to stream a reduction of length k_t into a stationary output tile. */
int64_t hw_timing_os_stream_cycles(int64_t rows, int64_t cols, int64_t k_t);
/* OS: cycles to drain the stationary outputs out of the array. */
int64_t hw_timing_os_drain_cycles(int64_t rows, int64_t cols);

#endif
