/* Checks a bundle's expected outputs (data/expected.txt, written by rtl_gen_bundle from
 * rtl_net_reference with a trained model's parameters) against nn_search's integer reference
 * nn_qmodel_infer_ref of the same model on the bundle's test images (data/images.txt): the
 * bundle's testbench compares the RTL with the former, this closes the chain to the latter.
 * A conv followed by a max-pool is one bundle layer (the pooled output).
 * Usage: rtl_check_trained MODEL.tdm BITS BUNDLE_DIR. Exit 0 when every value matches. */
#include "nn_model.h"
#include "nn_quant.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rtl_check_trained MODEL.tdm BITS BUNDLE_DIR\n");
        return 2;
    }
    nn_model m;
    if (nn_model_load(&m, argv[1]) != TD_OK) {
        fprintf(stderr, "rtl_check_trained: %s\n", td_error_message());
        return 1;
    }
    const nn_qmodel *q = nn_model_quant(&m, atoi(argv[2]));
    char path[1024];
    snprintf(path, sizeof path, "%s/data/images.txt", argv[3]);
    FILE *fi = fopen(path, "r");
    snprintf(path, sizeof path, "%s/data/expected.txt", argv[3]);
    FILE *fe = fopen(path, "r");
    if (!q || !fi || !fe) {
        fprintf(stderr, "rtl_check_trained: no %s-bit integer model, or no images/expected in %s\n",
                argv[2], argv[3]);
        return 1;
    }
    const int64_t in = q->input.c * q->input.h * q->input.w;
    int32_t *x = malloc((size_t)in * sizeof *x);
    int32_t **acts = calloc((size_t)q->n_layers, sizeof *acts);
    for (int32_t i = 0; x && acts && i < q->n_layers; i++)
        acts[i] = malloc((size_t)nn_qlayer_out_size(&q->layers[i]) * sizeof **acts);
    int64_t checked = 0, bad = 0;
    int img = 0;
    while (x && acts && fscanf(fi, "%d", &x[0]) == 1) {
        for (int64_t i = 1; i < in; i++)
            if (fscanf(fi, "%d", &x[i]) != 1)
                return 1;
        nn_qmodel_infer_ref(q, acts, x);
        for (int32_t i = 0; i < q->n_layers; i++) {
            if (i + 1 < q->n_layers && q->layers[i + 1].op == NN_QOP_MAXPOOL)
                continue; /* fused: the bundle keeps the pooled output */
            for (int64_t e = 0; e < nn_qlayer_out_size(&q->layers[i]); e++) {
                int v;
                if (fscanf(fe, "%d", &v) != 1) {
                    fprintf(stderr, "rtl_check_trained: expected.txt is short\n");
                    return 1;
                }
                checked++;
                if (v != acts[i][e] && bad++ < 5)
                    fprintf(stderr, "image %d layer %s: value %lld bundle %d, reference %d\n", img,
                            q->layers[i].name, (long long)e, v, acts[i][e]);
            }
        }
        img++;
    }
    printf("rtl_check_trained: %d images, %lld values, %lld mismatches\n", img, (long long)checked,
           (long long)bad);
    for (int32_t i = 0; acts && i < q->n_layers; i++)
        free(acts[i]);
    free(acts);
    free(x);
    fclose(fi);
    fclose(fe);
    nn_model_free(&m);
    return bad || !img ? 1 : 0;
}
