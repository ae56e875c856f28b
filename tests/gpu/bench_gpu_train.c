/* Training throughput of a built-in network on the CPU or CUDA backend, optionally with
 * several networks training at once from separate host threads (one CUDA stream each), for
 * scripts/bench-gpu.sh. Prints one JSON line. Exit codes: 0 ok, 1 failure, 2 usage or no
 * usable GPU for --device cuda. */
#include "nn_data.h"
#include "nn_graph.h"
#include "nn_space.h"
#include "nn_train.h"
#include "td_log.h"
#include "td_progress.h"
#include "td_status.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef NN_HAVE_CUDA
#include "nn_backend_cuda.h"
#endif

typedef struct bench_opts {
    const char *net, *device;
    int64_t images, batch;
    int32_t epochs;
    int threads, concurrent;
} bench_opts;

typedef struct bench_job {
    const bench_opts *o;
    const nn_backend *be;
    const nn_graph *g;
    const nn_data *data;
    pthread_barrier_t *start;
    int index;
    td_status st;
    char msg[512];
    double wall_s, val_accuracy;
} bench_job;

static void job_release(const nn_backend *be, nn_net *net)
{
#ifdef NN_HAVE_CUDA
    if (strcmp(be->name, "cuda") == 0)
        nn_backend_cuda_release(&net->arena);
#else
    (void)be;
#endif
    nn_net_free(net);
}

static td_status job_check(const nn_backend *be)
{
#ifdef NN_HAVE_CUDA
    if (strcmp(be->name, "cuda") == 0)
        return nn_backend_cuda_status();
#else
    (void)be;
#endif
    return TD_OK;
}

static void *job_run(void *arg)
{
    bench_job *j = arg;
    const bench_opts *o = j->o;
    nn_recipe r;
    nn_recipe_default(&r);
    r.batch = o->batch;
    r.threads = o->threads;
    r.seed = 1 + (uint64_t)j->index;
    nn_train_result res;
    nn_net net;
    /* warm-up: contexts, cuBLAS heuristics, workspaces, pinned buffers */
    r.epochs = 1;
    r.images = 4 * o->batch;
    j->st = nn_net_init(&net, j->g, o->batch, o->threads, j->be, r.seed);
    if (j->st == TD_OK) {
        j->st = nn_net_train(&net, &j->data->train, NULL, &j->data->norm, &r, NULL, NULL, &res);
        job_release(j->be, &net);
    }
    if (j->st == TD_OK)
        j->st = nn_net_init(&net, j->g, o->batch, o->threads, j->be, r.seed);
    pthread_barrier_wait(j->start);
    if (j->st != TD_OK) {
        snprintf(j->msg, sizeof j->msg, "%s", td_error_message());
        return NULL;
    }
    r.epochs = o->epochs;
    r.images = o->images;
    double t0 = td_now_s();
    j->st = nn_net_train(&net, &j->data->train, NULL, &j->data->norm, &r, NULL, NULL, &res);
    if (j->st == TD_OK)
        j->st = job_check(j->be);
    j->wall_s = td_now_s() - t0;
    if (j->st == TD_OK)
        j->st = nn_net_evaluate(&net, &j->data->val, &j->data->norm, 0, &j->val_accuracy);
    if (j->st != TD_OK)
        snprintf(j->msg, sizeof j->msg, "%s", td_error_message());
    job_release(j->be, &net);
    return NULL;
}

/* A built-in network, or "space:SEED": a random genome of the default search space. */
static td_status bench_graph(nn_graph *g, const char *name)
{
    if (strncmp(name, "space:", 6) != 0)
        return nn_builtin_graph(g, name);
    char *end;
    unsigned long long seed = strtoull(name + 6, &end, 10);
    if (end == name + 6 || *end)
        return td_fail(TD_ERR_USAGE, "network '%s': expected space:SEED with a number", name);
    nn_space sp;
    nn_space_default(&sp);
    int32_t len = nn_genome_length(&sp);
    int32_t *genes = calloc((size_t)len, sizeof *genes);
    td_rng rng;
    td_status st = genes ? td_rng_init(&rng, seed) : td_fail(TD_ERR_NOMEM, "out of memory");
    if (st == TD_OK) {
        nn_genome_random(&sp, &rng, genes);
        td_rng_free(&rng);
        st = nn_genome_decode(&sp, genes, g);
    }
    free(genes);
    return st;
}

/* The graph as one JSON object (for the PyTorch twin in scripts/bench-gpu.sh). */
static void graph_dump(const nn_graph *g)
{
    static const char *ops[NN_OP_COUNT] = {
        [NN_OP_INPUT] = "input",     [NN_OP_CONV] = "conv",          [NN_OP_BATCHNORM] = "bn",
        [NN_OP_RELU] = "relu",       [NN_OP_RELU6] = "relu6",        [NN_OP_MAXPOOL] = "maxpool",
        [NN_OP_AVGPOOL] = "avgpool", [NN_OP_GLOBAL_AVGPOOL] = "gap", [NN_OP_FC] = "fc",
        [NN_OP_ADD] = "add"};
    printf("{\"name\": \"%s\", \"params\": %lld, \"nodes\": [", g->name,
           (long long)nn_graph_params(g));
    for (size_t i = 0; i < g->n_nodes; i++) {
        const nn_node *nd = &g->nodes[i];
        printf("%s{\"op\": \"%s\", \"in\": [%d, %d], \"c\": %lld, \"h\": %lld, "
               "\"w\": %lld, \"oc\": %lld, \"k\": %d, \"stride\": %d, \"pad\": %d, "
               "\"groups\": %d, \"bias\": %s}",
               i ? ", " : "", ops[nd->op], nd->inputs[0], nd->inputs[1], (long long)nd->in.c,
               (long long)nd->in.h, (long long)nd->in.w, (long long)nd->out_channels, nd->k_h,
               nd->stride, nd->pad, nd->groups, nd->bias ? "true" : "false");
    }
    printf("]}\n");
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_gpu_train --device cpu|cuda [--net ref-cnn|space:SEED] [--images N] "
            "[--batch B] [--epochs E] [--threads T] [--concurrent K]\n"
            "       bench_gpu_train --net NET --dump-graph   (the layer graph as JSON)\n");
    return 2;
}

