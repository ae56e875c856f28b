/* Writes a bundle for a built-in network with random quantized weights (the bundle test).
 * Usage: rtl_bundle_gen DIR NET ROWS COLS BITS ACC_BITS WS|OS DEPTH IMAGES */
#include "rtl_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: %s DIR NET ROWS COLS BITS ACC_BITS WS|OS DEPTH IMAGES\n", argv[0]);
        return 2;
    }
    int64_t depth = atoll(argv[8]);
    rtl_hw hw = {.rows = atoi(argv[3]),
                 .cols = atoi(argv[4]),
                 .bits = atoi(argv[5]),
                 .acc_bits = atoi(argv[6]),
                 .dataflow = strcmp(argv[7], "OS") == 0 ? HW_DATAFLOW_OS : HW_DATAFLOW_WS,
                 .x_depth = depth,
                 .w_depth = depth,
                 .acc_depth = depth,
                 .out_depth = depth};
    nn_graph g;
    rtl_net_weights nw;
    td_status st = nn_builtin_graph(&g, argv[2]);
    if (st == TD_OK)
        st = rtl_net_weights_random(&nw, &g, hw.bits, 11);
    rtl_bundle_opts opts = {.clock_mhz = 500, .n_images = atoi(argv[9]), .seed = 3};
    rtl_bundle_info info;
    if (st == TD_OK)
        st = rtl_gen_bundle(argv[1], &hw, &g, nw.wt, &opts, &info);
    if (st != TD_OK) {
        fprintf(stderr, "rtl_bundle_gen: %s\n", td_error_message());
        return 1;
    }
    printf("wrote %d files to %s: %d layers, %lld commands, %lld compute cycles per image\n",
           info.n_files, argv[1], info.n_layers, (long long)info.n_commands,
           (long long)info.compute_cycles);
    rtl_net_weights_free(&nw);
    nn_graph_free(&g);
    return 0;
}
