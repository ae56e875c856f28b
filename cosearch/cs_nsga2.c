#include "cs_nsga2.h"

#include "cs_hv.h"
#include "td_hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Below this distance two parents' gene values count as equal and SBX leaves them (Deb's
 * NSGA-II code, EPS = 1e-14). */
#define CS_SBX_EPS 1e-14
/* Seed of the default gene-value hash ("cs-genes"). */
#define CS_GENES_HASH_SEED 0x63732d67656e6573ull

/* ---- problem and candidates ---------------------------------------------------------- */

td_status cs_problem_check(const cs_problem *p)
{
    const char *name = p->name ? p->name : "problem";
    if (p->n_genes == 0 || !p->genes)
        return td_fail(TD_ERR_CONFIG, "%s: no genes", name);
    if (p->n_obj < 1 || p->n_obj > CS_MAX_OBJ)
        return td_fail(TD_ERR_CONFIG, "%s: %zu objectives, expected 1..%d", name, p->n_obj,
                       CS_MAX_OBJ);
    if (!p->evaluate)
        return td_fail(TD_ERR_CONFIG, "%s: no evaluate function", name);
    for (size_t i = 0; i < p->n_genes; i++) {
        const cs_gene *g = &p->genes[i];
        if (g->kind < 0 || g->kind >= CS_GENE_KIND_COUNT)
            return td_fail(TD_ERR_CONFIG, "%s: gene %zu has unknown kind %d", name, i,
                           (int)g->kind);
        if (!isfinite(g->lo) || !isfinite(g->hi) || g->hi < g->lo)
            return td_fail(TD_ERR_CONFIG, "%s: gene %zu range [%g, %g] is empty or not finite",
                           name, i, g->lo, g->hi);
        if (g->kind != CS_GENE_REAL && (g->lo != floor(g->lo) || g->hi != floor(g->hi)))
            return td_fail(TD_ERR_CONFIG, "%s: integer gene %zu has non-integral range [%g, %g]",
                           name, i, g->lo, g->hi);
    }
    return TD_OK;
}

uint64_t cs_problem_hash(const cs_problem *p, const double *genes)
{
    if (p->hash)
        return p->hash(p->ctx, genes);
    td_hasher h;
    if (td_hasher_init(&h, CS_GENES_HASH_SEED) != TD_OK) {
        /* allocation failure: fall back to a one-shot hash of the raw values */
        return td_hash64(genes, p->n_genes * sizeof(double), CS_GENES_HASH_SEED);
    }
    for (size_t i = 0; i < p->n_genes; i++)
        td_hasher_f64(&h, genes[i] == 0.0 ? 0.0 : genes[i]); /* -0.0 and 0.0 are one value */
    uint64_t d = td_hasher_digest(&h);
    td_hasher_free(&h);
    return d;
}

td_status cs_candidate_alloc(cs_candidate *c, const cs_problem *p)
{
    memset(c, 0, sizeof *c);
    size_t n = p->n_genes + p->n_obj + p->n_con;
    double *block = calloc(n ? n : 1, sizeof(double));
    if (!block)
        return td_fail(TD_ERR_NOMEM, "cannot allocate a candidate of %zu genes", p->n_genes);
    c->genes = block;
    c->obj = block + p->n_genes;
    c->viol = c->obj + p->n_obj;
    c->eval_id = -1;
    return TD_OK;
}

void cs_candidate_free(cs_candidate *c)
{
    free(c->genes);
    c->genes = c->obj = c->viol = NULL;
}

void cs_candidate_copy(cs_candidate *dst, const cs_candidate *src, const cs_problem *p)
{
    double *g = dst->genes, *o = dst->obj, *v = dst->viol;
    memcpy(g, src->genes, p->n_genes * sizeof(double));
    memcpy(o, src->obj, p->n_obj * sizeof(double));
    if (p->n_con)
        memcpy(v, src->viol, p->n_con * sizeof(double));
    *dst = *src;
    dst->genes = g;
    dst->obj = o;
    dst->viol = v;
}

void cs_candidate_set_failed(cs_candidate *c, const cs_problem *p, const char *reason)
{
    c->failed = true;
    if (reason != c->reason || !*c->reason)
        snprintf(c->reason, sizeof c->reason, "%s", reason && *reason ? reason : "failed");
    for (size_t i = 0; i < p->n_obj; i++)
        c->obj[i] = INFINITY;
    for (size_t i = 0; i < p->n_con; i++)
        c->viol[i] = INFINITY;
    c->violation = INFINITY;
}

void cs_candidate_set_violation(cs_candidate *c, const cs_problem *p)
{
    double v = 0.0;
    for (size_t i = 0; i < p->n_con; i++) {
        if (c->viol[i] < 0.0)
            c->viol[i] = 0.0; /* a negative violation means satisfied */
        v += c->viol[i];
    }
    c->violation = v;
}

/* ---- ranking ----------------------------------------------------------------------------- */