int main(int argc, char **argv)
{
    bench_opts o = {"ref-cnn", NULL, 12800, 128, 1, 4, 1};
    bool dump = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--dump-graph") == 0) {
            dump = true;
            continue;
        }
        if (!v)
            return usage();
        if (strcmp(a, "--device") == 0)
            o.device = v;
        else if (strcmp(a, "--net") == 0)
            o.net = v;
        else if (strcmp(a, "--images") == 0)
            o.images = atoll(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = atoll(v);
        else if (strcmp(a, "--epochs") == 0)
            o.epochs = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o.threads = atoi(v);
        else if (strcmp(a, "--concurrent") == 0)
            o.concurrent = atoi(v);
        else
            return usage();
        i++;
    }
    if (dump) {
        nn_graph g;
        if (bench_graph(&g, o.net) != TD_OK) {
            fprintf(stderr, "bench_gpu_train: %s\n", td_error_message());
            return 2;
        }
        graph_dump(&g);
        nn_graph_free(&g);
        return 0;
    }
    if (!o.device || o.images < 1 || o.batch < 1 || o.epochs < 1 || o.threads < 1 ||
        o.concurrent < 1 || o.concurrent > 64)
        return usage();
    nn_device dev;
    const nn_backend *be = NULL;
    char gpu_name[256] = "none";
    if (nn_device_parse(o.device, &dev) != TD_OK) {
        fprintf(stderr, "bench_gpu_train: %s\n", td_error_message());
        return 2;
    }
    if (dev == NN_DEVICE_CPU) {
        be = nn_backend_cpu();
    } else {
#ifdef NN_HAVE_CUDA
        if (nn_backend_cuda_get(&be) != TD_OK) {
            fprintf(stderr, "bench_gpu_train: %s\n", td_error_message());
            return 2;
        }
        nn_cuda_device_name(gpu_name, sizeof gpu_name);
#else
        fprintf(stderr, "bench_gpu_train: the CUDA backend is not built in this binary\n");
        return 2;
#endif
    }
    nn_graph g;
    nn_data data;
    td_status st = bench_graph(&g, o.net);
    if (st == TD_OK)
        st = nn_data_load(&data, NULL, 2000, 1);
    if (st != TD_OK) {
        fprintf(stderr, "bench_gpu_train: %s\n", td_error_message());
        return st == TD_ERR_USAGE || st == TD_ERR_CONFIG ? 2 : 1;
    }
    bench_job *jobs = calloc((size_t)o.concurrent, sizeof *jobs);
    pthread_t *tid = calloc((size_t)o.concurrent, sizeof *tid);
    pthread_barrier_t start;
    if (!jobs || !tid || pthread_barrier_init(&start, NULL, (unsigned)o.concurrent) != 0) {
        fprintf(stderr, "bench_gpu_train: out of memory\n");
        return 1;
    }
    for (int k = 0; k < o.concurrent; k++) {
        jobs[k] = (bench_job){&o, be, &g, &data, &start, k, TD_OK, "", 0, 0};
        pthread_create(&tid[k], NULL, job_run, &jobs[k]);
    }
    double wall = 0, acc = 0;
    int rc = 0;
    for (int k = 0; k < o.concurrent; k++) {
        pthread_join(tid[k], NULL);
        if (jobs[k].st != TD_OK) {
            fprintf(stderr, "bench_gpu_train: network %d: %s\n", k, jobs[k].msg);
            rc = 1;
        }
        if (jobs[k].wall_s > wall)
            wall = jobs[k].wall_s;
        acc += jobs[k].val_accuracy / o.concurrent;
    }
    int64_t per = o.images < data.train.n ? o.images : data.train.n;
    double ips = wall > 0 ? (double)(per * o.epochs * o.concurrent) / wall : 0;
    printf("{\"net\": \"%s\", \"macs\": %lld, \"params\": %lld, \"device\": \"%s\", "
           "\"gpu\": \"%s\", \"batch\": %lld, "
           "\"images\": %lld, \"epochs\": %d, \"threads\": %d, \"concurrent\": %d, "
           "\"wall_s\": %.3f, \"images_per_s\": %.1f, \"val_accuracy\": %.4f}\n",
           o.net, (long long)nn_graph_macs(&g), (long long)nn_graph_params(&g), be->name, gpu_name,
           (long long)o.batch, (long long)per, o.epochs, o.threads, o.concurrent, wall, ips, acc);
    pthread_barrier_destroy(&start);
    free(jobs);
    free(tid);
    nn_data_free(&data);
    nn_graph_free(&g);
    return rc;
}
