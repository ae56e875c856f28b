#include "cs_cosearch.h"

#include "cs_archive.h"
#include "cs_config.h"
#include "cs_hv.h"
#include "cs_mpi.h"
#include "cs_nsga2.h"
#include "cs_rundir.h"
#include "hw_eval.h"
#include "hw_space.h"
#include "nn_model.h"
#include "nn_quant.h"
#include "nn_space.h"
#include "nn_train.h"
#include "td_hash.h"
#include "td_json.h"
#include "td_log.h"
#include "td_progress.h"

#ifdef TANDEM_HAVE_SIM
#include "sim.h"
#endif

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ objectives */

typedef enum cs_objective {
    CS_OBJ_ERROR = 0, /* 1 - integer validation accuracy at the accelerator's bit width */
    CS_OBJ_LATENCY_MS,
    CS_OBJ_ENERGY_UJ,
    CS_OBJ_AREA_MM2,
    CS_OBJ_POWER_MW,
    CS_OBJ_PARAMS,
    CS_OBJ_MACS,
    CS_OBJ_COUNT
} cs_objective;

static const char *const objective_names[CS_OBJ_COUNT] = {
    "error", "latency_ms", "energy_uj", "area_mm2", "power_mw", "params", "macs"};

/* Constraints: the accelerator's own violations (sum of relative shortfalls), then the
 * user's budgets as relative excess (0 when the budget is 0 = none). */
enum { CS_CON_HW = 0, CS_CON_AREA, CS_CON_POWER, CS_CON_LATENCY, CS_CON_ACCURACY, CS_CON_COUNT };

static const int all_bits[4] = {4, 8, 16, 32};

static int bits_index(int bits)
{
    for (int i = 0; i < 4; i++)
        if (all_bits[i] == bits)
            return i;
    return -1;
}

/* search.fidelity: which model gives every candidate's hardware numbers. */
typedef enum cs_fidelity {
    CS_FIDELITY_ANALYTICAL = 0, /* hw_model for every candidate */
    CS_FIDELITY_SYSTEMC,        /* the SystemC model (twin core) for every candidate */
    CS_FIDELITY_BOTH,           /* hw_model for every candidate; each generation's front
                                   re-scored by SystemC and stored beside (fidelity systemc) */
    CS_FIDELITY_COUNT
} cs_fidelity;

static const char *const fidelity_names[CS_FIDELITY_COUNT] = {"analytical", "systemc",
                                                              "analytical+systemc"};

/* ------------------------------------------------------------------ context */

typedef struct cosearch {
    const td_config *cfg;
    nn_space net_space;
    hw_space hw_space;
    nn_data data;
    bool data_loaded;
    nn_budget budget;
    nn_budget final_budget;
    int64_t finalists;
    uint64_t budget_hash;
    uint64_t run_seed;
    int threads;
    int n_net_genes;
    cs_gene *genes;
    cs_problem problem;
    cs_objective obj[CS_MAX_OBJ];
    size_t n_obj;
    double max_area, max_power, max_latency, min_accuracy;
    /* master only */
    cs_pool pool;
    bool pool_ready;
    cs_rundir run;
    bool run_open;
    hw_result hw;
    int64_t *archive_ids; /* archive row id by cs_candidate.eval_id */
    size_t archive_ids_cap;
    double ref[CS_MAX_OBJ];
    bool ref_set;
    double hypervolume;
    td_progress progress;
    int64_t new_evaluations;
    int64_t stop_after;
    int64_t trainings, accuracy_cache_hits;
    int64_t batch_committed; /* evaluations committed in the batch in flight (progress) */
    cs_fidelity fidelity;
    const char *eval_fidelity; /* fidelity of the search's own evaluations in the archive */
    double current_wall_s;     /* time of the evaluation being committed (archive wall_s) */
    int64_t simulations;       /* SystemC runs of this process (new ones, not resumed) */
    double sim_wall_s;         /* their wall-clock seconds, summed */
} cosearch;

static void genes_split(const cosearch *cs, const double *genes, int32_t *net, int32_t *hw)
{
    for (int i = 0; i < cs->n_net_genes; i++)
        net[i] = (int32_t)lround(genes[i]);
    for (int i = 0; i < HW_GENE_COUNT; i++)
        hw[i] = (int32_t)lround(genes[cs->n_net_genes + i]);
}

/* Decodes a candidate into its network and accelerator. */
static td_status candidate_decode(const cosearch *cs, const double *genes, nn_graph *g,
                                  hw_config *hw)
{
    int32_t net[cs->n_net_genes > 0 ? cs->n_net_genes : 1], hwg[HW_GENE_COUNT];
    genes_split(cs, genes, net, hwg);
    hw_genome_decode(&cs->hw_space, hwg, hw);
    return nn_genome_decode(&cs->net_space, net, g);
}

static uint64_t combine_hash(uint64_t a, uint64_t b)
{
    uint64_t w[2] = {a, b};
    return td_hash64(w, sizeof w, 0x6a6f696e74ull);
}

static uint64_t problem_hash(void *ctx, const double *genes)
{
    cosearch *cs = ctx;
    nn_graph g;
    hw_config hw;
    uint64_t h = 0;
    if (candidate_decode(cs, genes, &g, &hw) == TD_OK)
        h = combine_hash(nn_graph_hash(&g), hw_config_hash(&hw));
    nn_graph_free(&g);
    return h;
}

/* ------------------------------------------------------------------ worker tasks */

/* Task kinds run in the evaluator pool (worker processes or MPI ranks). */
typedef enum train_kind {
    TRAIN_PROXY = 0, /* search budget, scored on the validation images */
    TRAIN_FINALIST,  /* finalists budget, scored on the test set, model saved, then simulated */
    TASK_SIM,        /* one (network, accelerator) through the SystemC model (twin core) */
    TRAIN_KIND_COUNT
} train_kind;

typedef struct train_task {
    uint32_t kind; /* train_kind */
    uint64_t seed;
    uint32_t bits_mask;        /* bit i: all_bits[i] */
    int32_t hw[HW_GENE_COUNT]; /* accelerator genes (TRAIN_FINALIST, TASK_SIM) */
    char model_path[1024];     /* TRAIN_FINALIST: where the trained model goes ("" = nowhere) */
    int32_t n_genes;
    int32_t genes[]; /* net genes */
} train_task;

/* The SystemC model's numbers for one (network, accelerator). */
typedef struct sim_summary {
    int32_t ran;             /* 1: the numbers below are set; 0: `error` says why not */
    int32_t values_match;    /* every layer equals the C integer reference bit for bit */
    int32_t trained_weights; /* the trained integer model's weights (else random, seeded) */
    int64_t cycles;
    double latency_ms, energy_uj, power_mw;
    double wall_s; /* wall-clock seconds of the simulation (fork, elaboration, run) */
    char error[256];
} sim_summary;

typedef struct train_result {
    double float_acc;
    double int_acc[4];
    double wall_s;
    int32_t model_saved; /* TRAIN_FINALIST: the model file was written */
    sim_summary sim;     /* TRAIN_FINALIST and TASK_SIM */
} train_result;

/* Runs one inference of g on hw through the SystemC model with the behavioural twin core
 * (random seeded weights, or the trained integer model q). Failures (a config the core
 * cannot take, a model not built) go into s->error, never into the status. */
static void sim_summarize(const nn_graph *g, const hw_config *hw, const nn_qmodel *q, uint64_t seed,
                          sim_summary *s)
{
    memset(s, 0, sizeof *s);
    double t0 = td_now_s();
#ifdef TANDEM_HAVE_SIM
    sim_options o;
    sim_options_default(&o);
    o.core = SIM_CORE_TWIN;
    o.seed = seed;
    o.qmodel = q;
    sim_result r;
    if (sim_run_net(g, hw, &o, &r) != TD_OK) {
        snprintf(s->error, sizeof s->error, "%s", td_error_message());
    } else {
        s->ran = 1;
        s->values_match = r.values_match;
        s->trained_weights = r.trained_weights;
        s->cycles = r.cycles;
        s->latency_ms = r.latency_ms;
        s->energy_uj = r.energy_uj;
        s->power_mw = r.power_mw;
        sim_result_free(&r);
    }
#else
    (void)g;
    (void)hw;
    (void)q;
    (void)seed;
    snprintf(s->error, sizeof s->error,
             "this tandem was built without SystemC (libsystemc-dev), so the sim module "
             "is missing");
#endif
    s->wall_s = td_now_s() - t0;
}

