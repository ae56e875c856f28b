/* NSGA-II pieces (constraint-domination, non-dominated sort, crowding, survival), the
 * operators on integer/categorical genes, duplicate elimination, failed evaluations,
 * determinism, the baselines, and the ZDT quality bar (shorter version). */
#include "cs_hv.h"
#include "cs_nsga2.h"
#include "cs_problems.h"
#include "td_tolerances.h"

#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "moo_assert.h"

/* A candidate over caller storage. */
typedef struct cand {
    cs_candidate c;
    double obj[CS_MAX_OBJ];
} cand;

static void cand_set(cand *x, double f1, double f2, double violation)
{
    memset(x, 0, sizeof *x);
    x->c.obj = x->obj;
    x->obj[0] = f1;
    x->obj[1] = f2;
    x->c.violation = violation;
}

static void test_dominates(void **state)
{
    (void)state;
    cand a, b;
    cand_set(&a, 1, 2, 0);
    cand_set(&b, 2, 3, 0);
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 1);
    assert_int_equal(cs_dominates(&b.c, &a.c, 2), -1);
    cand_set(&b, 0, 3, 0); /* trade-off */
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 0);
    cand_set(&b, 1, 2, 0); /* equal */
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 0);
    /* feasible beats infeasible whatever the objectives */
    cand_set(&a, 9, 9, 0);
    cand_set(&b, 0, 0, 0.5);
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 1);
    /* of two infeasible, the smaller violation wins */
    cand_set(&a, 9, 9, 0.25);
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 1);
    cand_set(&a, 0, 0, 0.5);
    cand_set(&b, 9, 9, 0.5);
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), 0);
    /* a failed evaluation (violation +inf) loses to any infeasible one */
    cand_set(&a, 0, 0, INFINITY);
    assert_int_equal(cs_dominates(&a.c, &b.c, 2), -1);
}

static void test_rank_and_crowding(void **state)
{
    (void)state;
    /* front 0: (1,5) (2,3) (4,1); front 1: (3,4) (5,2); front 2: (6,6); infeasible last */
    cand x[7];
    cand_set(&x[0], 3, 4, 0);
    cand_set(&x[1], 1, 5, 0);
    cand_set(&x[2], 6, 6, 0);
    cand_set(&x[3], 2, 3, 0);
    cand_set(&x[4], 5, 2, 0);
    cand_set(&x[5], 4, 1, 0);
    cand_set(&x[6], 0, 0, 1.0);
    cs_candidate *p[7];
    for (int i = 0; i < 7; i++)
        p[i] = &x[i].c;
    size_t nf = 0;
    assert_int_equal(cs_rank_nondominated(p, 7, 2, &nf), TD_OK);
    assert_int_equal(nf, 4);
    const int want[7] = {1, 0, 2, 0, 1, 0, 3};
    for (int i = 0; i < 7; i++)
        assert_int_equal(x[i].c.rank, want[i]);

    /* crowding of front 0 sorted by f1: (1,5) (2,3) (4,1); extremes inf; middle:
     * (4-1)/(4-1) + (5-1)/(5-1) = 2 */
    cs_candidate *f[3] = {&x[1].c, &x[3].c, &x[5].c};
    cs_crowding_distance(f, 3, 2);
    assert_true(isinf(x[1].c.crowding));
    assert_true(isinf(x[5].c.crowding));
    assert_near(x[3].c.crowding, 2.0, 0.0);

    /* an extreme in only one objective still gets +inf (both extremes of every objective):
     * 4 points where (2,2) is the f2 minimum but not an f1 extreme */
    cand y[4];
    cand_set(&y[0], 0, 10, 0);
    cand_set(&y[1], 1, 5, 0);
    cand_set(&y[2], 2, 0, 0);
    cand_set(&y[3], 10, 1, 0);
    cs_candidate *g[4] = {&y[0].c, &y[1].c, &y[2].c, &y[3].c};
    cs_crowding_distance(g, 4, 2);
    assert_true(isinf(y[0].c.crowding));
    assert_true(isinf(y[2].c.crowding)); /* f2 minimum */
    assert_true(isinf(y[3].c.crowding));
    assert_false(isinf(y[1].c.crowding));
    /* (1,5): f1 neighbours 0 and 2 over range 10; f2 neighbours 1 and 10 over range 10 */
    assert_near(y[1].c.crowding, 0.2 + 0.9, 1e-15);

    /* survival of 4 out of 7: front 0 (3), then the most crowded-distance member of
     * front 1 (both extremes: ties by position keep x[0]) */
    size_t keep[4];
    assert_int_equal(cs_survival_select(p, 7, 2, 4, keep), TD_OK);
    assert_int_equal(keep[0], 1);
    assert_int_equal(keep[1], 3);
    assert_int_equal(keep[2], 5);
    assert_int_equal(keep[3], 0);
}

