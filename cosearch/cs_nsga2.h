/* The search engine: a problem interface that knows nothing about networks or accelerators
 * (gene ranges and kinds, evaluate -> objectives + constraint violations, hash), and three
 * algorithms behind one loop: NSGA-II (Deb, Pratap, Agarwal, Meyarivan 2002; DESIGN.md §6),
 * random search and single-objective regularized evolution (Real et al. 2019) as baselines.
 * All objectives are minimised; a violation is >= 0 and 0 means satisfied. Every random
 * draw comes from one td_rng seeded by the run seed, and evaluations are handed out in
 * batches whose results do not depend on the order they finish in, so a run is
 * deterministic for its seed whatever evaluates the batches (in process, -j N, MPI).
 * See docs/search.md. */
#ifndef CS_NSGA2_H
#define CS_NSGA2_H

#include "td_rng.h"
#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_MAX_OBJ 6      /* objectives: 1 (regularized evolution) or 2..6 */
#define CS_REASON_MAX 160 /* failure reason text, NUL included */

typedef enum cs_gene_kind {
    CS_GENE_REAL = 0,    /* any double in [lo, hi] */
    CS_GENE_INT,         /* integers lo..hi inclusive, ordered (e.g. log2 of a size) */
    CS_GENE_CATEGORICAL, /* integers lo..hi inclusive, unordered (e.g. an op type) */
    CS_GENE_KIND_COUNT
} cs_gene_kind;

typedef struct cs_gene {
    cs_gene_kind kind;
    double lo, hi;
} cs_gene;

/* A problem: what the search explores. Genes are held as doubles; INT and CATEGORICAL
 * genes always hold integral values within their range. */
typedef struct cs_problem {
    const char *name;
    size_t n_genes;
    const cs_gene *genes;
    size_t n_obj; /* 1..CS_MAX_OBJ (NSGA-II and random search need >= 2 for a front) */
    size_t n_con; /* any number, 0 included */
    void *ctx;
    /* Identity of the decoded candidate: duplicate elimination and the evaluation seed
     * td_seed_derive(run seed, hash) use it. NULL: a hash of the gene values. */
    uint64_t (*hash)(void *ctx, const double *genes);
    /* Evaluates one candidate: obj[n_obj], viol[n_con]. An error status marks this
     * evaluation failed with td_error_message() as its reason; the search goes on. */
    td_status (*evaluate)(void *ctx, const double *genes, uint64_t seed, double *obj, double *viol);
} cs_problem;

/* Checks the problem's shape and gene ranges; the message names the gene at fault. */
td_status cs_problem_check(const cs_problem *p);
/* p->hash, or the default hash of the gene values when p->hash is NULL. */
uint64_t cs_problem_hash(const cs_problem *p, const double *genes);

/* One candidate (an individual). The arrays live in one allocation owned by the
 * candidate (cs_candidate_alloc) or, in tests, point at caller storage. */
typedef struct cs_candidate {
    double *genes;    /* n_genes */
    double *obj;      /* n_obj; +inf when failed */
    double *viol;     /* n_con */
    double violation; /* sum of viol; +inf when failed */
    uint64_t hash;
    uint64_t seed;      /* td_seed_derive(run seed, hash) */
    int64_t eval_id;    /* order of creation in the run, 0-based */
    int64_t generation; /* generation that created it, 1 = the initial population */
    bool failed;
    char reason[CS_REASON_MAX];
    bool evaluated;  /* result in and finished (cs_candidate_finish) */
    bool cached;     /* result came from cs_search_options.lookup */
    int rank;        /* 0 = first non-dominated front (set by ranking) */
    double crowding; /* crowding distance within its front (+inf at the extremes) */
} cs_candidate;

td_status cs_candidate_alloc(cs_candidate *c, const cs_problem *p);
void cs_candidate_free(cs_candidate *c);
/* Copies values and metadata (not the storage pointers) from src to an allocated dst. */
void cs_candidate_copy(cs_candidate *dst, const cs_candidate *src, const cs_problem *p);
/* Marks c failed with a reason: objectives and violation become +inf. */
void cs_candidate_set_failed(cs_candidate *c, const cs_problem *p, const char *reason);
/* Sums viol into violation (call after filling obj/viol of a successful evaluation). */
void cs_candidate_set_violation(cs_candidate *c, const cs_problem *p);