/* Saves a trained network (float weights and its integer model) as a .tdm, through a
 * temporary file so that a killed run never leaves half a model under the final name. */
static td_status model_save(const nn_net *net, const nn_norm *norm, nn_qmodel *q, const char *path)
{
    nn_model m;
    td_status st = nn_model_init_net(&m, net, norm);
    if (st != TD_OK)
        return st;
    st = nn_model_add_quant(&m, q);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.part", path);
    if (st == TD_OK)
        st = nn_model_save(&m, tmp);
    if (st == TD_OK && rename(tmp, path) != 0)
        st = td_fail(TD_ERR_IO, "%s: cannot rename %s: %s", path, tmp, strerror(errno));
    nn_model_free(&m);
    return st;
}

/* Pool work: trains the network of a task (proxy or finalists budget) and scores it in float
 * and as integer models at every bit width asked; a finalist's model is saved and its
 * accelerator simulated with the trained weights. A TASK_SIM task only simulates. Runs in a
 * worker process or MPI rank. */
static td_status train_work(void *ctx, const void *task, size_t task_len, void **result,
                            size_t *result_len)
{
    cosearch *cs = ctx;
    const train_task *t = task;
    if (task_len < sizeof *t || t->n_genes != cs->n_net_genes ||
        task_len != sizeof *t + (size_t)t->n_genes * sizeof(int32_t))
        return td_fail(TD_ERR_INTERNAL, "malformed training task (%zu bytes)", task_len);
    double t0 = td_now_s();
    if (t->kind >= TRAIN_KIND_COUNT)
        return td_fail(TD_ERR_INTERNAL, "training task of unknown kind %u", t->kind);
    nn_graph g;
    td_status st = nn_genome_decode(&cs->net_space, t->genes, &g);
    if (st != TD_OK)
        return st;
    train_result *out = calloc(1, sizeof *out);
    if (!out) {
        nn_graph_free(&g);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    hw_config hw;
    hw_genome_decode(&cs->hw_space, t->hw, &hw);
    if (t->kind == TASK_SIM) {
        sim_summarize(&g, &hw, NULL, t->seed, &out->sim);
        nn_graph_free(&g);
        if (!out->sim.ran) {
            st = td_fail(TD_ERR_UNSUPPORTED, "%s", out->sim.error);
            free(out);
            return st;
        }
        out->wall_s = td_now_s() - t0;
        *result = out;
        *result_len = sizeof *out;
        return TD_OK;
    }
    const nn_budget *b = t->kind == TRAIN_FINALIST ? &cs->final_budget : &cs->budget;
    const nn_dataset *score_set = t->kind == TRAIN_FINALIST ? &cs->data.test : &cs->data.val;
    nn_net net;
    st = nn_net_init(&net, &g, b->batch, cs->threads, nn_backend_cpu(), t->seed);
    if (st != TD_OK) {
        st = td_fail_context(st, "network %s: ", g.name);
        nn_graph_free(&g);
        free(out);
        return st;
    }
    nn_recipe r;
    nn_recipe_default(&r);
    r.epochs = b->epochs;
    r.batch = b->batch;
    r.images = b->images;
    r.seed = t->seed;
    r.threads = cs->threads;
    r.augment.crop_pad = 0;
    r.augment.flip = false;
    nn_train_result tr;
    st = nn_net_train(&net, &cs->data.train, NULL, &cs->data.norm, &r, NULL, NULL, &tr);
    if (st == TD_OK)
        st = nn_net_evaluate(&net, score_set, &cs->data.norm, b->val_images, &out->float_acc);
    for (int i = 0; st == TD_OK && i < 4; i++) {
        out->int_acc[i] = NAN;
        if (!(t->bits_mask & (1u << i)))
            continue;
        nn_qmodel q;
        st = nn_quantize(&q, &net, &cs->data.train, &cs->data.norm, 256, all_bits[i]);
        if (st != TD_OK)
            break;
        st = nn_qmodel_evaluate(&q, score_set, &cs->data.norm, b->val_images, true, cs->threads,
                                &out->int_acc[i]);
        if (st == TD_OK && t->kind == TRAIN_FINALIST && all_bits[i] == hw.bits) {
            /* The finalist's accelerator with its trained weights, then the model file. */
            sim_summarize(&g, &hw, &q, t->seed, &out->sim);
            if (t->model_path[0]) {
                st = model_save(&net, &cs->data.norm, &q, t->model_path);
                out->model_saved = st == TD_OK;
            }
        }
        nn_qmodel_free(&q);
    }
    nn_net_free(&net);
    nn_graph_free(&g);
    if (st != TD_OK) {
        free(out);
        return st;
    }
    out->wall_s = td_now_s() - t0;
    *result = out;
    *result_len = sizeof *out;
    return TD_OK;
}

/* ------------------------------------------------------------------ evaluation */

typedef struct pending_net {
    uint64_t net_hash;
    uint32_t bits_mask;
    size_t first_cand; /* a candidate carrying the net's genes */
    train_result res;
    bool trained;
    bool failed;
    char reason[CS_REASON_MAX];
} pending_net;

typedef struct train_done_ctx {
    struct cosearch *cs;
    pending_net *pend;
} train_done_ctx;

static uint64_t net_seed(const cosearch *cs, uint64_t net_hash)
{
    return td_seed_derive(cs->run_seed, net_hash);
}

static json_t *genes_json(const cs_problem *p, const double *genes)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->n_genes; i++)
        json_array_append_new(a, json_integer((json_int_t)lround(genes[i])));
    return a;
}

/* The SystemC numbers of a design beside hw_model's (report fields, docs/search.md). */
static json_t *sim_summary_json(const sim_summary *s, const hw_result *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "core", json_string("twin"));
    json_object_set_new(o, "ran", json_boolean(s->ran));
    if (!s->ran) {
        json_object_set_new(o, "error", json_string(s->error));
        return o;
    }
    json_object_set_new(o, "cycles", json_integer(s->cycles));
    json_object_set_new(o, "latency_ms", td_json_real(s->latency_ms));
    json_object_set_new(o, "energy_uj", td_json_real(s->energy_uj));
    json_object_set_new(o, "power_mw", td_json_real(s->power_mw));
    json_object_set_new(o, "values_match", json_boolean(s->values_match));
    json_object_set_new(o, "trained_weights", json_boolean(s->trained_weights));
    json_object_set_new(o, "sim_s", td_json_real(s->wall_s));
    json_object_set_new(o, "analytical_latency_ms", td_json_real(r->latency_ms));
    json_object_set_new(o, "analytical_energy_uj", td_json_real(r->energy_uj));
    json_object_set_new(o, "latency_error",
                        td_json_real(s->latency_ms > 0 ? r->latency_ms / s->latency_ms - 1 : 0));
    json_object_set_new(o, "energy_error",
                        td_json_real(s->energy_uj > 0 ? r->energy_uj / s->energy_uj - 1 : 0));
    return o;
}

/* Scores one candidate whose accuracy is known: hw_model, objectives, constraints. The
 * metrics JSON (stolen by the candidate's archive record) is returned in *metrics. */