/* ---- a small mixed-gene problem ---------------------------------------------------------- */

static const cs_gene mixed_genes[] = {
    {CS_GENE_INT, 0, 15}, {CS_GENE_INT, -3, 3},        {CS_GENE_CATEGORICAL, 0, 4},
    {CS_GENE_REAL, 0, 1}, {CS_GENE_CATEGORICAL, 0, 1},
};

/* f1 = a + c/4 + d, f2 = (15 - a) + |b| + (c == 2 ? 0 : 1) + e; constraint a >= 2. Fails
 * (error) when b == 3 and e == 1, to exercise failed evaluations. */
static td_status mixed_eval(void *ctx, const double *x, uint64_t seed, double *obj, double *viol)
{
    (void)ctx;
    (void)seed;
    if (x[1] == 3 && x[4] == 1)
        return td_fail(TD_ERR_INFEASIBLE, "mixed: b = 3 with e = 1 cannot be built");
    obj[0] = x[0] + x[2] / 4.0 + x[3];
    obj[1] = (15 - x[0]) + fabs(x[1]) + (x[2] == 2 ? 0 : 1) + x[4];
    viol[0] = 2.0 - x[0];
    return TD_OK;
}

static cs_problem mixed_problem(void)
{
    cs_problem p = {.name = "mixed",
                    .n_genes = 5,
                    .genes = mixed_genes,
                    .n_obj = 2,
                    .n_con = 1,
                    .evaluate = mixed_eval};
    return p;
}

static void check_genes_valid(const cs_problem *p, const cs_candidate *c)
{
    for (size_t i = 0; i < p->n_genes; i++) {
        const cs_gene *g = &p->genes[i];
        assert_true(c->genes[i] >= g->lo && c->genes[i] <= g->hi);
        if (g->kind != CS_GENE_REAL)
            assert_near(c->genes[i], round(c->genes[i]), 0.0);
    }
}

static void run_mixed(cs_algo algo, cs_int_crossover ix)
{
    cs_problem p = mixed_problem();
    cs_search_options o;
    cs_search_options_default(&o);
    o.algo = algo;
    o.int_crossover = ix;
    o.pop_size = 20;
    o.generations = 15;
    o.seed = 5;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(s.evaluations, 20 * 15);
    assert_int_equal(s.history_n, 20 * 15);
    int64_t failed = 0;
    for (size_t i = 0; i < s.history_n; i++) {
        const cs_candidate *c = &s.history[i];
        check_genes_valid(&p, c);
        assert_int_equal(c->eval_id, (int64_t)i);
        if (c->failed) {
            failed++;
            assert_string_equal(c->reason, "mixed: b = 3 with e = 1 cannot be built");
            assert_true(isinf(c->violation));
        }
    }
    assert_int_equal(failed, s.failures);
    /* duplicate elimination: the population holds distinct candidates */
    for (size_t i = 0; i < s.pop_n; i++)
        for (size_t j = i + 1; j < s.pop_n; j++)
            assert_true(s.pop[i].hash != s.pop[j].hash);
    /* the front is feasible and successful */
    size_t *idx, nf;
    assert_int_equal(cs_search_front(&s, algo == CS_ALGO_REGEVO, &idx, &nf), TD_OK);
    assert_true(nf > 0);
    const cs_candidate *base = algo == CS_ALGO_REGEVO ? s.history : s.pop;
    for (size_t i = 0; i < nf; i++) {
        assert_false(base[idx[i]].failed);
        assert_true(base[idx[i]].genes[0] >= 2.0);
    }
    free(idx);
    cs_search_free(&s);
}