/* Constraint-domination (Deb 2002): a feasible candidate beats an infeasible one, of two
 * infeasible ones the smaller total violation wins, of two feasible ones Pareto dominance
 * decides. Returns 1 if a dominates b, -1 if b dominates a, 0 otherwise. */
int cs_dominates(const cs_candidate *a, const cs_candidate *b, size_t n_obj);

/* Fast non-dominated sort with constraint-domination over c[0..n): sets c[i]->rank
 * (0 = best). Writes the number of fronts to *n_fronts when not NULL. */
td_status cs_rank_nondominated(cs_candidate **c, size_t n, size_t n_obj, size_t *n_fronts);
/* Crowding distance within one front: both extremes of every objective get +inf;
 * objectives whose range over the front is zero or not finite add nothing. */
void cs_crowding_distance(cs_candidate **front, size_t n, size_t n_obj);
/* Elitist survival: ranks c[0..n), fills fronts in order and cuts the last one by
 * crowding distance (descending, ties by position). Writes the indices of the k
 * survivors to keep[0..k), best first. */
td_status cs_survival_select(cs_candidate **c, size_t n, size_t n_obj, size_t k, size_t *keep);

typedef enum cs_algo {
    CS_ALGO_NSGA2 = 0,
    CS_ALGO_RANDOM, /* pop_size fresh random candidates per generation, NSGA-II survival */
    CS_ALGO_REGEVO, /* regularized (aging) evolution on a scalarised objective */
    CS_ALGO_COUNT
} cs_algo;

/* "nsga2", "random", "regevo"; parse returns TD_ERR_CONFIG naming the bad value. */
const char *cs_algo_name(cs_algo a);
td_status cs_algo_parse(const char *name, cs_algo *out);

typedef enum cs_int_crossover {
    CS_INT_CROSSOVER_SBX = 0, /* SBX on the integer line, rounded to the nearest integer */
    CS_INT_CROSSOVER_UNIFORM, /* each gene from either parent with probability 1/2 */
    CS_INT_CROSSOVER_COUNT
} cs_int_crossover;

struct cs_search;

/* Called by an evaluator once per candidate as soon as its result is in (obj and viol, or
 * failed and reason, filled); it finishes the candidate (violation sum, NaN checks) and
 * hands it to cs_search_options.on_evaluated. A non-OK status must stop the batch and be
 * returned by evaluate_batch. */
typedef td_status (*cs_eval_done_fn)(void *done_ctx, const cs_problem *p, cs_candidate *c);

/* Evaluates a batch: fills obj, viol (or failed + reason) of cands[0..n) from their genes,
 * hash and seed, calling done(done_ctx, p, c) for each as it finishes (in any order).
 * Results must not depend on the order evaluations finish in. A non-OK status stops the
 * search (e.g. the archive cannot be written); a failed evaluation is not an error. */
typedef struct cs_evaluator {
    void *ctx;
    td_status (*evaluate_batch)(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                cs_eval_done_fn done, void *done_ctx);
} cs_evaluator;

/* Evaluates each candidate in turn with p->evaluate, in this process (the default). */
td_status cs_evaluate_batch_serial(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                   cs_eval_done_fn done, void *done_ctx);

/* Finishes a candidate whose obj/viol or failed/reason are filled: a NaN objective or
 * violation marks it failed ("objective 1 is NaN"); negative violations count as 0; sums
 * the violation. Idempotent. */
void cs_candidate_finish(cs_candidate *c, const cs_problem *p);