int cs_dominates(const cs_candidate *a, const cs_candidate *b, size_t n_obj)
{
    bool fa = a->violation == 0.0, fb = b->violation == 0.0;
    if (fa && !fb)
        return 1;
    if (!fa && fb)
        return -1;
    if (!fa && !fb) {
        if (a->violation < b->violation)
            return 1;
        if (b->violation < a->violation)
            return -1;
        return 0;
    }
    bool a_better = false, b_better = false;
    for (size_t i = 0; i < n_obj; i++) {
        if (a->obj[i] < b->obj[i])
            a_better = true;
        else if (b->obj[i] < a->obj[i])
            b_better = true;
    }
    if (a_better && !b_better)
        return 1;
    if (b_better && !a_better)
        return -1;
    return 0;
}

td_status cs_rank_nondominated(cs_candidate **c, size_t n, size_t n_obj, size_t *n_fronts)
{
    if (n_fronts)
        *n_fronts = 0;
    if (n == 0)
        return TD_OK;
    /* dom[i*n+j] = 1 when i dominates j; cnt[j] = how many dominate j (Deb's n_p). */
    unsigned char *dom = calloc(n * n, 1);
    size_t *cnt = calloc(n, sizeof(size_t));
    size_t *cur = malloc(n * sizeof(size_t));
    size_t *next = malloc(n * sizeof(size_t));
    if (!dom || !cnt || !cur || !next) {
        free(dom);
        free(cnt);
        free(cur);
        free(next);
        return td_fail(TD_ERR_NOMEM, "non-dominated sort: cannot allocate for %zu candidates", n);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            int d = cs_dominates(c[i], c[j], n_obj);
            if (d > 0) {
                dom[i * n + j] = 1;
                cnt[j]++;
            } else if (d < 0) {
                dom[j * n + i] = 1;
                cnt[i]++;
            }
        }
    }
    size_t ncur = 0;
    for (size_t i = 0; i < n; i++)
        if (cnt[i] == 0) {
            c[i]->rank = 0;
            cur[ncur++] = i;
        }
    int rank = 0;
    size_t fronts = 0;
    while (ncur > 0) {
        fronts++;
        size_t nnext = 0;
        for (size_t a = 0; a < ncur; a++) {
            size_t p = cur[a];
            for (size_t q = 0; q < n; q++) {
                if (dom[p * n + q] && --cnt[q] == 0) {
                    c[q]->rank = rank + 1;
                    next[nnext++] = q;
                }
            }
        }
        rank++;
        size_t *t = cur;
        cur = next;
        next = t;
        ncur = nnext;
    }
    if (n_fronts)
        *n_fronts = fronts;
    free(dom);
    free(cnt);
    free(cur);
    free(next);
    return TD_OK;
}

/* Sorting helpers: index arrays sorted by a key with the index as tie-break, so that
 * every order in the search is deterministic. */
static _Thread_local cs_candidate **cs_sort_cands;
static _Thread_local size_t cs_sort_obj;

static int cs_cmp_obj(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = cs_sort_cands[i]->obj[cs_sort_obj], y = cs_sort_cands[j]->obj[cs_sort_obj];
    if (x < y)
        return -1;
    if (x > y)
        return 1;
    return i < j ? -1 : (i > j ? 1 : 0);
}

void cs_crowding_distance(cs_candidate **front, size_t n, size_t n_obj)
{
    for (size_t i = 0; i < n; i++)
        front[i]->crowding = 0.0;
    if (n == 0)
        return;
    if (n <= 2) {
        for (size_t i = 0; i < n; i++)
            front[i]->crowding = INFINITY;
        return;
    }
    size_t *idx = malloc(n * sizeof(size_t));
    if (!idx) {
        /* cannot sort: treat every member as an extreme (keeps all, never crashes) */
        for (size_t i = 0; i < n; i++)
            front[i]->crowding = INFINITY;
        return;
    }
    for (size_t m = 0; m < n_obj; m++) {
        for (size_t i = 0; i < n; i++)
            idx[i] = i;
        cs_sort_cands = front;
        cs_sort_obj = m;
        qsort(idx, n, sizeof(size_t), cs_cmp_obj);
        front[idx[0]]->crowding = INFINITY;
        front[idx[n - 1]]->crowding = INFINITY;
        double lo = front[idx[0]]->obj[m], hi = front[idx[n - 1]]->obj[m];
        double range = hi - lo;
        if (!(range > 0.0) || !isfinite(range))
            continue;
        for (size_t i = 1; i + 1 < n; i++) {
            double d = (front[idx[i + 1]]->obj[m] - front[idx[i - 1]]->obj[m]) / range;
            if (isfinite(d))
                front[idx[i]]->crowding += d;
        }
    }
    free(idx);
}

static _Thread_local cs_candidate **cs_sort_crowd;

static int cs_cmp_crowding_desc(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = cs_sort_crowd[i]->crowding, y = cs_sort_crowd[j]->crowding;
    if (x > y)
        return -1;
    if (x < y)
        return 1;
    return i < j ? -1 : (i > j ? 1 : 0);
}