static void test_mixed_genes(void **state)
{
    (void)state;
    run_mixed(CS_ALGO_NSGA2, CS_INT_CROSSOVER_SBX);
    run_mixed(CS_ALGO_NSGA2, CS_INT_CROSSOVER_UNIFORM);
    run_mixed(CS_ALGO_RANDOM, CS_INT_CROSSOVER_SBX);
    run_mixed(CS_ALGO_REGEVO, CS_INT_CROSSOVER_SBX);
}

/* The failed evaluations are exactly those the problem rejects, and the run goes on. */
static void test_failures_recorded(void **state)
{
    (void)state;
    cs_problem p = mixed_problem();
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 40;
    o.generations = 3;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    int64_t expect = 0;
    for (size_t i = 0; i < s.history_n; i++) {
        bool bad = s.history[i].genes[1] == 3 && s.history[i].genes[4] == 1;
        expect += bad;
        assert_int_equal(s.history[i].failed, bad);
    }
    assert_true(expect > 0);
    assert_int_equal(s.failures, expect);
    cs_search_free(&s);
}

/* Small space (24 candidates), population 8 (16 distinct needed per generation): every generation's
 * population is distinct. */
static const cs_gene tiny_genes[] = {{CS_GENE_INT, 0, 3}, {CS_GENE_CATEGORICAL, 0, 5}};

static td_status tiny_eval(void *ctx, const double *x, uint64_t seed, double *obj, double *viol)
{
    obj[0] = x[0];
    obj[1] = 3 - x[0] + (x[1] == 1 ? 0 : 1);
    return TD_OK;
}

static td_status tiny_check(void *ctx, const cs_search *s)
{
    size_t *dups = ctx;
    for (size_t i = 0; i < s->pop_n; i++)
        for (size_t j = i + 1; j < s->pop_n; j++)
            *dups += s->pop[i].hash == s->pop[j].hash;
    return TD_OK;
}

static void test_dedupe_tiny_space(void **state)
{
    (void)state;
    cs_problem p = {
        .name = "tiny", .n_genes = 2, .genes = tiny_genes, .n_obj = 2, .evaluate = tiny_eval};
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 8;
    o.generations = 10;
    size_t dups = 0;
    o.on_generation = tiny_check;
    o.on_generation_ctx = &dups;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(dups, 0);
    /* the front of this problem: a = 0..3 with c = 1 */
    size_t *idx, nf;
    assert_int_equal(cs_search_front(&s, false, &idx, &nf), TD_OK);
    assert_int_equal(nf, 4);
    free(idx);
    cs_search_free(&s);
}

static double run_hv(cs_problems_id id, cs_algo algo, size_t pop, size_t gens, uint64_t seed,
                     double eta_c, double *out_f0)
{
    cs_problems_bench b;
    assert_int_equal(cs_problems_init(&b, id), TD_OK);
    cs_search_options o;
    cs_search_options_default(&o);
    o.algo = algo;
    o.pop_size = pop;
    o.generations = gens;
    o.seed = seed;
    o.eta_c = eta_c;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &b.p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(s.evaluations, (int64_t)(pop * gens));
    size_t *idx, n;
    bool hist = algo != CS_ALGO_NSGA2;
    assert_int_equal(cs_search_front(&s, hist, &idx, &n), TD_OK);
    double *f;
    assert_int_equal(cs_objectives_matrix(hist ? s.history : s.pop, idx, n, b.p.n_obj, &f), TD_OK);
    if (out_f0)
        memcpy(out_f0, f,
               n * b.p.n_obj * sizeof(double) < 64 * sizeof(double) ? n * b.p.n_obj * sizeof(double)
                                                                    : 64 * sizeof(double));
    double ref[3] = {1.1, 1.1, 1.1}, v;
    assert_int_equal(cs_hv_compute(f, n, b.p.n_obj, ref, &v), TD_OK);
    free(f);
    free(idx);
    cs_search_free(&s);
    return v;
}

static void test_deterministic(void **state)
{
    (void)state;
    double a[64] = {0}, b[64] = {0}, c[64] = {0};
    double ha = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_NSGA2, 20, 60, 42, 15, a);
    double hb = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_NSGA2, 20, 60, 42, 15, b);
    double hc = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_NSGA2, 20, 60, 43, 15, c);
    assert_memory_equal(a, b, sizeof a);
    assert_true(ha == hb);
    assert_true(ha != hc);
}