typedef struct cs_search_options {
    cs_algo algo;
    size_t pop_size;    /* >= 4 (Deb's code wants a multiple of 4; any size works here) */
    size_t generations; /* >= 1; the initial population is generation 1 (Deb's code), so
                           evaluations = pop_size * generations */
    uint64_t seed;
    double crossover_prob; /* per pair (default 0.9) */
    double eta_c;          /* SBX distribution index (default 20) */
    double mutation_prob;  /* per gene; <= 0 means 1/n_genes (default) */
    double eta_m;          /* polynomial mutation distribution index (default 20) */
    cs_int_crossover int_crossover;
    bool dedupe;            /* no two candidates of a generation's population + offspring share
                               a hash (default true) */
    size_t dedupe_tries;    /* re-mutations before a fresh random candidate (default 50) */
    size_t tournament_size; /* regularized evolution's sample size S (default 10) */
    size_t regevo_batch;    /* regularized evolution: children bred and evaluated at a time
                               (the parallelism it offers); 0 = max(1, pop_size / 10) */
    /* Regularized evolution's scalarisation weights over the objectives, each objective
     * first normalised by its range over the initial population; NULL = equal weights. */
    const double *weights;
    bool keep_history;      /* keep every evaluated candidate in s->history (default true) */
    cs_evaluator evaluator; /* evaluate_batch NULL: cs_evaluate_batch_serial */
    /* Optional cache in front of the evaluator (e.g. the run archive on resume): sets *found
     * and fills c's obj/viol or failed/reason when (c->hash, c->seed) was evaluated before.
     * Found candidates are not evaluated again and not passed to on_evaluated; they count
     * in evaluations and in cache_hits. */
    td_status (*lookup)(void *ctx, const cs_problem *p, cs_candidate *c, bool *found);
    void *lookup_ctx;
    /* Optional: called once per newly evaluated candidate as soon as its result is in
     * (e.g. commit it to the archive at once); a non-OK status stops the search. */
    td_status (*on_evaluated)(void *ctx, const struct cs_search *s, const cs_candidate *c);
    void *on_evaluated_ctx;
    /* Called after each generation (the initial population included); a non-OK status
     * stops the search with that status. */
    td_status (*on_generation)(void *ctx, const struct cs_search *s);
    void *on_generation_ctx;
} cs_search_options;

void cs_search_options_default(cs_search_options *o);

typedef struct cs_search {
    const cs_problem *problem;
    cs_search_options opt;
    td_rng rng;
    size_t generation;   /* generations done (0 before the initial population) */
    int64_t evaluations; /* candidates evaluated so far */
    int64_t failures;    /* of which failed */
    int64_t cache_hits;  /* of which came from cs_search_options.lookup */
    cs_candidate *pop;   /* current population, pop_n members */
    size_t pop_n;
    cs_candidate *history; /* every evaluated candidate in eval_id order (keep_history) */
    size_t history_n, history_cap;
    /* internal */
    cs_candidate *off;      /* offspring buffer, pop_size */
    cs_candidate *pop_next; /* survivors buffer, pop_size */
    size_t regevo_batch;    /* regularized evolution: children evaluated per batch */
    size_t *perm;
    size_t perm_pos;
    double norm_lo[CS_MAX_OBJ], norm_hi[CS_MAX_OBJ]; /* regevo normalisation */
} cs_search;

/* Checks the problem and options; the message names the option at fault. */
td_status cs_search_init(cs_search *s, const cs_problem *p, const cs_search_options *o);
/* One generation: the initial population on the first call. */
td_status cs_search_step(cs_search *s);
/* Steps until opt.generations are done. */
td_status cs_search_run(cs_search *s);
void cs_search_free(cs_search *s);

/* The first non-dominated front of the population (from_history false) or of every
 * evaluated candidate (true), feasible and successful candidates only, in population /
 * eval_id order. *idx is malloc'd (free it); *n may be 0. */
td_status cs_search_front(const cs_search *s, bool from_history, size_t **idx, size_t *n);

/* Exact hypervolume of that front at ref (n_obj values); 0 for an empty front. */
td_status cs_search_hypervolume(const cs_search *s, bool from_history, const double *ref,
                                double *hv);

/* Objectives of the given candidates as a row-major n x n_obj array (malloc'd). */
td_status cs_objectives_matrix(const cs_candidate *c, const size_t *idx, size_t n, size_t n_obj,
                               double **out);

#endif