td_status cs_survival_select(cs_candidate **c, size_t n, size_t n_obj, size_t k, size_t *keep)
{
    if (k > n)
        return td_fail(TD_ERR_INTERNAL, "survival: %zu survivors asked of %zu candidates", k, n);
    size_t n_fronts = 0;
    td_status st = cs_rank_nondominated(c, n, n_obj, &n_fronts);
    if (st != TD_OK)
        return st;
    size_t *fidx = malloc((n ? n : 1) * sizeof(size_t));
    cs_candidate **fc = malloc((n ? n : 1) * sizeof(cs_candidate *));
    if (!fidx || !fc) {
        free(fidx);
        free(fc);
        return td_fail(TD_ERR_NOMEM, "survival: cannot allocate for %zu candidates", n);
    }
    size_t kept = 0;
    for (int r = 0; (size_t)r < n_fronts && kept < k; r++) {
        size_t nf = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i]->rank == r) {
                fidx[nf] = i;
                fc[nf] = c[i];
                nf++;
            }
        cs_crowding_distance(fc, nf, n_obj);
        if (kept + nf <= k) {
            for (size_t i = 0; i < nf; i++)
                keep[kept++] = fidx[i];
            continue;
        }
        /* last front: the least crowded first; ties by position */
        size_t *order = malloc(nf * sizeof(size_t));
        if (!order) {
            free(fidx);
            free(fc);
            return td_fail(TD_ERR_NOMEM, "survival: cannot allocate for %zu candidates", nf);
        }
        for (size_t i = 0; i < nf; i++)
            order[i] = i;
        cs_sort_crowd = fc;
        qsort(order, nf, sizeof(size_t), cs_cmp_crowding_desc);
        for (size_t i = 0; kept < k; i++)
            keep[kept++] = fidx[order[i]];
        free(order);
    }
    free(fidx);
    free(fc);
    return TD_OK;
}

/* ---- names and options ----------------------------------------------------------------- */

static const char *const cs_algo_names[CS_ALGO_COUNT] = {"nsga2", "random", "regevo"};

const char *cs_algo_name(cs_algo a)
{
    return a >= 0 && a < CS_ALGO_COUNT ? cs_algo_names[a] : "?";
}

td_status cs_algo_parse(const char *name, cs_algo *out)
{
    for (int i = 0; i < CS_ALGO_COUNT; i++)
        if (strcmp(name, cs_algo_names[i]) == 0) {
            *out = (cs_algo)i;
            return TD_OK;
        }
    return td_fail(TD_ERR_CONFIG, "unknown search algorithm '%s' (nsga2, random, regevo)", name);
}

void cs_search_options_default(cs_search_options *o)
{
    memset(o, 0, sizeof *o);
    o->algo = CS_ALGO_NSGA2;
    o->pop_size = 100;
    o->generations = 250;
    o->seed = 1;
    o->crossover_prob = 0.9;
    o->eta_c = 20.0;
    o->mutation_prob = 0.0;
    o->eta_m = 20.0;
    o->int_crossover = CS_INT_CROSSOVER_SBX;
    o->dedupe = true;
    o->dedupe_tries = 50;
    o->tournament_size = 10;
    o->regevo_batch = 0;
    o->keep_history = true;
}

td_status cs_evaluate_batch_serial(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                   cs_eval_done_fn done, void *done_ctx)
{
    for (size_t i = 0; i < n; i++) {
        cs_candidate *c = cands[i];
        td_error_clear();
        td_status st = p->evaluate(p->ctx, c->genes, c->seed, c->obj, c->viol);
        if (st != TD_OK)
            cs_candidate_set_failed(c, p,
                                    *td_error_message() ? td_error_message() : td_status_name(st));
        else
            c->failed = false;
        if (done && (st = done(done_ctx, p, c)) != TD_OK)
            return st;
    }
    return TD_OK;
}

void cs_candidate_finish(cs_candidate *c, const cs_problem *p)
{
    if (!c->failed) {
        for (size_t k = 0; k < p->n_obj && !c->failed; k++)
            if (isnan(c->obj[k])) {
                char why[64];
                snprintf(why, sizeof why, "objective %zu is NaN", k);
                cs_candidate_set_failed(c, p, why);
            }
        for (size_t k = 0; k < p->n_con && !c->failed; k++)
            if (isnan(c->viol[k])) {
                char why[64];
                snprintf(why, sizeof why, "constraint %zu violation is NaN", k);
                cs_candidate_set_failed(c, p, why);
            }
    }
    if (c->failed)
        cs_candidate_set_failed(c, p, c->reason);
    else
        cs_candidate_set_violation(c, p);
    c->evaluated = true;
}

/* ---- operators ------------------------------------------------------------------------- */

static double cs_clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void cs_random_genes(cs_search *s, double *x)
{
    const cs_problem *p = s->problem;
    for (size_t i = 0; i < p->n_genes; i++) {
        const cs_gene *g = &p->genes[i];
        if (g->kind == CS_GENE_REAL)
            x[i] = g->lo + td_rng_uniform(&s->rng) * (g->hi - g->lo);
        else
            x[i] = (double)td_rng_range(&s->rng, (int64_t)g->lo, (int64_t)g->hi);
    }
}