/* The shorter version of the issue #9 quality bar (one seed instead of five). */
static void test_zdt_quality(void **state)
{
    (void)state;
    const struct {
        cs_problems_id id;
        double min;
    } bars[] = {
        {CS_PROBLEMS_ZDT1, TD_MOO_ZDT1_HV_MIN}, {CS_PROBLEMS_ZDT2, TD_MOO_ZDT2_HV_MIN},
        {CS_PROBLEMS_ZDT3, TD_MOO_ZDT3_HV_MIN}, {CS_PROBLEMS_ZDT4, TD_MOO_ZDT4_HV_MIN},
        {CS_PROBLEMS_ZDT6, TD_MOO_ZDT6_HV_MIN},
    };
    for (size_t i = 0; i < sizeof bars / sizeof bars[0]; i++) {
        double v = run_hv(bars[i].id, CS_ALGO_NSGA2, 100, 250, 1, 15, NULL);
        print_message("%s: hypervolume %.4f (minimum %.4f)\n", cs_problems_name(bars[i].id), v,
                      bars[i].min);
        assert_true(v >= bars[i].min);
    }
}

/* The baselines run behind the same interface and NSGA-II beats random search at equal
 * evaluations; regularized evolution on a scalarised objective finds a good point. */
static void test_baselines(void **state)
{
    (void)state;
    double nsga = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_NSGA2, 40, 60, 3, 15, NULL);
    double rnd = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_RANDOM, 40, 60, 3, 15, NULL);
    double reg = run_hv(CS_PROBLEMS_ZDT1, CS_ALGO_REGEVO, 40, 60, 3, 15, NULL);
    print_message("zdt1 2400 evaluations: nsga2 %.4f random %.4f regevo %.4f\n", nsga, rnd, reg);
    assert_true(nsga > rnd);
    assert_true(reg > 0.0);
}

static void test_errors(void **state)
{
    (void)state;
    cs_problem p = mixed_problem();
    cs_search_options o;
    cs_search_options_default(&o);
    cs_search s;
    o.pop_size = 21; /* odd populations work: 21 children per generation */
    o.generations = 3;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(s.evaluations, 63);
    assert_int_equal(s.pop_n, 21);
    cs_search_free(&s);
    o.pop_size = 2;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "population size 2, at least 4"));
    o.pop_size = 20;
    o.generations = 0;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "generations must be at least 1"));
    o.generations = 2;
    o.crossover_prob = 1.5;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "crossover probability 1.5 outside [0, 1]"));
    o.crossover_prob = 0.9;
    o.algo = CS_ALGO_REGEVO;
    o.tournament_size = 50;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "tournament size 50 outside 1..20"));
    o.tournament_size = 5;
    const double w[2] = {1.0, -1.0};
    o.weights = w;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "weight 1 (-1) must be finite and >= 0"));

    o.weights = NULL;
    o.algo = CS_ALGO_NSGA2;
    o.mutation_prob = 1.5;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "mutation probability 1.5 above 1"));
    o.mutation_prob = 0.0;
    o.eta_c = -1.0;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "eta_c -1, eta_m 20 must be >= 0"));
    o.eta_c = 20.0;
    o.int_crossover = CS_INT_CROSSOVER_COUNT;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown integer crossover 2"));
    o.int_crossover = CS_INT_CROSSOVER_SBX;
    o.algo = CS_ALGO_COUNT;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown algorithm 3"));
    o.algo = CS_ALGO_NSGA2;
    /* stepping past the last generation */
    o.generations = 1;
    o.pop_size = 4;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    assert_int_equal(cs_search_step(&s), TD_ERR_INTERNAL);
    assert_non_null(strstr(td_error_message(), "all 1 generations are done"));
    cs_search_free(&s);

    cs_gene bad[] = {{CS_GENE_INT, 0, 3}, {CS_GENE_INT, 0.5, 3}};
    cs_problem q = {
        .name = "badgenes", .n_genes = 2, .genes = bad, .n_obj = 2, .evaluate = tiny_eval};
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: integer gene 1 has non-integral"));
    bad[1].lo = 4;
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: gene 1 range [4, 3] is empty"));
    bad[1].lo = 0;
    q.n_obj = 7;
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: 7 objectives, expected 1..6"));
    q.n_obj = 2;
    bad[0].kind = CS_GENE_KIND_COUNT;
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: gene 0 has unknown kind 3"));
    bad[0].kind = CS_GENE_INT;
    q.n_genes = 0;
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: no genes"));
    q.n_genes = 2;
    q.evaluate = NULL;
    assert_int_equal(cs_problem_check(&q), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "badgenes: no evaluate function"));

    cs_algo a;
    assert_int_equal(cs_algo_parse("nsga3", &a), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown search algorithm 'nsga3'"));
    assert_int_equal(cs_algo_parse("regevo", &a), TD_OK);
    assert_int_equal(a, CS_ALGO_REGEVO);
    cs_problems_id id;
    assert_int_equal(cs_problems_parse("zdt5", &id), TD_ERR_CONFIG);
    assert_non_null(strstr(td_error_message(), "unknown problem 'zdt5'"));
}

