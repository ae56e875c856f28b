/* The local evaluator pool: in-process and fork (-j N) give the same results in task order;
 * a crashing, exiting or hanging task costs that task only (reason recorded, worker
 * restarted, later tasks fine); the search gives identical histories on every pool. */
#include "cs_mpi.h"
#include "cs_pool.h"
#include "cs_problems.h"

#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "moo_assert.h"

/* Pool timeout for the hanging task: long enough that an idle 2-core machine never hits it
 * on the quick tasks (microseconds), short enough to keep the test at about a second. */
#define POOL_TEST_TIMEOUT_S 0.5

static void no_core(void)
{
    struct rlimit rl = {0, 0};
    setrlimit(RLIMIT_CORE, &rl);
}

/* Task: text. "crash" -> SIGSEGV, "abort" -> SIGABRT, "exit" -> _exit(3), "hang" -> sleeps,
 * "error" -> error status; otherwise the result is the text upper-cased. */
static td_status echo_work(void *ctx, const void *task, size_t len, void **result,
                           size_t *result_len)
{
    (void)ctx;
    if (len == 5 && memcmp(task, "crash", 5) == 0) {
        no_core();
        raise(SIGSEGV);
    }
    if (len == 5 && memcmp(task, "abort", 5) == 0) {
        no_core();
        abort();
    }
    if (len == 4 && memcmp(task, "exit", 4) == 0)
        _exit(3);
    if (len == 4 && memcmp(task, "hang", 4) == 0)
        for (;;)
            pause();
    if (len == 5 && memcmp(task, "error", 5) == 0)
        return td_fail(TD_ERR_INFEASIBLE, "echo: task 'error' refused");
    char *r = malloc(len ? len : 1);
    for (size_t i = 0; i < len; i++) {
        char c = ((const char *)task)[i];
        r[i] = c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    *result = r;
    *result_len = len;
    return TD_OK;
}

static void run_words(cs_pool *pool, const char *const *words, size_t n, cs_pool_job *jobs)
{
    for (size_t i = 0; i < n; i++) {
        jobs[i].task = words[i];
        jobs[i].task_len = strlen(words[i]);
    }
    assert_int_equal(cs_pool_run(pool, jobs, n), TD_OK);
}

static void check_upper(const cs_pool_job *j, const char *word)
{
    assert_int_equal(j->outcome, CS_POOL_OUTCOME_OK);
    assert_int_equal(j->result_len, strlen(word));
    for (size_t i = 0; i < j->result_len; i++) {
        char c = word[i];
        assert_int_equal(((const char *)j->result)[i], c >= 'a' && c <= 'z' ? c - 32 : c);
    }
}

static void test_results_in_order(void **state)
{
    (void)state;
    const char *words[40];
    char buf[40][24];
    for (int i = 0; i < 40; i++) {
        snprintf(buf[i], sizeof buf[i], "word%dx", i);
        words[i] = buf[i];
    }
    const cs_pool_options kinds[] = {
        {CS_POOL_INPROCESS, 1, 0}, {CS_POOL_FORK, 1, 0}, {CS_POOL_FORK, 4, 5.0}};
    for (size_t k = 0; k < 3; k++) {
        cs_pool pool;
        assert_int_equal(cs_pool_init(&pool, &kinds[k], echo_work, NULL), TD_OK);
        for (int round = 0; round < 2; round++) {
            cs_pool_job jobs[40];
            memset(jobs, 0, sizeof jobs);
            run_words(&pool, words, 40, jobs);
            for (int i = 0; i < 40; i++) {
                check_upper(&jobs[i], words[i]);
                cs_pool_job_clear(&jobs[i]);
            }
        }
        assert_int_equal(pool.restarts, 0);
        cs_pool_free(&pool);
    }
}

static void test_crash_and_hang(void **state)
{
    (void)state;
    const char *words[] = {"a", "crash", "b", "hang", "c", "exit", "d", "error", "abort", "e", "f"};
    size_t n = sizeof words / sizeof words[0];
    for (size_t jobs_n = 1; jobs_n <= 3; jobs_n += 2) {
        cs_pool_options o = {CS_POOL_FORK, jobs_n, POOL_TEST_TIMEOUT_S};
        cs_pool pool;
        assert_int_equal(cs_pool_init(&pool, &o, echo_work, NULL), TD_OK);
        cs_pool_job jobs[16];
        memset(jobs, 0, sizeof jobs);
        run_words(&pool, words, n, jobs);
        for (size_t i = 0; i < n; i++) {
            const char *w = words[i];
            if (strcmp(w, "crash") == 0) {
                assert_int_equal(jobs[i].outcome, CS_POOL_OUTCOME_CRASH);
                assert_string_equal(jobs[i].reason,
                                    "worker killed by signal SIGSEGV (Segmentation fault)");
            } else if (strcmp(w, "abort") == 0) {
                assert_int_equal(jobs[i].outcome, CS_POOL_OUTCOME_CRASH);
                assert_string_equal(jobs[i].reason, "worker killed by signal SIGABRT (Aborted)");
            } else if (strcmp(w, "exit") == 0) {
                assert_int_equal(jobs[i].outcome, CS_POOL_OUTCOME_CRASH);
                assert_string_equal(jobs[i].reason, "worker exited with status 3");
            } else if (strcmp(w, "hang") == 0) {
                assert_int_equal(jobs[i].outcome, CS_POOL_OUTCOME_TIMEOUT);
                assert_string_equal(jobs[i].reason, "timeout after 0.5 s");
                assert_true(jobs[i].wall_s >= POOL_TEST_TIMEOUT_S);
            } else if (strcmp(w, "error") == 0) {
                assert_int_equal(jobs[i].outcome, CS_POOL_OUTCOME_ERROR);
                assert_string_equal(jobs[i].reason, "echo: task 'error' refused");
            } else {
                check_upper(&jobs[i], w);
            }
            cs_pool_job_clear(&jobs[i]);
        }
        /* four workers lost (crash, hang, exit, abort), each restarted */
        assert_int_equal(pool.restarts, 4);
        /* the pool still works at full strength afterwards */
        const char *again[] = {"x", "y", "z", "w"};
        run_words(&pool, again, 4, jobs);
        for (size_t i = 0; i < 4; i++) {
            check_upper(&jobs[i], again[i]);
            cs_pool_job_clear(&jobs[i]);
        }
        cs_pool_free(&pool);
    }
}

static void test_in_process_error(void **state)
{
    (void)state;
    cs_pool_options o = {CS_POOL_INPROCESS, 1, 0};
    cs_pool pool;
    assert_int_equal(cs_pool_init(&pool, &o, echo_work, NULL), TD_OK);
    const char *words[] = {"error", "ok"};
    cs_pool_job jobs[2];
    memset(jobs, 0, sizeof jobs);
    run_words(&pool, words, 2, jobs);
    assert_int_equal(jobs[0].outcome, CS_POOL_OUTCOME_ERROR);
    assert_string_equal(jobs[0].reason, "echo: task 'error' refused");
    check_upper(&jobs[1], "ok");
    cs_pool_job_clear(&jobs[0]);
    cs_pool_job_clear(&jobs[1]);
    cs_pool_free(&pool);
}

static void test_errors(void **state)
{
    (void)state;
    cs_pool pool;
    cs_pool_options o = {CS_POOL_FORK, 0, 0};
    assert_int_equal(cs_pool_init(&pool, &o, echo_work, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "0 workers, expected 1..4096"));
    o.jobs = 1;
    assert_int_equal(cs_pool_init(&pool, &o, NULL, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "no work function"));
    o.timeout_s = NAN;
    assert_int_equal(cs_pool_init(&pool, &o, echo_work, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "timeout is NaN"));
    o.timeout_s = 0;
    o.kind = CS_POOL_KIND_COUNT;
    assert_int_equal(cs_pool_init(&pool, &o, echo_work, NULL), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown kind 3"));
    o.kind = CS_POOL_FORK;
    cs_pool_kind k;
    assert_int_equal(cs_pool_kind_parse("threads", &k), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown evaluator pool 'threads'"));
    assert_int_equal(cs_pool_kind_parse("fork", &k), TD_OK);
    assert_int_equal(k, CS_POOL_FORK);
    o.kind = CS_POOL_MPI;
    td_status st = cs_pool_init(&pool, &o, echo_work, NULL);
    if (cs_mpi_available()) {
        /* not started under mpirun: one rank */
        assert_int_equal(st, TD_ERR_CONFIG);
        assert_non_null(strstr(td_error_message(), "MPI needs at least 2 ranks"));
    } else {
        assert_int_equal(st, TD_ERR_NOT_BUILT);
        assert_non_null(strstr(td_error_message(), "built without MPI"));
    }
}

/* ---- the search on a pool ------------------------------------------------------------------ */

/* ZDT1 whose evaluation crashes the process when x1 lies in [0.30, 0.34) and fails with an
 * error in [0.60, 0.64): both must come out as failed candidates, identically on -j 1 and
 * -j 4. Objectives also depend on the evaluation seed (a tiny noise term), so that seeds
 * derived from anything but the candidate would show. */
typedef struct crashy {
    cs_problems_bench zdt;
    cs_problem p;
} crashy;

static td_status crashy_eval(void *ctx, const double *x, uint64_t seed, double *obj, double *viol)
{
    crashy *c = ctx;
    if (x[0] >= 0.30 && x[0] < 0.34) {
        no_core();
        raise(SIGSEGV);
    }
    if (x[0] >= 0.60 && x[0] < 0.64)
        return td_fail(TD_ERR_INFEASIBLE, "crashy: x1 %.4f is in the refused band", x[0]);
    td_status st = c->zdt.p.evaluate(c->zdt.p.ctx, x, seed, obj, viol);
    obj[1] += 1e-9 * (double)(seed % 1000);
    return st;
}

static void crashy_init(crashy *c)
{
    assert_int_equal(cs_problems_init(&c->zdt, CS_PROBLEMS_ZDT1), TD_OK);
    c->p = c->zdt.p;
    c->p.name = "crashy";
    c->p.ctx = c;
    c->p.evaluate = crashy_eval;
}

static void run_search(crashy *c, cs_pool_kind kind, size_t jobs, cs_search *s)
{
    cs_pool pool;
    cs_pool_options po = {kind, jobs, 10.0};
    assert_int_equal(cs_pool_init(&pool, &po, cs_problem_pool_work, &c->p), TD_OK);
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 24;
    o.generations = 8;
    o.seed = 11;
    o.evaluator.ctx = &pool;
    o.evaluator.evaluate_batch = cs_pool_evaluate_batch;
    assert_int_equal(cs_search_init(s, &c->p, &o), TD_OK);
    assert_int_equal(cs_search_run(s), TD_OK);
    cs_pool_free(&pool);
}

static void test_search_same_on_every_pool(void **state)
{
    (void)state;
    crashy c;
    crashy_init(&c);
    cs_search a, b;
    run_search(&c, CS_POOL_FORK, 1, &a);
    run_search(&c, CS_POOL_FORK, 4, &b);
    assert_int_equal(a.history_n, b.history_n);
    size_t crashes = 0, errors = 0;
    for (size_t i = 0; i < a.history_n; i++) {
        const cs_candidate *x = &a.history[i], *y = &b.history[i];
        assert_memory_equal(x->genes, y->genes, c.p.n_genes * sizeof(double));
        assert_memory_equal(x->obj, y->obj, c.p.n_obj * sizeof(double));
        assert_int_equal(x->seed, y->seed);
        assert_int_equal(x->failed, y->failed);
        assert_string_equal(x->reason, y->reason);
        if (x->failed && strstr(x->reason, "SIGSEGV"))
            crashes++;
        if (x->failed && strstr(x->reason, "refused band"))
            errors++;
    }
    print_message("%zu evaluations, %zu crashed, %zu refused\n", a.history_n, crashes, errors);
    assert_true(crashes > 0);
    assert_true(errors > 0);
    assert_int_equal(a.failures, (int64_t)(crashes + errors));
    cs_search_free(&a);
    cs_search_free(&b);

    /* without the crashing band, in-process gives the same history as -j 3 */
    cs_problems_bench z;
    assert_int_equal(cs_problems_init(&z, CS_PROBLEMS_ZDT2), TD_OK);
    c.p = z.p;
    c.p.ctx = &z;
    run_search(&c, CS_POOL_INPROCESS, 1, &a);
    run_search(&c, CS_POOL_FORK, 3, &b);
    assert_int_equal(a.history_n, b.history_n);
    for (size_t i = 0; i < a.history_n; i++) {
        assert_memory_equal(a.history[i].genes, b.history[i].genes, c.p.n_genes * sizeof(double));
        assert_memory_equal(a.history[i].obj, b.history[i].obj, c.p.n_obj * sizeof(double));
    }
    cs_search_free(&a);
    cs_search_free(&b);
}

/* ---- resume by replay: a store hook that "dies" part-way, then a lookup hook ------------ */

typedef struct store {
    uint64_t hash[4096], seed[4096];
    double obj[4096][2];
    bool failed[4096];
    char reason[4096][CS_REASON_MAX];
    size_t n;
    size_t limit; /* on_evaluated fails once n reaches limit (a kill) */
} store;

static td_status store_put(void *ctx, const cs_search *s, const cs_candidate *c)
{
    store *st = ctx;
    if (st->n >= st->limit)
        return td_fail(TD_ERR_DB, "killed after %zu stored evaluations", st->n);
    st->hash[st->n] = c->hash;
    st->seed[st->n] = c->seed;
    memcpy(st->obj[st->n], c->obj, sizeof st->obj[0]);
    st->failed[st->n] = c->failed;
    snprintf(st->reason[st->n], CS_REASON_MAX, "%s", c->reason);
    st->n++;
    return TD_OK;
}

static td_status store_get(void *ctx, const cs_problem *p, cs_candidate *c, bool *found)
{
    store *st = ctx;
    *found = false;
    for (size_t i = 0; i < st->n; i++)
        if (st->hash[i] == c->hash && st->seed[i] == c->seed) {
            memcpy(c->obj, st->obj[i], p->n_obj * sizeof(double));
            c->failed = st->failed[i];
            snprintf(c->reason, sizeof c->reason, "%s", st->reason[i]);
            *found = true;
            return TD_OK;
        }
    return TD_OK;
}

static td_status resume_search(crashy *c, cs_pool *pool, store *put, store *get, cs_search *s)
{
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 24;
    o.generations = 8;
    o.seed = 11;
    o.evaluator.ctx = pool;
    o.evaluator.evaluate_batch = cs_pool_evaluate_batch;
    o.on_evaluated = store_put;
    o.on_evaluated_ctx = put;
    if (get) {
        o.lookup = store_get;
        o.lookup_ctx = get;
    }
    assert_int_equal(cs_search_init(s, &c->p, &o), TD_OK);
    return cs_search_run(s);
}

static void test_resume_by_replay(void **state)
{
    (void)state;
    crashy c;
    crashy_init(&c);
    cs_pool pool;
    cs_pool_options po = {CS_POOL_FORK, 3, 10.0};
    assert_int_equal(cs_pool_init(&pool, &po, cs_problem_pool_work, &c.p), TD_OK);
    store *full = calloc(1, sizeof *full), *first = calloc(1, sizeof *first),
          *second = calloc(1, sizeof *second);
    full->limit = first->limit = second->limit = 4096;
    cs_search a, b, r;
    assert_int_equal(resume_search(&c, &pool, full, NULL, &a), TD_OK);
    /* killed in the middle of generation 3 (batch of 24 from evaluation 48 on) */
    first->limit = 24 * 2 + 10;
    assert_int_equal(resume_search(&c, &pool, first, NULL, &b), TD_ERR_DB);
    assert_string_equal(td_error_message(), "killed after 58 stored evaluations");
    cs_search_free(&b);
    /* resume: replays from the seed, takes the 58 stored results, evaluates the rest */
    assert_int_equal(resume_search(&c, &pool, second, first, &r), TD_OK);
    assert_int_equal(r.evaluations, a.evaluations);
    assert_int_equal(r.cache_hits, 58);
    assert_int_equal(second->n, (size_t)a.evaluations - 58); /* nothing evaluated twice */
    assert_int_equal(r.failures, a.failures);
    for (size_t i = 0; i < a.history_n; i++) {
        assert_int_equal(r.history[i].hash, a.history[i].hash);
        assert_memory_equal(r.history[i].obj, a.history[i].obj, 2 * sizeof(double));
        assert_string_equal(r.history[i].reason, a.history[i].reason);
    }
    size_t *fa, *fr, na, nr;
    assert_int_equal(cs_search_front(&a, false, &fa, &na), TD_OK);
    assert_int_equal(cs_search_front(&r, false, &fr, &nr), TD_OK);
    assert_int_equal(na, nr);
    for (size_t i = 0; i < na; i++)
        assert_int_equal(a.pop[fa[i]].eval_id, r.pop[fr[i]].eval_id);
    double ref[2] = {1.1, 1.1}, ha, hr;
    assert_int_equal(cs_search_hypervolume(&a, false, ref, &ha), TD_OK);
    assert_int_equal(cs_search_hypervolume(&r, false, ref, &hr), TD_OK);
    assert_true(ha == hr);
    free(fa);
    free(fr);
    cs_search_free(&a);
    cs_search_free(&r);
    free(full);
    free(first);
    free(second);
    cs_pool_free(&pool);
}

static td_status short_work(void *ctx, const void *task, size_t len, void **result,
                            size_t *result_len)
{
    *result = calloc(1, 3);
    *result_len = 3;
    return TD_OK;
}

/* A work function whose results have the wrong size fails every candidate, saying so. */
static void test_wrong_result_size(void **state)
{
    (void)state;
    cs_problems_bench z;
    assert_int_equal(cs_problems_init(&z, CS_PROBLEMS_ZDT1), TD_OK);
    cs_pool pool;
    cs_pool_options po = {CS_POOL_FORK, 2, 0};
    assert_int_equal(cs_pool_init(&pool, &po, short_work, NULL), TD_OK);
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 8;
    o.generations = 1;
    o.evaluator.ctx = &pool;
    o.evaluator.evaluate_batch = cs_pool_evaluate_batch;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &z.p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(s.failures, 8);
    assert_string_equal(s.history[0].reason, "result of 3 bytes, expected 16");
    cs_search_free(&s);
    cs_pool_free(&pool);
}

static void test_problem_work_errors(void **state)
{
    (void)state;
    cs_problems_bench z;
    assert_int_equal(cs_problems_init(&z, CS_PROBLEMS_ZDT1), TD_OK);
    void *r = NULL;
    size_t rl = 0;
    uint64_t hdr[2] = {1, 7};
    assert_int_equal(cs_problem_pool_work(&z.p, hdr, 4, &r, &rl), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "zdt1: task of 4 bytes is too short"));
    assert_int_equal(cs_problem_pool_work(&z.p, hdr, sizeof hdr, &r, &rl), TD_ERR_FORMAT);
    assert_non_null(strstr(td_error_message(), "zdt1: task has 7 genes in 16 bytes, expected "
                                               "30 genes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_results_in_order),
        cmocka_unit_test(test_crash_and_hang),
        cmocka_unit_test(test_in_process_error),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_search_same_on_every_pool),
        cmocka_unit_test(test_problem_work_errors),
        cmocka_unit_test(test_resume_by_replay),
        cmocka_unit_test(test_wrong_result_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