/* SBX on one variable pair, bounded (Deb's NSGA-II code, realcross). */
static void cs_sbx_pair(cs_search *s, double x1, double x2, double yl, double yu, double *c1,
                        double *c2)
{
    double eta = s->opt.eta_c;
    if (fabs(x1 - x2) <= CS_SBX_EPS || yu <= yl) {
        *c1 = x1;
        *c2 = x2;
        return;
    }
    double y1 = x1 < x2 ? x1 : x2, y2 = x1 < x2 ? x2 : x1;
    double r = td_rng_uniform(&s->rng);
    double beta = 1.0 + 2.0 * (y1 - yl) / (y2 - y1);
    double alpha = 2.0 - pow(beta, -(eta + 1.0));
    double betaq = r <= 1.0 / alpha ? pow(r * alpha, 1.0 / (eta + 1.0))
                                    : pow(1.0 / (2.0 - r * alpha), 1.0 / (eta + 1.0));
    double a = 0.5 * ((y1 + y2) - betaq * (y2 - y1));
    beta = 1.0 + 2.0 * (yu - y2) / (y2 - y1);
    alpha = 2.0 - pow(beta, -(eta + 1.0));
    betaq = r <= 1.0 / alpha ? pow(r * alpha, 1.0 / (eta + 1.0))
                             : pow(1.0 / (2.0 - r * alpha), 1.0 / (eta + 1.0));
    double b = 0.5 * ((y1 + y2) + betaq * (y2 - y1));
    a = cs_clamp(a, yl, yu);
    b = cs_clamp(b, yl, yu);
    if (td_rng_uniform(&s->rng) <= 0.5) {
        *c1 = b;
        *c2 = a;
    } else {
        *c1 = a;
        *c2 = b;
    }
}

static void cs_crossover(cs_search *s, const double *p1, const double *p2, double *c1, double *c2)
{
    const cs_problem *p = s->problem;
    if (td_rng_uniform(&s->rng) > s->opt.crossover_prob) {
        memcpy(c1, p1, p->n_genes * sizeof(double));
        memcpy(c2, p2, p->n_genes * sizeof(double));
        return;
    }
    for (size_t i = 0; i < p->n_genes; i++) {
        const cs_gene *g = &p->genes[i];
        bool sbx = g->kind == CS_GENE_REAL ||
                   (g->kind == CS_GENE_INT && s->opt.int_crossover == CS_INT_CROSSOVER_SBX);
        if (td_rng_uniform(&s->rng) > 0.5) {
            c1[i] = p1[i];
            c2[i] = p2[i];
            continue;
        }
        if (!sbx) { /* uniform crossover: this gene swaps */
            c1[i] = p2[i];
            c2[i] = p1[i];
            continue;
        }
        cs_sbx_pair(s, p1[i], p2[i], g->lo, g->hi, &c1[i], &c2[i]);
        if (g->kind == CS_GENE_INT) {
            c1[i] = cs_clamp(round(c1[i]), g->lo, g->hi);
            c2[i] = cs_clamp(round(c2[i]), g->lo, g->hi);
        }
    }
}

/* Polynomial mutation of one value in [yl, yu] (Deb's NSGA-II code, real_mutate_ind). */
static double cs_polynomial(cs_search *s, double y, double yl, double yu)
{
    double eta = s->opt.eta_m;
    double d1 = (y - yl) / (yu - yl), d2 = (yu - y) / (yu - yl);
    double r = td_rng_uniform(&s->rng), pw = 1.0 / (eta + 1.0), dq;
    if (r <= 0.5) {
        double val = 2.0 * r + (1.0 - 2.0 * r) * pow(1.0 - d1, eta + 1.0);
        dq = pow(val, pw) - 1.0;
    } else {
        double val = 2.0 * (1.0 - r) + 2.0 * (r - 0.5) * pow(1.0 - d2, eta + 1.0);
        dq = 1.0 - pow(val, pw);
    }
    return cs_clamp(y + dq * (yu - yl), yl, yu);
}

static void cs_mutate_gene(cs_search *s, double *x, size_t i)
{
    const cs_gene *g = &s->problem->genes[i];
    if (g->hi <= g->lo)
        return;
    switch (g->kind) {
    case CS_GENE_REAL:
        x[i] = cs_polynomial(s, x[i], g->lo, g->hi);
        break;
    case CS_GENE_INT: {
        /* polynomial mutation on [lo-1/2, hi+1/2], rounded; a result equal to the old
         * value becomes a step of one to a random side (within range) */
        double v = cs_clamp(round(cs_polynomial(s, x[i], g->lo - 0.5, g->hi + 0.5)), g->lo, g->hi);
        if (v == x[i]) {
            double step = td_rng_uniform(&s->rng) < 0.5 ? -1.0 : 1.0;
            v = x[i] + step;
            if (v < g->lo || v > g->hi)
                v = x[i] - step;
        }
        x[i] = v;
        break;
    }
    case CS_GENE_CATEGORICAL: {
        /* a different category, uniformly */
        int64_t n = (int64_t)(g->hi - g->lo);
        int64_t r = td_rng_range(&s->rng, 0, n - 1);
        double v = g->lo + (double)r;
        if (v >= x[i])
            v += 1.0;
        x[i] = v;
        break;
    }
    default:
        break;
    }
}

static double cs_mutation_rate(const cs_search *s)
{
    return s->opt.mutation_prob > 0.0 ? s->opt.mutation_prob : 1.0 / (double)s->problem->n_genes;
}

/* Per-gene mutation with the configured rate; with force, a gene is mutated when the rate
 * left every gene as it was. */