static td_status score_candidate(cosearch *cs, cs_candidate *c, double float_acc, double int_acc,
                                 bool cached, const sim_summary *sim, json_t **metrics)
{
    nn_graph g;
    hw_config hw;
    td_status st = candidate_decode(cs, c->genes, &g, &hw);
    if (st == TD_OK && g.n_nodes > cs->hw.cap_layers) {
        hw_result_free(&cs->hw);
        st = hw_result_init(&cs->hw, g.n_nodes * 2);
    }
    if (st == TD_OK)
        st = hw_evaluate(&g, &hw, &cs->hw);
    if (st != TD_OK) {
        nn_graph_free(&g);
        return st;
    }
    const hw_result *r = &cs->hw;
    /* With SystemC numbers, latency, energy and power are the simulation's; area (which the
     * simulation does not model) and the accelerator's own violations stay hw_model's. */
    bool use_sim = sim && sim->ran;
    double latency_ms = use_sim ? sim->latency_ms : r->latency_ms;
    double energy_uj = use_sim ? sim->energy_uj : r->energy_uj;
    double power_mw = use_sim ? sim->power_mw : r->power_mw;
    double values[CS_OBJ_COUNT] = {
        [CS_OBJ_ERROR] = 1.0 - int_acc,
        [CS_OBJ_LATENCY_MS] = latency_ms,
        [CS_OBJ_ENERGY_UJ] = energy_uj,
        [CS_OBJ_AREA_MM2] = r->area_mm2,
        [CS_OBJ_POWER_MW] = power_mw,
        [CS_OBJ_PARAMS] = (double)nn_graph_params(&g),
        [CS_OBJ_MACS] = (double)nn_graph_macs(&g),
    };
    for (size_t i = 0; i < cs->n_obj; i++)
        c->obj[i] = values[cs->obj[i]];
    c->viol[CS_CON_HW] = r->violations.total;
    c->viol[CS_CON_AREA] = cs->max_area > 0 ? fmax(0, r->area_mm2 / cs->max_area - 1) : 0;
    c->viol[CS_CON_POWER] = cs->max_power > 0 ? fmax(0, power_mw / cs->max_power - 1) : 0;
    c->viol[CS_CON_LATENCY] = cs->max_latency > 0 ? fmax(0, latency_ms / cs->max_latency - 1) : 0;
    c->viol[CS_CON_ACCURACY] =
        cs->min_accuracy > 0 ? fmax(0, (cs->min_accuracy - int_acc) / cs->min_accuracy) : 0;

    json_t *m = json_object();
    json_object_set_new(m, "accuracy", td_json_real(int_acc));
    json_object_set_new(m, "float_accuracy", td_json_real(float_acc));
    json_object_set_new(m, "accuracy_cached", json_boolean(cached));
    json_object_set_new(m, "bits", json_integer(hw.bits));
    json_object_set_new(m, "latency_ms", td_json_real(latency_ms));
    json_object_set_new(m, "inferences_per_s",
                        td_json_real(use_sim ? 1000.0 / latency_ms : r->inferences_per_s));
    json_object_set_new(m, "energy_uj", td_json_real(energy_uj));
    json_object_set_new(m, "power_mw", td_json_real(power_mw));
    json_object_set_new(m, "area_mm2", td_json_real(r->area_mm2));
    json_object_set_new(m, "peak_tops", td_json_real(r->peak_tops));
    json_object_set_new(m, "effective_tops", td_json_real(r->effective_tops));
    json_object_set_new(m, "utilization", td_json_real(r->utilization));
    json_object_set_new(m, "params", json_integer(nn_graph_params(&g)));
    json_object_set_new(m, "macs", json_integer(nn_graph_macs(&g)));
    json_object_set_new(m, "network", json_string(g.name));
    json_object_set_new(m, "layers_count", json_integer((json_int_t)g.n_nodes));
    json_object_set_new(m, "hw", hw_config_to_json(&hw));
    json_t *viol = json_array();
    for (size_t i = 0; i < r->violations.n; i++) {
        char buf[256];
        hw_violation_format(&r->violations.v[i], &hw, buf, sizeof buf);
        json_array_append_new(viol, json_string(buf));
    }
    json_object_set_new(m, "violations", viol);
    json_t *vv = json_array();
    for (int i = 0; i < CS_CON_COUNT; i++)
        json_array_append_new(vv, td_json_real(c->viol[i]));
    json_object_set_new(m, "constraint_values", vv);
    /* Per-layer latency/energy, roofline inputs and breakdowns for the report. */
    json_t *detail = hw_result_to_json(r, &g, &hw, false);
    const char *keep[] = {"layers",     "energy_breakdown", "area_breakdown", "cycles",
                          "dram_bytes", "leakage_mw",       "pe_fmax_mhz",    "provenance"};
    for (size_t k = 0; detail && k < sizeof keep / sizeof keep[0]; k++) {
        json_t *v = json_object_get(detail, keep[k]);
        if (v)
            json_object_set(m, keep[k], v);
    }
    json_decref(detail);
    json_object_set_new(m, "fidelity", json_string(use_sim ? "systemc" : "analytical"));
    if (sim)
        json_object_set_new(m, "systemc", sim_summary_json(sim, r));
    json_object_set_new(m, "energy_source", json_string(hw_tech_active()->origin));
    *metrics = m;
    nn_graph_free(&g);
    return TD_OK;
}

/* Pool callback: one network trained; its accuracies go into the archive's cache at once. */
static td_status train_done(void *ctx, size_t k, cs_pool_job *job)
{
    train_done_ctx *d = ctx;
    cosearch *cs = d->cs;
    pending_net *p = &d->pend[k];
    if (job->outcome != CS_POOL_OUTCOME_OK || job->result_len != sizeof(train_result))
        return TD_OK; /* failed: reported with the job's reason after the run */
    memcpy(&p->res, job->result, sizeof p->res);
    p->trained = true;
    cs->trainings++;
    td_status st = TD_OK;
    for (int b = 0; b < 4 && st == TD_OK; b++)
        if (p->bits_mask & (1u << b))
            st = cs_archive_cache_put(&cs->run.archive, p->net_hash, all_bits[b], cs->budget_hash,
                                      net_seed(cs, p->net_hash), p->res.float_acc,
                                      p->res.int_acc[b], p->res.wall_s);
    return st;
}

/* Runs candidates' (network, accelerator) pairs through the SystemC model on the evaluator
 * pool (one TASK_SIM each, results by index, so every pool gives the same numbers). res[i]
 * has ran = 0 and the reason in `error` when a simulation failed; wall_s[i] is its time. */
static td_status sim_batch(cosearch *cs, cs_candidate *const *cands, size_t n, sim_summary *res,
                           double *wall_s)
{
    size_t task_len = sizeof(train_task) + (size_t)cs->n_net_genes * sizeof(int32_t);
    cs_pool_job *jobs = calloc(n ? n : 1, sizeof *jobs);
    train_task **tasks = calloc(n ? n : 1, sizeof *tasks);
    td_status st = jobs && tasks ? TD_OK : td_fail(TD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == TD_OK && i < n; i++) {
        tasks[i] = calloc(1, task_len);
        if (!tasks[i]) {
            st = td_fail(TD_ERR_NOMEM, "out of memory");
            break;
        }
        tasks[i]->kind = TASK_SIM;
        tasks[i]->seed = cands[i]->seed;
        tasks[i]->n_genes = cs->n_net_genes;
        genes_split(cs, cands[i]->genes, tasks[i]->genes, tasks[i]->hw);
        jobs[i].task = tasks[i];
        jobs[i].task_len = task_len;
    }
    if (st == TD_OK && n)
        st = cs_pool_run(&cs->pool, jobs, n);
    for (size_t i = 0; st == TD_OK && i < n; i++) {
        memset(&res[i], 0, sizeof res[i]);
        wall_s[i] = jobs[i].wall_s;
        if (jobs[i].outcome == CS_POOL_OUTCOME_OK && jobs[i].result_len == sizeof(train_result))
            res[i] = ((const train_result *)jobs[i].result)->sim;
        else
            snprintf(res[i].error, sizeof res[i].error, "%s (%s)",
                     jobs[i].reason[0] ? jobs[i].reason : "no result",
                     cs_pool_outcome_name(jobs[i].outcome));
        cs->simulations++;
        cs->sim_wall_s += jobs[i].wall_s;
    }
    for (size_t i = 0; jobs && tasks && i < n; i++) {
        cs_pool_job_clear(&jobs[i]);
        free(tasks[i]);
    }
    free(jobs);
    free(tasks);
    return st;
}

/* Metrics of each candidate of the batch in flight, by batch index, until committed. */
typedef struct batch_state {
    cosearch *cs;
    cs_candidate **cands;
    json_t **metrics;
    uint64_t *net_hashes;
    int *bits;
} batch_state;

static cosearch *current_cs; /* the search in flight (one per process) */
static json_t **current_metrics;
static cs_candidate **current_cands;
static size_t current_n;

static json_t *metrics_of(const cs_candidate *c)
{
    for (size_t i = 0; i < current_n; i++)
        if (current_cands[i] == c)
            return current_metrics[i];
    return NULL;
}

/* The evaluator: cached accuracies from the archive, one training task per missing
 * (network, bit widths), hw_model for every candidate; done() as each finishes. */