/* A generation callback's error stops the search with that status. */
static td_status stop_at_2(void *ctx, const cs_search *s)
{
    if (s->generation == 2)
        return td_fail(TD_ERR_DB, "archive full");
    return TD_OK;
}

static void test_callback_stops(void **state)
{
    (void)state;
    cs_problem p = mixed_problem();
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 8;
    o.generations = 5;
    o.on_generation = stop_at_2;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_ERR_DB);
    assert_string_equal(td_error_message(), "archive full");
    assert_int_equal(s.generation, 2);
    assert_int_equal(s.evaluations, 16);
    cs_search_free(&s);
}

static td_status nan_eval(void *ctx, const double *x, uint64_t seed, double *obj, double *viol)
{
    obj[0] = x[0];
    obj[1] = x[0] > 1 ? NAN : 1.0 - x[0];
    viol[0] = x[1] == 2 ? NAN : 0.0;
    return TD_OK;
}

/* NaN objectives or violations mark the evaluation failed, naming which. */
static void test_nan_fails(void **state)
{
    (void)state;
    cs_problem p = {.name = "nan",
                    .n_genes = 2,
                    .genes = tiny_genes,
                    .n_obj = 2,
                    .n_con = 1,
                    .evaluate = nan_eval};
    cs_search_options o;
    cs_search_options_default(&o);
    o.pop_size = 12;
    o.generations = 2;
    cs_search s;
    assert_int_equal(cs_search_init(&s, &p, &o), TD_OK);
    assert_int_equal(cs_search_run(&s), TD_OK);
    size_t nan_obj = 0, nan_viol = 0;
    for (size_t i = 0; i < s.history_n; i++) {
        const cs_candidate *c = &s.history[i];
        if (c->genes[0] > 1) {
            assert_true(c->failed);
            assert_string_equal(c->reason, "objective 1 is NaN");
            nan_obj++;
        } else if (c->genes[1] == 2) {
            assert_true(c->failed);
            assert_string_equal(c->reason, "constraint 0 violation is NaN");
            nan_viol++;
        } else {
            assert_false(c->failed);
        }
    }
    assert_true(nan_obj > 0 && nan_viol > 0);
    cs_search_free(&s);
}

/* DTLZ2 (3 objectives): the front lies on the unit sphere octant. */
static void test_dtlz2(void **state)
{
    (void)state;
    double v = run_hv(CS_PROBLEMS_DTLZ2, CS_ALGO_NSGA2, 100, 100, 1, 15, NULL);
    /* the whole octant outside the unit sphere within [0,1.1]^3: 1.331 - pi/6 = 0.8074;
     * a 100-point front reaches about 0.70 */
    print_message("dtlz2: hypervolume %.4f\n", v);
    assert_true(v > 0.65 && v < 1.331 - M_PI / 6.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dominates),
        cmocka_unit_test(test_rank_and_crowding),
        cmocka_unit_test(test_mixed_genes),
        cmocka_unit_test(test_failures_recorded),
        cmocka_unit_test(test_dedupe_tiny_space),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_zdt_quality),
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_dtlz2),
        cmocka_unit_test(test_nan_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