static void cs_mutate(cs_search *s, double *x, bool force)
{
    double pm = cs_mutation_rate(s);
    bool any = false;
    for (size_t i = 0; i < s->problem->n_genes; i++)
        if (td_rng_uniform(&s->rng) <= pm) {
            cs_mutate_gene(s, x, i);
            any = true;
        }
    if (force && !any)
        cs_mutate_gene(s, x, (size_t)td_rng_uniform_int(&s->rng, s->problem->n_genes));
}

/* ---- duplicate elimination ------------------------------------------------------------- */

static bool cs_hash_seen(const cs_candidate *a, size_t na, const cs_candidate *b, size_t nb,
                         uint64_t h)
{
    for (size_t i = 0; i < na; i++)
        if (a[i].hash == h)
            return true;
    for (size_t i = 0; i < nb; i++)
        if (b[i].hash == h)
            return true;
    return false;
}

/* Sets c's hash; with dedupe on, re-mutates c while its hash is in pop[0..npop) or
 * off[0..noff), then tries fresh random candidates; accepts a duplicate only when both
 * fail (tiny spaces). */
static void cs_make_unique(cs_search *s, cs_candidate *c, const cs_candidate *pop, size_t npop,
                           const cs_candidate *off, size_t noff)
{
    const cs_problem *p = s->problem;
    c->hash = cs_problem_hash(p, c->genes);
    if (!s->opt.dedupe)
        return;
    for (size_t t = 0; t < s->opt.dedupe_tries && cs_hash_seen(pop, npop, off, noff, c->hash);
         t++) {
        cs_mutate(s, c->genes, true);
        c->hash = cs_problem_hash(p, c->genes);
    }
    for (size_t t = 0; t < s->opt.dedupe_tries && cs_hash_seen(pop, npop, off, noff, c->hash);
         t++) {
        cs_random_genes(s, c->genes);
        c->hash = cs_problem_hash(p, c->genes);
    }
}

/* ---- search ------------------------------------------------------------------------------ */

static td_status cs_alloc_array(cs_candidate **out, size_t n, const cs_problem *p)
{
    cs_candidate *a = calloc(n, sizeof(cs_candidate));
    if (!a)
        return td_fail(TD_ERR_NOMEM, "cannot allocate %zu candidates", n);
    for (size_t i = 0; i < n; i++) {
        td_status st = cs_candidate_alloc(&a[i], p);
        if (st != TD_OK) {
            for (size_t j = 0; j < i; j++)
                cs_candidate_free(&a[j]);
            free(a);
            return st;
        }
    }
    *out = a;
    return TD_OK;
}

static void cs_free_array(cs_candidate *a, size_t n)
{
    if (!a)
        return;
    for (size_t i = 0; i < n; i++)
        cs_candidate_free(&a[i]);
    free(a);
}

td_status cs_search_init(cs_search *s, const cs_problem *p, const cs_search_options *o)
{
    memset(s, 0, sizeof *s);
    td_status st = cs_problem_check(p);
    if (st != TD_OK)
        return st;
    if (o->algo < 0 || o->algo >= CS_ALGO_COUNT)
        return td_fail(TD_ERR_CONFIG, "search: unknown algorithm %d", (int)o->algo);
    if (o->pop_size < 4)
        return td_fail(TD_ERR_CONFIG, "search: population size %zu, at least 4", o->pop_size);
    if (o->generations < 1)
        return td_fail(TD_ERR_CONFIG, "search: generations must be at least 1");
    if (!(o->crossover_prob >= 0.0 && o->crossover_prob <= 1.0))
        return td_fail(TD_ERR_CONFIG, "search: crossover probability %g outside [0, 1]",
                       o->crossover_prob);
    if (!(o->mutation_prob <= 1.0))
        return td_fail(TD_ERR_CONFIG, "search: mutation probability %g above 1", o->mutation_prob);
    if (!(o->eta_c >= 0.0) || !(o->eta_m >= 0.0))
        return td_fail(TD_ERR_CONFIG,
                       "search: distribution indices eta_c %g, eta_m %g must be "
                       ">= 0",
                       o->eta_c, o->eta_m);
    if (o->int_crossover < 0 || o->int_crossover >= CS_INT_CROSSOVER_COUNT)
        return td_fail(TD_ERR_CONFIG, "search: unknown integer crossover %d",
                       (int)o->int_crossover);
    if (o->algo == CS_ALGO_REGEVO && (o->tournament_size < 1 || o->tournament_size > o->pop_size))
        return td_fail(TD_ERR_CONFIG, "search: tournament size %zu outside 1..%zu",
                       o->tournament_size, o->pop_size);
    if (o->weights)
        for (size_t i = 0; i < p->n_obj; i++)
            if (!(o->weights[i] >= 0.0) || !isfinite(o->weights[i]))
                return td_fail(TD_ERR_CONFIG, "search: weight %zu (%g) must be finite and >= 0", i,
                               o->weights[i]);
    s->problem = p;
    s->opt = *o;
    if (!s->opt.evaluator.evaluate_batch)
        s->opt.evaluator.evaluate_batch = cs_evaluate_batch_serial;
    s->regevo_batch = o->regevo_batch ? o->regevo_batch : (o->pop_size / 10 ? o->pop_size / 10 : 1);
    if (s->regevo_batch > o->pop_size)
        s->regevo_batch = o->pop_size;
    st = td_rng_init(&s->rng, o->seed);
    if (st != TD_OK)
        return st;
    size_t n = o->pop_size;
    if ((st = cs_alloc_array(&s->pop, n, p)) != TD_OK ||
        (st = cs_alloc_array(&s->off, n + 1, p)) != TD_OK || /* + 1: odd pop, a spare child */
        (st = cs_alloc_array(&s->pop_next, n, p)) != TD_OK) {
        cs_search_free(s);
        return st;
    }
    s->perm = malloc(n * sizeof(size_t));
    if (!s->perm) {
        cs_search_free(s);
        return td_fail(TD_ERR_NOMEM, "search: cannot allocate");
    }
    s->perm_pos = n;
    return TD_OK;
}