static td_status evaluate_batch(void *ctx, const cs_problem *p, cs_candidate **cands, size_t n,
                                cs_eval_done_fn done, void *done_ctx)
{
    cosearch *cs = ctx;
    td_status st = TD_OK;
    uint64_t *net_hash = calloc(n ? n : 1, sizeof *net_hash);
    int *bits = calloc(n ? n : 1, sizeof *bits);
    double *facc = calloc(n ? n : 1, sizeof *facc), *iacc = calloc(n ? n : 1, sizeof *iacc);
    bool *have = calloc(n ? n : 1, sizeof *have);
    size_t *which = calloc(n ? n : 1, sizeof *which);
    pending_net *pend = calloc(n ? n : 1, sizeof *pend);
    json_t **metrics = calloc(n ? n : 1, sizeof *metrics);
    sim_summary *sims = NULL; /* per candidate, search.fidelity systemc only */
    double *sim_wall = NULL;
    size_t n_pend = 0;
    if (!net_hash || !bits || !facc || !iacc || !have || !which || !pend || !metrics) {
        st = td_fail(TD_ERR_NOMEM, "out of memory");
        goto out;
    }
    cs->batch_committed = 0;
    current_cands = cands;
    current_metrics = metrics;
    current_n = n;
    /* 1. Which accuracies are cached, which networks must be trained. */
    for (size_t i = 0; i < n && st == TD_OK; i++) {
        nn_graph g;
        hw_config hw;
        st = candidate_decode(cs, cands[i]->genes, &g, &hw);
        if (st != TD_OK)
            break;
        net_hash[i] = nn_graph_hash(&g);
        bits[i] = hw.bits;
        nn_graph_free(&g);
        st = cs_archive_cache_get(&cs->run.archive, net_hash[i], bits[i], cs->budget_hash,
                                  net_seed(cs, net_hash[i]), &have[i], &facc[i], &iacc[i]);
        if (st != TD_OK || have[i]) {
            cs->accuracy_cache_hits += have[i];
            continue;
        }
        size_t k = 0;
        while (k < n_pend && pend[k].net_hash != net_hash[i])
            k++;
        if (k == n_pend) {
            pend[n_pend].net_hash = net_hash[i];
            pend[n_pend].first_cand = i;
            n_pend++;
        }
        pend[k].bits_mask |= 1u << bits_index(bits[i]);
        which[i] = k;
    }
    if (st != TD_OK)
        goto out;
    /* 2. Train the missing networks on the pool. */
    if (n_pend) {
        cs_pool_job *jobs = calloc(n_pend, sizeof *jobs);
        train_task **tasks = calloc(n_pend, sizeof *tasks);
        size_t task_len = sizeof(train_task) + (size_t)cs->n_net_genes * sizeof(int32_t);
        if (!jobs || !tasks) {
            free(jobs);
            free(tasks);
            st = td_fail(TD_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t k = 0; k < n_pend && st == TD_OK; k++) {
            tasks[k] = calloc(1, task_len);
            if (!tasks[k]) {
                st = td_fail(TD_ERR_NOMEM, "out of memory");
                break;
            }
            tasks[k]->seed = net_seed(cs, pend[k].net_hash);
            tasks[k]->bits_mask = pend[k].bits_mask;
            tasks[k]->n_genes = cs->n_net_genes;
            int32_t hwg[HW_GENE_COUNT];
            genes_split(cs, cands[pend[k].first_cand]->genes, tasks[k]->genes, hwg);
            jobs[k].task = tasks[k];
            jobs[k].task_len = task_len;
        }
        /* Each trained network goes into the accuracy cache as soon as it is in, so a
         * killed run keeps every finished training. */
        train_done_ctx dctx = {cs, pend};
        if (st == TD_OK)
            st = cs_pool_run_each(&cs->pool, jobs, n_pend, train_done, &dctx);
        for (size_t k = 0; k < n_pend; k++) {
            if (!pend[k].trained) {
                pend[k].failed = true;
                snprintf(pend[k].reason, sizeof pend[k].reason, "training failed: %s (%s)",
                         jobs[k].reason[0] ? jobs[k].reason : "no result",
                         cs_pool_outcome_name(jobs[k].outcome));
            }
            cs_pool_job_clear(&jobs[k]);
            free(tasks[k]);
        }
        free(jobs);
        free(tasks);
        if (st != TD_OK)
            goto out;
    }
    /* 2b. search.fidelity systemc: every candidate whose network trained goes through the
     * SystemC model on the pool. */
    if (cs->fidelity == CS_FIDELITY_SYSTEMC) {
        sims = calloc(n ? n : 1, sizeof *sims);
        sim_wall = calloc(n ? n : 1, sizeof *sim_wall);
        cs_candidate **to_sim = calloc(n ? n : 1, sizeof *to_sim);
        size_t *sim_of = calloc(n ? n : 1, sizeof *sim_of);
        sim_summary *sres = calloc(n ? n : 1, sizeof *sres);
        double *swall = calloc(n ? n : 1, sizeof *swall);
        size_t n_sim = 0;
        if (!sims || !sim_wall || !to_sim || !sim_of || !sres || !swall)
            st = td_fail(TD_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == TD_OK && i < n; i++) {
            if (!have[i] && pend[which[i]].failed)
                continue;
            sim_of[i] = n_sim;
            to_sim[n_sim++] = cands[i];
        }
        if (st == TD_OK)
            st = sim_batch(cs, to_sim, n_sim, sres, swall);
        for (size_t i = 0; st == TD_OK && i < n; i++) {
            if (!have[i] && pend[which[i]].failed)
                continue;
            sims[i] = sres[sim_of[i]];
            sim_wall[i] = swall[sim_of[i]];
        }
        free(to_sim);
        free(sim_of);
        free(sres);
        free(swall);
        if (st != TD_OK)
            goto out;
    }
    /* 3. Score every candidate on its accelerator. */
    for (size_t i = 0; i < n && st == TD_OK; i++) {
        cs_candidate *c = cands[i];
        if (!have[i]) {
            const pending_net *pn = &pend[which[i]];
            if (pn->failed) {
                cs_candidate_set_failed(c, p, pn->reason);
                cs->current_wall_s = 0;
                st = done(done_ctx, p, c);
                continue;
            }
            facc[i] = pn->res.float_acc;
            iacc[i] = pn->res.int_acc[bits_index(bits[i])];
        }
        double t0 = td_now_s();
        td_status es;
        if (sims && !sims[i].ran) {
            /* The RTL core cannot take the design. If hw_model already finds the accelerator
             * infeasible (e.g. an accumulator narrower than twice the operands), that is the
             * answer: keep the analytical numbers with their violation, so selection sees a
             * constraint violation rather than a failure. Otherwise the two models disagree
             * and the evaluation fails with the simulation's reason. */
            es = score_candidate(cs, c, facc[i], iacc[i], have[i], NULL, &metrics[i]);
            if (es == TD_OK && c->viol[CS_CON_HW] > 0) {
                json_object_set_new(metrics[i], "systemc_failure", json_string(sims[i].error));
            } else {
                json_decref(metrics[i]);
                metrics[i] = NULL;
                es = td_fail(TD_ERR_UNSUPPORTED, "systemc: %s", sims[i].error);
            }
        } else {
            es = score_candidate(cs, c, facc[i], iacc[i], have[i], sims ? &sims[i] : NULL,
                                 &metrics[i]);
        }
        if (es != TD_OK)
            cs_candidate_set_failed(c, p, td_error_message());
        cs->current_wall_s = td_now_s() - t0 + (sim_wall ? sim_wall[i] : 0);
        st = done(done_ctx, p, c);
    }
out:
    for (size_t i = 0; i < n && metrics; i++)
        json_decref(metrics[i]);
    current_n = 0;
    current_cands = NULL;
    current_metrics = NULL;
    free(net_hash);
    free(bits);
    free(facc);
    free(iacc);
    free(have);
    free(which);
    free(pend);
    free(metrics);
    free(sims);
    free(sim_wall);
    return st;
}

static td_status single_done(void *done_ctx, const cs_problem *p, cs_candidate *c)
{
    (void)done_ctx;
    (void)p;
    (void)c;
    return TD_OK;
}

/* cs_problem.evaluate: one candidate through the same batch path (cache, training, model). */
static td_status problem_evaluate(void *ctx, const double *genes, uint64_t seed, double *obj,
                                  double *viol)
{
    cosearch *cs = ctx;
    cs_candidate c;
    memset(&c, 0, sizeof c);
    c.genes = (double *)genes;
    c.obj = obj;
    c.viol = viol;
    c.seed = seed;
    c.hash = problem_hash(cs, genes);
    cs_candidate *one = &c;
    td_status st = evaluate_batch(cs, &cs->problem, &one, 1, single_done, NULL);
    if (st == TD_OK && c.failed)
        st = td_fail(TD_ERR_INFEASIBLE, "%s", c.reason);
    return st;
}

/* ------------------------------------------------------------------ archive hooks */

static td_status remember_archive_id(cosearch *cs, int64_t eval_id, int64_t archive_id)
{
    if ((size_t)eval_id >= cs->archive_ids_cap) {
        size_t cap = cs->archive_ids_cap ? cs->archive_ids_cap : 256;
        while (cap <= (size_t)eval_id)
            cap *= 2;
        int64_t *p = realloc(cs->archive_ids, cap * sizeof *p);
        if (!p)
            return td_fail(TD_ERR_NOMEM, "out of memory");
        for (size_t i = cs->archive_ids_cap; i < cap; i++)
            p[i] = -1;
        cs->archive_ids = p;
        cs->archive_ids_cap = cap;
    }
    cs->archive_ids[eval_id] = archive_id;
    return TD_OK;
}

/* Resume: a candidate already in the archive takes its stored result. */
static td_status archive_lookup(void *ctx, const cs_problem *p, cs_candidate *c, bool *found)
{
    cosearch *cs = ctx;
    cs_eval_record rec;
    static char buf[1 << 16];
    td_status st = cs_archive_find_evaluation(&cs->run.archive, c->hash, cs->eval_fidelity, found,
                                              &rec, buf, sizeof buf);
    if (st != TD_OK || !*found)
        return st;
    if (rec.status == CS_EVAL_FAILED) {
        cs_candidate_set_failed(c, p, rec.failure ? rec.failure : "failed");
    } else {
        json_error_t err;
        json_t *o = json_loads(rec.objectives_json, 0, &err);
        json_t *m = json_loads(rec.metrics_json, 0, &err);
        json_t *vv = m ? json_object_get(m, "constraint_values") : NULL;
        if (!json_is_array(o) || json_array_size(o) != p->n_obj || !json_is_array(vv) ||
            json_array_size(vv) != p->n_con) {
            json_decref(o);
            json_decref(m);
            return td_fail(TD_ERR_FORMAT,
                           "%s: evaluation %lld does not match this run's objectives",
                           cs->run.archive.path, (long long)rec.id);
        }
        for (size_t i = 0; i < p->n_obj; i++)
            c->obj[i] = json_number_value(json_array_get(o, i));
        for (size_t i = 0; i < p->n_con; i++)
            c->viol[i] = json_number_value(json_array_get(vv, i));
        json_decref(o);
        json_decref(m);
    }
    return remember_archive_id(cs, c->eval_id, rec.id);
}

/* Writes one evaluation of candidate c (metrics may be NULL) under a fidelity. */
static td_status commit_record(cosearch *cs, const cs_problem *p, const cs_candidate *c,
                               json_t *metrics, const char *fidelity, double wall_s, int64_t *id)
{
    json_t *genome = genes_json(p, c->genes);
    json_t *obj = json_array();
    for (size_t i = 0; i < p->n_obj; i++)
        json_array_append_new(obj, td_json_real(c->obj[i]));
    char *genome_s = json_dumps(genome, JSON_COMPACT);
    char *obj_s = json_dumps(obj, JSON_COMPACT);
    char *m_s = metrics ? json_dumps(metrics, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    nn_graph g;
    hw_config hw;
    uint64_t nh = 0, hh = 0;
    if (candidate_decode(cs, c->genes, &g, &hw) == TD_OK) {
        nh = nn_graph_hash(&g);
        hh = hw_config_hash(&hw);
    }
    nn_graph_free(&g);
    cs_eval_record r = {
        .candidate_hash = c->hash,
        .net_hash = nh,
        .hw_hash = hh,
        .generation = c->generation,
        .fidelity = fidelity,
        .status = c->failed ? CS_EVAL_FAILED : CS_EVAL_OK,
        .failure = c->failed ? c->reason : NULL,
        .genome_json = genome_s,
        .objectives_json = obj_s,
        .metrics_json = m_s ? m_s : "{}",
        .violation = isfinite(c->violation) ? c->violation : 1e300,
        .seed = c->seed,
        .wall_s = wall_s,
    };
    td_status st = cs_archive_add_evaluation(&cs->run.archive, &r);
    free(genome_s);
    free(obj_s);
    free(m_s);
    json_decref(genome);
    json_decref(obj);
    if (id)
        *id = r.id;
    return st;
}

/* Commits each new evaluation to the archive as soon as it is in. */
static td_status archive_commit(void *ctx, const cs_search *s, const cs_candidate *c)
{
    cosearch *cs = ctx;
    int64_t id = 0;
    td_status st =
        commit_record(cs, s->problem, c, metrics_of(c), cs->eval_fidelity, cs->current_wall_s, &id);
    if (st == TD_OK)
        st = remember_archive_id(cs, c->eval_id, id);
    cs->new_evaluations++;
    char status[160];
    snprintf(status, sizeof status, "gen %zu/%zu evals %lld trained %lld cache %lld hv %.4g",
             s->generation + 1, s->opt.generations,
             (long long)(s->evaluations + ++cs->batch_committed), (long long)cs->trainings,
             (long long)(s->cache_hits + cs->accuracy_cache_hits), cs->hypervolume);
    td_progress_update(&cs->progress, s->evaluations + cs->batch_committed, status);
    if (st == TD_OK && cs->stop_after > 0 && cs->new_evaluations >= cs->stop_after)
        st = td_fail(TD_ERR_INTERNAL, "stopped after %lld new evaluations (test hook)",
                     (long long)cs->stop_after);
    return st;
}

/* ------------------------------------------------------------------ finalists */

static const cs_search *sort_search;
static size_t sort_obj;

static int by_objective(const void *a, const void *b)
{
    double x = sort_search->history[*(const size_t *)a].obj[sort_obj];
    double y = sort_search->history[*(const size_t *)b].obj[sort_obj];
    return (x > y) - (x < y);
}

/* The front's most accurate designs (finalists.count of them), retrained with the
 * finalists budget on all training images but the validation ones, scored on the test
 * set at their accelerator's bit width, stored beside the proxy results with fidelity
 * "test". A finalist already stored (resume) is not retrained. */
static td_status run_finalists(cosearch *cs, const cs_search *s, json_t *out)
{
    if (cs->finalists <= 0)
        return TD_OK;
    const cs_problem *p = s->problem;
    size_t *idx = NULL, n = 0;
    td_status st = cs_search_front(s, true, &idx, &n);
    if (st != TD_OK || n == 0) {
        free(idx);
        return st;
    }
    sort_search = s;
    sort_obj = 0;
    for (size_t i = 0; i < cs->n_obj; i++)
        if (cs->obj[i] == CS_OBJ_ERROR)
            sort_obj = i;
    qsort(idx, n, sizeof *idx, by_objective);
    size_t m = n < (size_t)cs->finalists ? n : (size_t)cs->finalists;
    size_t task_len = sizeof(train_task) + (size_t)cs->n_net_genes * sizeof(int32_t);
    cs_pool_job *jobs = calloc(m, sizeof *jobs);
    train_task **tasks = calloc(m, sizeof *tasks);
    bool *done_before = calloc(m, sizeof *done_before);
    cs_candidate tmp;
    bool tmp_ready = false;
    if (!jobs || !tasks || !done_before)
        st = td_fail(TD_ERR_NOMEM, "out of memory");
    size_t n_jobs = 0;
    size_t *job_of = calloc(m, sizeof *job_of);
    for (size_t i = 0; st == TD_OK && i < m; i++) {
        const cs_candidate *c = &s->history[idx[i]];
        cs_eval_record rec;
        static char buf[1 << 16];
        st = cs_archive_find_evaluation(&cs->run.archive, c->hash, "test", &done_before[i], &rec,
                                        buf, sizeof buf);
        if (st != TD_OK || done_before[i])
            continue;
        nn_graph g;
        hw_config hw;
        st = candidate_decode(cs, c->genes, &g, &hw);
        uint64_t nh = nn_graph_hash(&g);
        nn_graph_free(&g);
        if (st != TD_OK)
            break;
        train_task *t = calloc(1, task_len);
        if (!t) {
            st = td_fail(TD_ERR_NOMEM, "out of memory");
            break;
        }
        t->kind = TRAIN_FINALIST;
        t->seed = net_seed(cs, nh);
        t->bits_mask = 1u << bits_index(hw.bits);
        t->n_genes = cs->n_net_genes;
        genes_split(cs, c->genes, t->genes, t->hw);
        /* The trained network is kept: runs/NAME/models/<candidate>.tdm (tandem rtl --run). */
        char hex[17];
        td_hash_hex(c->hash, hex);
        snprintf(t->model_path, sizeof t->model_path, "%s/models/%s.tdm", cs->run.path, hex);
        tasks[n_jobs] = t;
        jobs[n_jobs].task = t;
        jobs[n_jobs].task_len = task_len;
        job_of[i] = n_jobs++;
    }
    if (st == TD_OK && n_jobs) {
        char dir[1100];
        snprintf(dir, sizeof dir, "%s/models", cs->run.path);
        st = cs_mkdirs(dir);
    }
    if (st == TD_OK && n_jobs) {
        td_log_info("finalists: retraining %zu front designs (%d epochs, %lld images), scoring "
                    "the test set",
                    n_jobs, cs->final_budget.epochs, (long long)cs->final_budget.images);
        st = cs_pool_run(&cs->pool, jobs, n_jobs);
    }
    if (st == TD_OK)
        st = cs_candidate_alloc(&tmp, p);
    tmp_ready = st == TD_OK;
    for (size_t i = 0; st == TD_OK && i < m; i++) {
        const cs_candidate *c = &s->history[idx[i]];
        json_t *entry = json_object();
        json_object_set_new(entry, "id", json_integer(cs->archive_ids[c->eval_id]));
        if (done_before[i]) {
            json_object_set_new(entry, "status", json_string("stored earlier"));
            json_array_append_new(out, entry);
            continue;
        }
        cs_pool_job *j = &jobs[job_of[i]];
        cs_candidate_copy(&tmp, c, p);
        json_t *metrics = NULL;
        if (j->outcome == CS_POOL_OUTCOME_OK && j->result_len == sizeof(train_result)) {
            train_result res;
            memcpy(&res, j->result, sizeof res);
            nn_graph g;
            hw_config hw;
            candidate_decode(cs, c->genes, &g, &hw);
            nn_graph_free(&g);
            double test_acc = res.int_acc[bits_index(hw.bits)];
            st = score_candidate(cs, &tmp, res.float_acc, test_acc, false, &res.sim, &metrics);
            if (st == TD_OK) {
                json_object_set_new(metrics, "test_accuracy", td_json_real(test_acc));
                json_object_set_new(metrics, "float_test_accuracy", td_json_real(res.float_acc));
                json_object_set_new(metrics, "proxy_error", td_json_real(c->obj[sort_obj]));
                json_object_set_new(metrics, "epochs", json_integer(cs->final_budget.epochs));
                json_object_set_new(metrics, "train_images", json_integer(cs->final_budget.images));
                json_object_set_new(metrics, "fidelity", json_string("test"));
                json_object_set_new(metrics, "hw_fidelity",
                                    json_string(res.sim.ran ? "systemc" : "analytical"));
                json_object_set_new(entry, "test_accuracy", td_json_real(test_acc));
                json_object_set_new(entry, "float_test_accuracy", td_json_real(res.float_acc));
                if (res.model_saved) {
                    char hex[17], rel[64];
                    td_hash_hex(c->hash, hex);
                    snprintf(rel, sizeof rel, "models/%s.tdm", hex);
                    json_object_set_new(metrics, "model", json_string(rel));
                    json_object_set_new(entry, "model", json_string(rel));
                }
                json_object_set(entry, "systemc", json_object_get(metrics, "systemc"));
                cs->simulations += res.sim.ran;
                cs->sim_wall_s += res.sim.wall_s;
            }
            cs_candidate_finish(&tmp, p);
        } else {
            char reason[CS_REASON_MAX];
            snprintf(reason, sizeof reason, "finalist training failed: %s (%s)", j->reason,
                     cs_pool_outcome_name(j->outcome));
            cs_candidate_set_failed(&tmp, p, reason);
            json_object_set_new(entry, "failure", json_string(reason));
        }
        if (st == TD_OK)
            st = commit_record(cs, p, &tmp, metrics, "test", j->wall_s, NULL);
        json_decref(metrics);
        json_array_append_new(out, entry);
    }
    for (size_t k = 0; k < n_jobs; k++) {
        cs_pool_job_clear(&jobs[k]);
        free(tasks[k]);
    }
    if (tmp_ready)
        cs_candidate_free(&tmp);
    free(jobs);
    free(tasks);
    free(done_before);
    free(job_of);
    free(idx);
    return st;
}

/* search.fidelity analytical+systemc: the front's designs that have no SystemC evaluation
 * yet go through the SystemC model (on the pool) and are stored beside their analytical
 * evaluations with fidelity "systemc". The search itself keeps selecting on the analytical
 * numbers (docs/search.md §9, "Fidelity"). */
static td_status rescore_front(cosearch *cs, const cs_search *s, const size_t *idx, size_t n)
{
    const cs_problem *p = s->problem;
    cs_candidate **todo = calloc(n ? n : 1, sizeof *todo);
    sim_summary *res = calloc(n ? n : 1, sizeof *res);
    double *wall = calloc(n ? n : 1, sizeof *wall);
    td_status st = todo && res && wall ? TD_OK : td_fail(TD_ERR_NOMEM, "out of memory");
    size_t m = 0;
    for (size_t i = 0; st == TD_OK && i < n; i++) {
        cs_candidate *c = &s->history[idx[i]];
        cs_eval_record rec;
        static char buf[1 << 16];
        bool found = false;
        st = cs_archive_find_evaluation(&cs->run.archive, c->hash, "systemc", &found, &rec, buf,
                                        sizeof buf);
        if (st == TD_OK && !found)
            todo[m++] = c;
    }
    if (st == TD_OK && m)
        st = sim_batch(cs, todo, m, res, wall);
    cs_candidate tmp;
    bool tmp_ready = false;
    if (st == TD_OK && m) {
        st = cs_candidate_alloc(&tmp, p);
        tmp_ready = st == TD_OK;
    }
    for (size_t i = 0; st == TD_OK && i < m; i++) {
        const cs_candidate *c = todo[i];
        cs_candidate_copy(&tmp, c, p);
        json_t *metrics = NULL;
        if (res[i].ran) {
            nn_graph g;
            hw_config hw;
            st = candidate_decode(cs, c->genes, &g, &hw);
            uint64_t nh = nn_graph_hash(&g);
            nn_graph_free(&g);
            bool have = false;
            double facc = NAN, iacc = NAN;
            if (st == TD_OK)
                st = cs_archive_cache_get(&cs->run.archive, nh, hw.bits, cs->budget_hash,
                                          net_seed(cs, nh), &have, &facc, &iacc);
            if (st == TD_OK)
                st = score_candidate(cs, &tmp, facc, iacc, have, &res[i], &metrics);
            cs_candidate_finish(&tmp, p);
        } else {
            char reason[CS_REASON_MAX];
            snprintf(reason, sizeof reason, "systemc: %s", res[i].error);
            cs_candidate_set_failed(&tmp, p, reason);
        }
        if (st == TD_OK)
            st = commit_record(cs, p, &tmp, metrics, "systemc", wall[i], NULL);
        json_decref(metrics);
    }
    if (tmp_ready)
        cs_candidate_free(&tmp);
    free(todo);
    free(res);
    free(wall);
    return st;
}

/* After each generation: hypervolume, population and front into the archive, progress. */
static td_status on_generation(void *ctx, const cs_search *s)
{
    cosearch *cs = ctx;
    const cs_problem *p = s->problem;
    size_t *idx = NULL, n_front = 0;
    td_status st = cs_search_front(s, true, &idx, &n_front);
    double *pts = NULL;
    if (st == TD_OK && n_front)
        st = cs_objectives_matrix(s->history, idx, n_front, p->n_obj, &pts);
    if (st == TD_OK && !cs->ref_set && n_front) {
        /* Derived once, from every successful evaluation so far (feasible or not, dominated
         * or not), then fixed so generations compare. The first front alone is too narrow a
         * box when it holds one or two feasible designs (common when most of the space
         * violates a constraint): later, better designs would fall outside it and add
         * nothing. */
        size_t *all = calloc(s->history_n, sizeof *all), n_all = 0;
        double *apts = NULL;
        if (!all)
            st = td_fail(TD_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == TD_OK && i < s->history_n; i++) {
            bool finite = !s->history[i].failed;
            for (size_t k = 0; finite && k < p->n_obj; k++)
                finite = isfinite(s->history[i].obj[k]);
            if (finite)
                all[n_all++] = i;
        }
        if (st == TD_OK)
            st = cs_objectives_matrix(s->history, all, n_all, p->n_obj, &apts);
        if (st == TD_OK)
            st = cs_hv_reference_derive(apts, n_all, p->n_obj, 0.1, cs->ref);
        cs->ref_set = st == TD_OK;
        free(all);
        free(apts);
    }
    cs->hypervolume = 0;
    if (st == TD_OK && cs->ref_set)
        st = cs_hv_compute(pts, n_front, p->n_obj, cs->ref, &cs->hypervolume);
    int64_t *ids = calloc(s->pop_n ? s->pop_n : 1, sizeof *ids);
    int32_t *ranks = calloc(s->pop_n ? s->pop_n : 1, sizeof *ranks);
    double *crowd = calloc(s->pop_n ? s->pop_n : 1, sizeof *crowd);
    int64_t *front_ids = calloc(n_front ? n_front : 1, sizeof *front_ids);
    if (st == TD_OK && (!ids || !ranks || !crowd || !front_ids))
        st = td_fail(TD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == TD_OK && i < s->pop_n; i++) {
        ids[i] = cs->archive_ids[s->pop[i].eval_id];
        ranks[i] = s->pop[i].rank;
        crowd[i] = s->pop[i].crowding;
    }
    for (size_t i = 0; st == TD_OK && i < n_front; i++)
        front_ids[i] = cs->archive_ids[s->history[idx[i]].eval_id];
    if (st == TD_OK)
        st = cs_archive_add_generation(&cs->run.archive, (int64_t)s->generation, cs->hypervolume,
                                       s->evaluations, td_now_s() - cs->progress.start_s, ids,
                                       ranks, crowd, (int64_t)s->pop_n);
    if (st == TD_OK)
        st = cs_archive_set_front(&cs->run.archive, front_ids, (int64_t)n_front);
    if (st == TD_OK && cs->fidelity == CS_FIDELITY_BOTH)
        st = rescore_front(cs, s, idx, n_front);
    char status[160];
    snprintf(status, sizeof status, "gen %zu/%zu evals %lld trained %lld cache %lld hv %.4g",
             s->generation, s->opt.generations, (long long)s->evaluations, (long long)cs->trainings,
             (long long)(s->cache_hits + cs->accuracy_cache_hits), cs->hypervolume);
    td_progress_update(&cs->progress, s->evaluations, status);
    td_log(TD_LOG_DEBUG, "%s", status);
    free(idx);
    free(pts);
    free(ids);
    free(ranks);
    free(crowd);
    free(front_ids);
    return st;
}

/* ------------------------------------------------------------------ setup */

static td_status setup_problem(cosearch *cs, const td_config *cfg)
{
    nn_shape input = {1, 28, 28};
    td_status st = nn_space_from_config(&cs->net_space, cfg, input, 10);
    if (st == TD_OK)
        st = hw_space_from_config(&cs->hw_space, cfg);
    if (st != TD_OK)
        return st;
    cs->n_net_genes = nn_genome_length(&cs->net_space);
    size_t n = (size_t)cs->n_net_genes + HW_GENE_COUNT;
    cs->genes = calloc(n, sizeof *cs->genes);
    int32_t *lo = calloc(n, sizeof *lo), *hi = calloc(n, sizeof *hi);
    if (!cs->genes || !lo || !hi) {
        free(lo);
        free(hi);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    nn_genome_ranges(&cs->net_space, lo, hi);
    int32_t hw_hi[HW_GENE_COUNT];
    hw_genome_ranges(&cs->hw_space, hw_hi);
    for (size_t i = 0; i < n; i++) {
        bool net = i < (size_t)cs->n_net_genes;
        cs->genes[i].lo = net ? lo[i] : 0;
        cs->genes[i].hi = net ? hi[i] : hw_hi[i - (size_t)cs->n_net_genes];
        cs->genes[i].kind = CS_GENE_INT;
    }
    /* Unordered genes: block ops (first gene of each block triple) and the dataflow. */
    int32_t blocks_at = 2 + 3 * cs->net_space.stages_max;
    for (int32_t i = blocks_at; i < cs->n_net_genes; i += 3)
        cs->genes[i].kind = CS_GENE_CATEGORICAL;
    cs->genes[(size_t)cs->n_net_genes + HW_GENE_DATAFLOW].kind = CS_GENE_CATEGORICAL;
    free(lo);
    free(hi);

    cs->n_obj = td_config_list_len(cfg, "search.objectives");
    for (size_t i = 0; i < cs->n_obj; i++) {
        const char *name = td_config_list_str(cfg, "search.objectives", i);
        for (int k = 0; k < CS_OBJ_COUNT; k++)
            if (strcmp(name, objective_names[k]) == 0)
                cs->obj[i] = (cs_objective)k;
    }
    cs->max_area = td_config_float(cfg, "constraints.max_area_mm2");
    cs->max_power = td_config_float(cfg, "constraints.max_power_mw");
    cs->max_latency = td_config_float(cfg, "constraints.max_latency_ms");
    cs->min_accuracy = td_config_float(cfg, "constraints.min_accuracy");
    size_t n_ref = td_config_list_len(cfg, "search.reference_point");
    for (size_t i = 0; i < n_ref; i++)
        cs->ref[i] = td_config_list_float(cfg, "search.reference_point", i);
    cs->ref_set = n_ref > 0;

    cs->budget.images = td_config_int(cfg, "train.images");
    cs->budget.epochs = (int32_t)td_config_int(cfg, "train.epochs");
    cs->budget.batch = (int32_t)td_config_int(cfg, "train.batch");
    cs->budget.val_images = td_config_int(cfg, "search.val_images");
    cs->threads = (int)td_config_int(cfg, "train.threads");
    cs->final_budget.images = td_config_int(cfg, "finalists.images");
    cs->final_budget.epochs = (int32_t)td_config_int(cfg, "finalists.epochs");
    cs->final_budget.batch = cs->budget.batch;
    cs->final_budget.val_images = 0; /* the whole test set */
    cs->finalists = td_config_int(cfg, "finalists.count");
    const char *fidelity = td_config_str(cfg, "search.fidelity");
    for (int k = 0; k < CS_FIDELITY_COUNT; k++)
        if (strcmp(fidelity, fidelity_names[k]) == 0)
            cs->fidelity = (cs_fidelity)k;
    cs->eval_fidelity = cs->fidelity == CS_FIDELITY_SYSTEMC ? "systemc" : "analytical";
#ifndef TANDEM_HAVE_SIM
    if (cs->fidelity != CS_FIDELITY_ANALYTICAL)
        return td_fail(TD_ERR_NOT_BUILT,
                       "%s: key 'search.fidelity': '%s' needs the SystemC model, and this "
                       "tandem was built without SystemC (libsystemc-dev); use 'analytical'",
                       td_config_origin(cfg, "search.fidelity"), fidelity);
#endif
    int64_t bw[4] = {cs->budget.images, cs->budget.epochs, cs->budget.batch, cs->budget.val_images};
    cs->budget_hash = td_hash64(bw, sizeof bw, 0x62756467ull);
    cs->run_seed = (uint64_t)td_config_int(cfg, "run.seed");

    cs->problem.name = "cosearch";
    cs->problem.n_genes = n;
    cs->problem.genes = cs->genes;
    cs->problem.n_obj = cs->n_obj;
    cs->problem.n_con = CS_CON_COUNT;
    cs->problem.ctx = cs;
    cs->problem.hash = problem_hash;
    cs->problem.evaluate = problem_evaluate; /* the search itself uses evaluate_batch */
    return cs_problem_check(&cs->problem);
}

static json_t *front_json(cosearch *cs, const cs_search *s, double *hv, size_t *front_n)
{
    size_t *idx = NULL, n = 0;
    json_t *arr = json_array();
    if (cs_search_front(s, true, &idx, &n) != TD_OK)
        return arr;
    for (size_t i = 0; i < n; i++) {
        const cs_candidate *c = &s->history[idx[i]];
        json_t *d = json_object();
        char hex[17];
        td_hash_hex(c->hash, hex);
        json_object_set_new(d, "id", json_integer(cs->archive_ids[c->eval_id]));
        json_object_set_new(d, "candidate", json_string(hex));
        json_t *o = json_object();
        for (size_t k = 0; k < cs->n_obj; k++)
            json_object_set_new(o, objective_names[cs->obj[k]], td_json_real(c->obj[k]));
        json_object_set_new(d, "objectives", o);
        nn_graph g;
        hw_config hw;
        if (candidate_decode(cs, c->genes, &g, &hw) == TD_OK) {
            json_object_set_new(d, "network", json_string(g.name));
            json_object_set_new(d, "params", json_integer(nn_graph_params(&g)));
            json_object_set_new(d, "macs", json_integer(nn_graph_macs(&g)));
            json_object_set_new(d, "hw", hw_config_to_json(&hw));
        }
        nn_graph_free(&g);
        /* The design's SystemC numbers, when it has them (fidelity systemc or
         * analytical+systemc). */
        cs_eval_record rec;
        static char buf[1 << 16];
        bool found = false;
        if (cs->fidelity != CS_FIDELITY_ANALYTICAL &&
            cs_archive_find_evaluation(&cs->run.archive, c->hash, "systemc", &found, &rec, buf,
                                       sizeof buf) == TD_OK &&
            found) {
            json_error_t err;
            json_t *m = rec.status == CS_EVAL_OK ? json_loads(rec.metrics_json, 0, &err) : NULL;
            json_t *sc = m ? json_object_get(m, "systemc") : NULL;
            if (sc)
                json_object_set(d, "systemc", sc);
            else
                json_object_set_new(d, "systemc_failure",
                                    json_string(rec.failure ? rec.failure : "no numbers"));
            json_decref(m);
        }
        json_array_append_new(arr, d);
    }
    free(idx);
    *hv = cs->hypervolume;
    *front_n = n;
    return arr;
}

td_status cs_cosearch_run(const td_config *cfg_in, const cs_run_options *o, json_t **summary)
{
    cosearch cs;
    memset(&cs, 0, sizeof cs);
    *summary = NULL;
    td_config *resumed_cfg = NULL;
    const td_config *cfg = cfg_in;
    td_status st = TD_OK;
    bool master = o->pool != CS_POOL_MPI || cs_mpi_rank() == 0;
    if (o->resume_dir && master) {
        st = cs_rundir_resume(&cs.run, o->resume_dir, &resumed_cfg);
        if (st != TD_OK)
            return st;
        cs.run_open = true;
        cfg = resumed_cfg;
    }
    cs.cfg = cfg;
    cs.stop_after = o->stop_after;
    st = setup_problem(&cs, cfg);
    /* Data before the pool: forked workers share it copy-on-write. */
    if (st == TD_OK) {
        const char *dir = td_config_str(cfg, "data.dir");
        st = nn_data_load(&cs.data, *dir ? dir : NULL, td_config_int(cfg, "data.val_images"),
                          cs.run_seed);
        cs.data_loaded = st == TD_OK;
    }
    if (st == TD_OK) {
        cs_pool_options po = {.kind = o->pool,
                              .jobs = o->jobs ? o->jobs : 1,
                              .timeout_s = td_config_float(cfg, "search.eval_timeout_s")};
        st = cs_pool_init(&cs.pool, &po, train_work, &cs);
        cs.pool_ready = st == TD_OK;
    }
    if (st == TD_OK && cs.pool_ready && cs_pool_is_mpi_worker(&cs.pool))
        goto cleanup; /* an MPI worker rank has served its tasks */
    if (st == TD_OK && !cs.run_open) {
        st = cs_rundir_create(&cs.run, o->out_dir, cfg, o->version);
        cs.run_open = st == TD_OK;
    }
    if (st == TD_OK)
        st = hw_result_init(&cs.hw, 256);
    cs_search s;
    memset(&s, 0, sizeof s);
    bool search_ready = false;
    if (st == TD_OK) {
        cs_search_options so;
        cs_search_options_default(&so);
        st = cs_algo_parse(td_config_str(cfg, "search.algorithm"), &so.algo);
        so.pop_size = (size_t)td_config_int(cfg, "search.population");
        so.generations = (size_t)td_config_int(cfg, "search.generations");
        so.seed = cs.run_seed;
        so.crossover_prob = td_config_float(cfg, "search.crossover_prob");
        so.mutation_prob = td_config_float(cfg, "search.mutation_rate");
        so.int_crossover = CS_INT_CROSSOVER_UNIFORM;
        so.evaluator.ctx = &cs;
        so.evaluator.evaluate_batch = evaluate_batch;
        so.lookup = archive_lookup;
        so.lookup_ctx = &cs;
        so.on_evaluated = archive_commit;
        so.on_evaluated_ctx = &cs;
        so.on_generation = on_generation;
        so.on_generation_ctx = &cs;
        if (st == TD_OK)
            st = cs_search_init(&s, &cs.problem, &so);
        search_ready = st == TD_OK;
    }
    if (st == TD_OK) {
        current_cs = &cs;
        td_log_info("search: %s, population %zu, %zu generations, %zu genes (%d network, %d "
                    "accelerator), run directory %s",
                    td_config_str(cfg, "search.algorithm"), s.opt.pop_size, s.opt.generations,
                    cs.problem.n_genes, cs.n_net_genes, HW_GENE_COUNT, cs.run.path);
        td_progress_init(&cs.progress, "search", (int64_t)(s.opt.pop_size * s.opt.generations));
        st = cs_search_run(&s);
        current_cs = NULL;
    }
    if (st == TD_OK) {
        double hv = 0;
        size_t front_n = 0;
        json_t *front = front_json(&cs, &s, &hv, &front_n);
        double wall = td_now_s() - cs.progress.start_s;
        char status[128];
        snprintf(status, sizeof status, "front %zu designs, hypervolume %.4g", front_n, hv);
        td_progress_finish(&cs.progress, status);
        json_t *finalists = json_array();
        st = run_finalists(&cs, &s, finalists);
        wall = td_now_s() - cs.progress.start_s;
        if (st == TD_OK)
            st = cs_archive_run_finish(&cs.run.archive, "finished", wall);
        json_t *sum = json_object();
        json_object_set_new(sum, "run_dir", json_string(cs.run.path));
        json_object_set_new(sum, "evaluations", json_integer(s.evaluations));
        json_object_set_new(sum, "new_evaluations", json_integer(cs.new_evaluations));
        json_object_set_new(sum, "failures", json_integer(s.failures));
        json_object_set_new(sum, "resumed_evaluations", json_integer(s.cache_hits));
        json_object_set_new(sum, "trainings", json_integer(cs.trainings));
        json_object_set_new(sum, "accuracy_cache_hits", json_integer(cs.accuracy_cache_hits));
        json_object_set_new(sum, "front_size", json_integer((json_int_t)front_n));
        json_object_set_new(sum, "hypervolume", td_json_real(hv));
        json_t *ref = json_array();
        for (size_t i = 0; i < cs.n_obj; i++)
            json_array_append_new(ref, td_json_real(cs.ref[i]));
        json_object_set_new(sum, "reference_point", ref);
        json_t *names = json_array();
        for (size_t i = 0; i < cs.n_obj; i++)
            json_array_append_new(names, json_string(objective_names[cs.obj[i]]));
        json_object_set_new(sum, "objectives", names);
        json_object_set_new(sum, "wall_s", td_json_real(wall));
        json_object_set_new(sum, "fidelity", json_string(fidelity_names[cs.fidelity]));
        json_object_set_new(sum, "simulations", json_integer(cs.simulations));
        json_object_set_new(sum, "sim_s", td_json_real(cs.sim_wall_s));
        json_object_set_new(sum, "front", front);
        json_object_set_new(sum, "finalists", finalists);
        if (st == TD_OK)
            *summary = sum;
        else
            json_decref(sum);
    }
    if (st != TD_OK && cs.run_open) {
        td_log_error("search stopped: %s (finished evaluations are in %s; continue with "
                     "tandem search --resume %s)",
                     td_error_message(), cs.run.path, cs.run.path);
    }
    if (search_ready)
        cs_search_free(&s);
cleanup:
    if (cs.pool_ready)
        cs_pool_free(&cs.pool);
    if (cs.run_open)
        cs_rundir_close(&cs.run);
    hw_result_free(&cs.hw);
    if (cs.data_loaded)
        nn_data_free(&cs.data);
    free(cs.genes);
    free(cs.archive_ids);
    td_config_free(resumed_cfg);
    return st;
}
