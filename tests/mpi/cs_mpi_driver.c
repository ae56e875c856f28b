/* Test driver for the evaluator pool over MPI: runs a small NSGA-II search on a ZDT problem
 * (optionally one whose evaluations crash or fail in a band of x1) on the chosen pool and
 * prints every evaluation (objectives as hex floats) and the final front, so that runs on
 * different pools can be compared byte for byte.
 *   cs_mpi_driver --pool inprocess|fork|mpi [-j N] [--problem zdt1] [--pop P] [--gens G]
 *                 [--seed S] [--crash] [--hang] [--timeout S] [--stop-after K]
 * --hang: as --crash, and evaluations with x1 in [0.45, 0.47) hang (until the timeout).
 * --stop-after K: a first search on the same pool is stopped by its on_evaluated hook after
 * K evaluations (tasks still out are dropped), then the printed search runs.
 * Under mpirun, only rank 0 prints. */
#include "cs_mpi.h"
#include "cs_pool.h"
#include "cs_problems.h"
#include "td_hash.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct crashy {
    cs_problems_bench zdt;
    cs_problem p;
} crashy;

static bool hang_band; /* --hang: evaluations with x1 in [0.45, 0.47) never return */

/* Crashes the evaluating process for x1 in [0.30, 0.34), fails for x1 in [0.60, 0.64). */
static td_status crashy_eval(void *ctx, const double *x, uint64_t seed, double *obj, double *viol)
{
    crashy *c = ctx;
    if (x[0] >= 0.30 && x[0] < 0.34) {
        struct rlimit rl = {0, 0};
        setrlimit(RLIMIT_CORE, &rl);
        raise(SIGSEGV);
    }
    if (hang_band && x[0] >= 0.45 && x[0] < 0.47)
        for (;;)
            pause();
    if (x[0] >= 0.60 && x[0] < 0.64)
        return td_fail(TD_ERR_INFEASIBLE, "crashy: x1 %.4f is in the refused band", x[0]);
    td_status st = c->zdt.p.evaluate(c->zdt.p.ctx, x, seed, obj, viol);
    obj[1] += 1e-9 * (double)(seed % 1000); /* the evaluation seed shows in the result */
    return st;
}

static td_status stop_after(void *ctx, const cs_search *s, const cs_candidate *c)
{
    size_t *left = ctx;
    if (*left == 0)
        return td_fail(TD_ERR_DB, "stopped");
    (*left)--;
    return TD_OK;
}

static int usage(const char *msg)
{
    fprintf(stderr, "cs_mpi_driver: %s\n", msg);
    return 2;
}

int main(int argc, char **argv)
{
    const char *pool_name = "inprocess", *problem = "zdt1";
    size_t jobs = 1, pop = 20, gens = 6;
    uint64_t seed = 1;
    bool crash = false;
    double timeout = 30.0;
    size_t stop = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--crash") == 0) {
            crash = true;
            continue;
        }
        if (strcmp(a, "--hang") == 0) {
            crash = hang_band = true;
            continue;
        }
        if (!v)
            return usage("missing value");
        i++;
        if (strcmp(a, "--pool") == 0)
            pool_name = v;
        else if (strcmp(a, "-j") == 0)
            jobs = (size_t)atol(v);
        else if (strcmp(a, "--problem") == 0)
            problem = v;
        else if (strcmp(a, "--pop") == 0)
            pop = (size_t)atol(v);
        else if (strcmp(a, "--gens") == 0)
            gens = (size_t)atol(v);
        else if (strcmp(a, "--seed") == 0)
            seed = (uint64_t)atoll(v);
        else if (strcmp(a, "--stop-after") == 0)
            stop = (size_t)atol(v);
        else if (strcmp(a, "--timeout") == 0)
            timeout = atof(v);
        else
            return usage("unknown flag");
    }
    cs_pool_kind kind;
    cs_problems_id id;
    if (cs_pool_kind_parse(pool_name, &kind) != TD_OK || cs_problems_parse(problem, &id) != TD_OK)
        return usage(td_error_message());
    td_status st;
    if (kind == CS_POOL_MPI && (st = cs_mpi_init(&argc, &argv)) != TD_OK)
        return usage(td_error_message());

    crashy c;
    if ((st = cs_problems_init(&c.zdt, id)) != TD_OK)
        return usage(td_error_message());
    c.p = c.zdt.p;
    if (crash) {
        c.p.name = "crashy";
        c.p.ctx = &c;
        c.p.evaluate = crashy_eval;
    }
    cs_pool pool;
    cs_pool_options po = {kind, jobs, timeout};
    st = cs_pool_init(&pool, &po, cs_problem_pool_work, &c.p);
    if (st != TD_OK || cs_pool_is_mpi_worker(&pool)) {
        int rc = st == TD_OK ? 0 : 1;
        if (st != TD_OK)
            fprintf(stderr, "cs_mpi_driver: rank %d: %s\n", cs_mpi_rank(), td_error_message());
        cs_pool_free(&pool);
        cs_mpi_finalize();
        return rc;
    }
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = pop;
    o.generations = gens;
    o.seed = seed;
    o.evaluator.ctx = &pool;
    o.evaluator.evaluate_batch = cs_pool_evaluate_batch;
    cs_search s;
    if (stop > 0) {
        cs_search_options so = o;
        so.on_evaluated = stop_after;
        so.on_evaluated_ctx = &stop;
        st = cs_search_init(&s, &c.p, &so);
        if (st == TD_OK)
            st = cs_search_run(&s);
        cs_search_free(&s);
        if (st != TD_ERR_DB) {
            fprintf(stderr, "cs_mpi_driver: the stopped search ended with %s\n",
                    td_status_name(st));
            cs_pool_free(&pool);
            cs_mpi_finalize();
            return 1;
        }
    }
    st = cs_search_init(&s, &c.p, &o);
    if (st == TD_OK)
        st = cs_search_run(&s);
    int rc = 0;
    if (st != TD_OK) {
        fprintf(stderr, "cs_mpi_driver: %s\n", td_error_message());
        rc = 1;
    } else {
        printf("evaluations %lld failures %lld\n", (long long)s.evaluations, (long long)s.failures);
        for (size_t i = 0; i < s.history_n; i++) {
            const cs_candidate *x = &s.history[i];
            char hex[17];
            td_hash_hex(x->hash, hex);
            printf("%lld %s", (long long)x->eval_id, hex);
            for (size_t k = 0; k < c.p.n_obj; k++)
                printf(" %a", x->obj[k]);
            printf(" %s\n", x->failed ? x->reason : "ok");
        }
        size_t *idx, n;
        if (cs_search_front(&s, false, &idx, &n) == TD_OK) {
            printf("front");
            for (size_t i = 0; i < n; i++)
                printf(" %lld", (long long)s.pop[idx[i]].eval_id);
            printf("\n");
            free(idx);
        }
    }
    cs_search_free(&s);
    cs_pool_free(&pool);
    cs_mpi_finalize();
    return rc;
}