void cs_search_free(cs_search *s)
{
    size_t n = s->opt.pop_size;
    cs_free_array(s->pop, n);
    cs_free_array(s->off, s->off ? n + 1 : 0);
    cs_free_array(s->pop_next, n);
    cs_free_array(s->history, s->history_n);
    free(s->perm);
    if (s->rng.gsl)
        td_rng_free(&s->rng);
    memset(s, 0, sizeof *s);
}

static td_status cs_history_add(cs_search *s, const cs_candidate *c)
{
    if (!s->opt.keep_history)
        return TD_OK;
    if (s->history_n == s->history_cap) {
        size_t cap = s->history_cap ? 2 * s->history_cap : 256;
        cs_candidate *h = realloc(s->history, cap * sizeof(cs_candidate));
        if (!h)
            return td_fail(TD_ERR_NOMEM, "search: cannot grow the history to %zu", cap);
        s->history = h;
        s->history_cap = cap;
    }
    cs_candidate *d = &s->history[s->history_n];
    td_status st = cs_candidate_alloc(d, s->problem);
    if (st != TD_OK)
        return st;
    cs_candidate_copy(d, c, s->problem);
    s->history_n++;
    return TD_OK;
}

/* The search's completion hook: finishes the candidate and hands it on. */
static td_status cs_search_done(void *ctx, const cs_problem *p, cs_candidate *c)
{
    cs_search *s = ctx;
    if (c->evaluated)
        return TD_OK;
    cs_candidate_finish(c, p);
    if (s->opt.on_evaluated)
        return s->opt.on_evaluated(s->opt.on_evaluated_ctx, s, c);
    return TD_OK;
}

/* Stamps ids and seeds on c[0..n), looks them up in the cache, evaluates the rest as one
 * batch, records them. */
static td_status cs_evaluate(cs_search *s, cs_candidate *c, size_t n)
{
    const cs_problem *p = s->problem;
    cs_candidate **ptr = malloc((n ? n : 1) * sizeof(cs_candidate *));
    if (!ptr)
        return td_fail(TD_ERR_NOMEM, "search: cannot allocate a batch of %zu", n);
    size_t nm = 0;
    td_status st = TD_OK;
    for (size_t i = 0; i < n && st == TD_OK; i++) {
        c[i].eval_id = s->evaluations + (int64_t)i;
        c[i].generation = (int64_t)s->generation + 1;
        c[i].seed = td_seed_derive(s->opt.seed, c[i].hash);
        c[i].failed = false;
        c[i].evaluated = false;
        c[i].cached = false;
        c[i].reason[0] = '\0';
        c[i].rank = 0;
        c[i].crowding = 0.0;
        bool found = false;
        if (s->opt.lookup)
            st = s->opt.lookup(s->opt.lookup_ctx, p, &c[i], &found);
        if (found) {
            cs_candidate_finish(&c[i], p);
            c[i].cached = true;
        } else {
            ptr[nm++] = &c[i];
        }
    }
    if (st == TD_OK && nm > 0)
        st = s->opt.evaluator.evaluate_batch(s->opt.evaluator.ctx, p, ptr, nm, cs_search_done, s);
    for (size_t i = 0; i < nm && st == TD_OK; i++)
        st = cs_search_done(s, p, ptr[i]); /* evaluators that did not call done */
    free(ptr);
    if (st != TD_OK)
        return st;
    for (size_t i = 0; i < n; i++) {
        s->failures += c[i].failed;
        s->cache_hits += c[i].cached;
        if ((st = cs_history_add(s, &c[i])) != TD_OK)
            return st;
    }
    s->evaluations += (int64_t)n;
    return TD_OK;
}

/* Replaces pop with the survivors of pop + off (elitist mu + lambda). */
static td_status cs_survive(cs_search *s, size_t noff)
{
    size_t n = s->opt.pop_size, total = s->pop_n + noff;
    cs_candidate **all = malloc(total * sizeof(cs_candidate *));
    size_t *keep = malloc(n * sizeof(size_t));
    if (!all || !keep) {
        free(all);
        free(keep);
        return td_fail(TD_ERR_NOMEM, "search: cannot allocate the survival step");
    }
    for (size_t i = 0; i < s->pop_n; i++)
        all[i] = &s->pop[i];
    for (size_t i = 0; i < noff; i++)
        all[s->pop_n + i] = &s->off[i];
    size_t k = total < n ? total : n;
    td_status st = cs_survival_select(all, total, s->problem->n_obj, k, keep);
    if (st == TD_OK) {
        for (size_t i = 0; i < k; i++)
            cs_candidate_copy(&s->pop_next[i], all[keep[i]], s->problem);
        cs_candidate *t = s->pop;
        s->pop = s->pop_next;
        s->pop_next = t;
        s->pop_n = k;
    }
    free(all);
    free(keep);
    return st;
}

/* Next index from a stream of random permutations of the population (Deb's code draws
 * tournament pairs from two shuffles, so every member enters two tournaments). */
static size_t cs_perm_next(cs_search *s)
{
    size_t n = s->pop_n;
    if (s->perm_pos >= n) {
        for (size_t i = 0; i < n; i++)
            s->perm[i] = i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)td_rng_uniform_int(&s->rng, i + 1);
            size_t t = s->perm[i];
            s->perm[i] = s->perm[j];
            s->perm[j] = t;
        }
        s->perm_pos = 0;
    }
    return s->perm[s->perm_pos++];
}

/* Binary tournament by the crowded comparison: lower rank, then larger crowding, then a
 * fair coin. */
static const cs_candidate *cs_tournament(cs_search *s)
{
    const cs_candidate *a = &s->pop[cs_perm_next(s)], *b = &s->pop[cs_perm_next(s)];
    if (a->rank != b->rank)
        return a->rank < b->rank ? a : b;
    if (a->crowding != b->crowding)
        return a->crowding > b->crowding ? a : b;
    return td_rng_uniform(&s->rng) <= 0.5 ? a : b;
}

static void cs_update_normalisation(cs_search *s)
{
    const cs_problem *p = s->problem;
    for (size_t k = 0; k < p->n_obj; k++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int pass = 0; pass < 2 && !(lo <= hi); pass++)
            for (size_t i = 0; i < s->pop_n; i++) {
                const cs_candidate *c = &s->pop[i];
                if (c->failed || (pass == 0 && c->violation > 0.0))
                    continue;
                lo = c->obj[k] < lo ? c->obj[k] : lo;
                hi = c->obj[k] > hi ? c->obj[k] : hi;
            }
        if (!(lo <= hi)) {
            lo = 0.0;
            hi = 1.0;
        }
        s->norm_lo[k] = lo;
        s->norm_hi[k] = hi > lo ? hi : lo + 1.0;
    }
}

static double cs_scalar(const cs_search *s, const cs_candidate *c)
{
    const cs_problem *p = s->problem;
    double v = 0.0;
    for (size_t k = 0; k < p->n_obj; k++) {
        double w = s->opt.weights ? s->opt.weights[k] : 1.0 / (double)p->n_obj;
        v += w * (c->obj[k] - s->norm_lo[k]) / (s->norm_hi[k] - s->norm_lo[k]);
    }
    return v;
}

static td_status cs_step_initial(cs_search *s)
{
    size_t n = s->opt.pop_size;
    for (size_t i = 0; i < n; i++) {
        cs_random_genes(s, s->pop[i].genes);
        cs_make_unique(s, &s->pop[i], s->pop, 0, s->pop, i);
    }
    td_status st = cs_evaluate(s, s->pop, n);
    if (st != TD_OK)
        return st;
    s->pop_n = n;
    if (s->opt.algo == CS_ALGO_REGEVO) {
        cs_update_normalisation(s);
        return TD_OK;
    }
    /* rank and crowding for the first tournaments: survival of pop into itself */
    return cs_survive(s, 0);
}

static td_status cs_step_nsga2(cs_search *s)
{
    size_t n = s->opt.pop_size;
    for (size_t i = 0; i < n; i += 2) {
        const cs_candidate *p1 = cs_tournament(s), *p2 = cs_tournament(s);
        cs_crossover(s, p1->genes, p2->genes, s->off[i].genes, s->off[i + 1].genes);
        /* an odd population leaves the last pair's second child unused */
        for (size_t k = 0; k < 2 && i + k < n; k++) {
            cs_mutate(s, s->off[i + k].genes, false);
            cs_make_unique(s, &s->off[i + k], s->pop, s->pop_n, s->off, i + k);
        }
    }
    td_status st = cs_evaluate(s, s->off, n);
    if (st != TD_OK)
        return st;
    return cs_survive(s, n);
}

static td_status cs_step_random(cs_search *s)
{
    size_t n = s->opt.pop_size;
    for (size_t i = 0; i < n; i++) {
        cs_random_genes(s, s->off[i].genes);
        cs_make_unique(s, &s->off[i], s->pop, s->pop_n, s->off, i);
    }
    td_status st = cs_evaluate(s, s->off, n);
    if (st != TD_OK)
        return st;
    return cs_survive(s, n);
}

/* Regularized evolution: each child comes from the best of S members sampled with
 * replacement (feasibility first, then the scalarised objective), mutated; children join
 * the back of the population and as many of the oldest members leave. */
static td_status cs_step_regevo(cs_search *s)
{
    size_t n = s->opt.pop_size, done = 0;
    while (done < n) {
        size_t b = s->regevo_batch < n - done ? s->regevo_batch : n - done;
        for (size_t i = 0; i < b; i++) {
            const cs_candidate *best = NULL;
            double best_v = 0.0;
            for (size_t t = 0; t < s->opt.tournament_size; t++) {
                const cs_candidate *c = &s->pop[td_rng_uniform_int(&s->rng, s->pop_n)];
                double v = c->failed ? INFINITY : cs_scalar(s, c);
                if (!best || c->violation < best->violation ||
                    (c->violation == best->violation && v < best_v)) {
                    best = c;
                    best_v = v;
                }
            }
            memcpy(s->off[i].genes, best->genes, s->problem->n_genes * sizeof(double));
            cs_mutate(s, s->off[i].genes, true);
            cs_make_unique(s, &s->off[i], s->pop, s->pop_n, s->off, i);
        }
        td_status st = cs_evaluate(s, s->off, b);
        if (st != TD_OK)
            return st;
        /* age: pop = pop[b..n) followed by off[0..b) */
        for (size_t i = 0; i < n; i++) {
            const cs_candidate *src = i + b < n ? &s->pop[i + b] : &s->off[i + b - n];
            cs_candidate_copy(&s->pop_next[i], src, s->problem);
        }
        cs_candidate *t = s->pop;
        s->pop = s->pop_next;
        s->pop_next = t;
        done += b;
    }
    return TD_OK;
}

td_status cs_search_step(cs_search *s)
{
    if (s->generation >= s->opt.generations)
        return td_fail(TD_ERR_INTERNAL, "search: all %zu generations are done", s->opt.generations);
    td_status st;
    if (s->generation == 0)
        st = cs_step_initial(s);
    else if (s->opt.algo == CS_ALGO_NSGA2)
        st = cs_step_nsga2(s);
    else if (s->opt.algo == CS_ALGO_RANDOM)
        st = cs_step_random(s);
    else
        st = cs_step_regevo(s);
    if (st != TD_OK)
        return st;
    s->generation++;
    if (s->opt.on_generation)
        return s->opt.on_generation(s->opt.on_generation_ctx, s);
    return TD_OK;
}

td_status cs_search_run(cs_search *s)
{
    while (s->generation < s->opt.generations) {
        td_status st = cs_search_step(s);
        if (st != TD_OK)
            return st;
    }
    return TD_OK;
}

/* Pareto dominance between two feasible candidates: true when a dominates b. */
static bool cs_pareto(const cs_candidate *a, const cs_candidate *b, size_t m)
{
    bool better = false;
    for (size_t i = 0; i < m; i++) {
        if (a->obj[i] > b->obj[i])
            return false;
        if (a->obj[i] < b->obj[i])
            better = true;
    }
    return better;
}

td_status cs_search_front(const cs_search *s, bool from_history, size_t **idx, size_t *n)
{
    const cs_candidate *c = from_history ? s->history : s->pop;
    size_t nc = from_history ? s->history_n : s->pop_n, m = s->problem->n_obj;
    *idx = NULL;
    *n = 0;
    size_t *f = malloc((nc ? nc : 1) * sizeof(size_t));
    if (!f)
        return td_fail(TD_ERR_NOMEM, "front: cannot allocate for %zu candidates", nc);
    /* one pass keeping the non-dominated set so far (O(n * front)) */
    size_t nf = 0;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].failed || c[i].violation > 0.0)
            continue;
        bool dominated = false;
        for (size_t j = 0; j < nf && !dominated; j++)
            dominated = cs_pareto(&c[f[j]], &c[i], m);
        if (dominated)
            continue;
        size_t w = 0;
        for (size_t j = 0; j < nf; j++)
            if (!cs_pareto(&c[i], &c[f[j]], m))
                f[w++] = f[j];
        nf = w;
        f[nf++] = i;
    }
    /* back to population / eval order */
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && f[j - 1] > f[j]; j--) {
            size_t t = f[j];
            f[j] = f[j - 1];
            f[j - 1] = t;
        }
    *idx = f;
    *n = nf;
    return TD_OK;
}

td_status cs_search_hypervolume(const cs_search *s, bool from_history, const double *ref,
                                double *hv)
{
    size_t *idx = NULL, n = 0;
    double *f = NULL;
    *hv = 0.0;
    td_status st = cs_search_front(s, from_history, &idx, &n);
    if (st == TD_OK)
        st =
            cs_objectives_matrix(from_history ? s->history : s->pop, idx, n, s->problem->n_obj, &f);
    if (st == TD_OK)
        st = cs_hv_compute(f, n, s->problem->n_obj, ref, hv);
    free(idx);
    free(f);
    return st;
}

td_status cs_objectives_matrix(const cs_candidate *c, const size_t *idx, size_t n, size_t n_obj,
                               double **out)
{
    double *m = malloc((n ? n : 1) * n_obj * sizeof(double));
    if (!m)
        return td_fail(TD_ERR_NOMEM, "cannot allocate %zu objective rows", n);
    for (size_t i = 0; i < n; i++)
        memcpy(m + i * n_obj, c[idx[i]].obj, n_obj * sizeof(double));
    *out = m;
    return TD_OK;
}
