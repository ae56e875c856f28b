/* tandem bench-moo: the optimizer on the standard test problems (ZDT1-4, ZDT6, DTLZ2),
 * reporting the final front's exact hypervolume. */
#include "cmd_common.h"
#include "commands.h"
#include "cs_hv.h"
#include "cs_mpi.h"
#include "cs_nsga2.h"
#include "cs_pool.h"
#include "cs_problems.h"
#include "td_json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: tandem bench-moo --problem NAME [--pop P] [--gens G] [--seed S] [--algo A]\n"
    "                        [--eta-c X] [--eta-m X] [--pc X] [--pm X] [--ref R] [-j N]\n"
    "                        [--mpi] [--history-front] [--front] [--json]\n"
    "\n"
    "Runs the optimizer on a standard test problem and prints the final front's exact\n"
    "hypervolume at the reference point (R, R, ...). Problems: zdt1, zdt2, zdt3 (30 genes),\n"
    "zdt4, zdt6 (10 genes), dtlz2 (12 genes, 3 objectives). Generations count the initial\n"
    "population as the first (Deb's NSGA-II code), so evaluations = P * G.\n"
    "\n"
    "      --problem NAME  zdt1|zdt2|zdt3|zdt4|zdt6|dtlz2 (required)\n"
    "      --pop P         population size (default 100)\n"
    "      --gens G        generations (default 250)\n"
    "      --seed S        run seed (default 1)\n"
    "      --algo A        nsga2|random|regevo (default nsga2; the front of random and regevo\n"
    "                      is taken over every evaluated candidate)\n"
    "      --eta-c X       SBX distribution index (default 15)\n"
    "      --eta-m X       polynomial mutation distribution index (default 20)\n"
    "      --pc X          crossover probability (default 0.9)\n"
    "      --pm X          mutation probability per gene (default 1/n)\n"
    "      --ref R         reference point value in every objective (default 1.1)\n"
    "  -j, --jobs N        evaluate in N worker processes (default: in this process)\n"
    "      --mpi           evaluate on MPI ranks: mpirun -np N tandem bench-moo ... --mpi\n"
    "                      (rank 0 runs the search and prints; the others evaluate)\n"
    "      --history-front take the front over every evaluated candidate, whatever the\n"
    "                      algorithm (for comparisons at equal evaluations)\n"
    "      --front         also print the front's objective vectors\n"
    "      --json          print one JSON object: problem, algorithm, pop, generations, seed,\n"
    "                      hypervolume, reference_point, evaluations, front_size, wall_s\n"
    "  -v, --verbose / -q, --quiet\n";

enum {
    OPT_PROBLEM = CMD_OPT_COMMON_COUNT,
    OPT_POP,
    OPT_GENS,
    OPT_SEED,
    OPT_ALGO,
    OPT_ETA_C,
    OPT_ETA_M,
    OPT_PC,
    OPT_PM,
    OPT_REF,
    OPT_FRONT,
    OPT_HISTORY_FRONT,
    OPT_MPI
};

static double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_bench_moo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"problem", required_argument, NULL, OPT_PROBLEM},
        {"pop", required_argument, NULL, OPT_POP},
        {"gens", required_argument, NULL, OPT_GENS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"algo", required_argument, NULL, OPT_ALGO},
        {"eta-c", required_argument, NULL, OPT_ETA_C},
        {"eta-m", required_argument, NULL, OPT_ETA_M},
        {"pc", required_argument, NULL, OPT_PC},
        {"pm", required_argument, NULL, OPT_PM},
        {"ref", required_argument, NULL, OPT_REF},
        {"jobs", required_argument, NULL, 'j'},
        {"front", no_argument, NULL, OPT_FRONT},
        {"history-front", no_argument, NULL, OPT_HISTORY_FRONT},
        {"mpi", no_argument, NULL, OPT_MPI},
        CMD_COMMON_LONG_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *cmd = "bench-moo";
    cmd_common c = {0};
    const char *problem = NULL;
    cs_search_options o;
    cs_search_options_default(&o);
    o.eta_c = 15.0;
    long long pop = 100, gens = 250, seed = 1, jobs = 0;
    double ref_value = 1.1;
    bool show_front = false, history_front = false, use_mpi = false;
    int opt, rc = 0;
    td_status st;
    cmd_getopt_init();
    while ((opt = getopt_long(argc, argv, ":j:" CMD_COMMON_SHORT_OPTIONS, longopts, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case OPT_PROBLEM:
            problem = optarg;
            break;
        case OPT_POP:
            ok = cmd_parse_int(cmd, "--pop", optarg, 4, 100000, &pop);
            break;
        case OPT_GENS:
            ok = cmd_parse_int(cmd, "--gens", optarg, 1, 1000000, &gens);
            break;
        case OPT_SEED:
            ok = cmd_parse_int(cmd, "--seed", optarg, 0, INT64_MAX, &seed);
            break;
        case OPT_ALGO:
            if ((st = cs_algo_parse(optarg, &o.algo)) != TD_OK)
                return cmd_usage_error(cmd, "--algo: %s", td_error_message());
            break;
        case OPT_ETA_C:
            ok = cmd_parse_double(cmd, "--eta-c", optarg, 0.0, 1000.0, &o.eta_c);
            break;
        case OPT_ETA_M:
            ok = cmd_parse_double(cmd, "--eta-m", optarg, 0.0, 1000.0, &o.eta_m);
            break;
        case OPT_PC:
            ok = cmd_parse_double(cmd, "--pc", optarg, 0.0, 1.0, &o.crossover_prob);
            break;
        case OPT_PM:
            ok = cmd_parse_double(cmd, "--pm", optarg, 0.0, 1.0, &o.mutation_prob);
            break;
        case OPT_REF:
            ok = cmd_parse_double(cmd, "--ref", optarg, -1e300, 1e300, &ref_value);
            break;
        case 'j':
            ok = cmd_parse_int(cmd, "-j", optarg, 1, 4096, &jobs);
            break;
        case OPT_FRONT:
            show_front = true;
            break;
        case OPT_HISTORY_FRONT:
            history_front = true;
            break;
        case OPT_MPI:
            use_mpi = true;
            break;
        default:
            if (!cmd_common_option(&c, opt))
                return cmd_bad_option(cmd, opt, argv);
        }
        if (!ok)
            return 2;
    }
    if (c.help) {
        fputs(usage, stdout);
        return 0;
    }
    if (optind < argc)
        return cmd_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!problem)
        return cmd_usage_error(cmd, "--problem is required (zdt1, zdt2, zdt3, zdt4, zdt6, "
                                    "dtlz2)");
    cs_problems_id id;
    if (cs_problems_parse(problem, &id) != TD_OK)
        return cmd_usage_error(cmd, "--problem: %s", td_error_message());

    cs_problems_bench b;
    if ((st = cs_problems_init(&b, id)) != TD_OK)
        return cmd_fail(cmd, st);
    o.pop_size = (size_t)pop;
    o.generations = (size_t)gens;
    o.seed = (uint64_t)seed;
    bool hist = history_front || o.algo != CS_ALGO_NSGA2;
    o.keep_history = hist;

    if (use_mpi && jobs > 0)
        return cmd_usage_error(cmd, "-j and --mpi do not combine (MPI ranks are the workers)");
    cs_pool pool;
    bool have_pool = false;
    if (use_mpi && (st = cs_mpi_init(&argc, &argv)) != TD_OK)
        return cmd_fail(cmd, st);
    if (jobs > 0 || use_mpi) {
        cs_pool_options po = {use_mpi ? CS_POOL_MPI : CS_POOL_FORK, (size_t)jobs, 0.0};
        st = cs_pool_init(&pool, &po, cs_problem_pool_work, &b.p);
        if (st != TD_OK || cs_pool_is_mpi_worker(&pool)) {
            rc = st == TD_OK ? 0 : cmd_fail(cmd, st);
            if (st == TD_OK)
                cs_pool_free(&pool);
            cs_mpi_finalize();
            return rc;
        }
        have_pool = true;
        o.evaluator.ctx = &pool;
        o.evaluator.evaluate_batch = cs_pool_evaluate_batch;
    }
    double t0 = bench_now();
    cs_search s;
    size_t *idx = NULL, n_front = 0;
    double *front = NULL, hv = 0.0, ref[CS_MAX_OBJ];
    st = cs_search_init(&s, &b.p, &o);
    if (st == TD_OK) {
        st = cs_search_run(&s);
        if (st == TD_OK)
            st = cs_search_front(&s, hist, &idx, &n_front);
        if (st == TD_OK)
            st = cs_objectives_matrix(hist ? s.history : s.pop, idx, n_front, b.p.n_obj, &front);
        for (size_t k = 0; k < b.p.n_obj; k++)
            ref[k] = ref_value;
        if (st == TD_OK)
            st = cs_hv_compute(front, n_front, b.p.n_obj, ref, &hv);
    }
    double wall = bench_now() - t0;
    if (have_pool)
        cs_pool_free(&pool);
    if (st != TD_OK) {
        rc = cmd_fail(cmd, st);
        goto done;
    }
    if (c.json) {
        json_t *j = json_object();
        json_object_set_new(j, "problem", json_string(cs_problems_name(id)));
        json_object_set_new(j, "algorithm", json_string(cs_algo_name(o.algo)));
        json_object_set_new(j, "pop", json_integer(pop));
        json_object_set_new(j, "generations", json_integer(gens));
        json_object_set_new(j, "seed", json_integer(seed));
        json_object_set_new(j, "eta_c", td_json_real(o.eta_c));
        json_object_set_new(j, "eta_m", td_json_real(o.eta_m));
        json_object_set_new(j, "front_from", json_string(hist ? "history" : "population"));
        json_object_set_new(j, "hypervolume", td_json_real(hv));
        json_t *r = json_array();
        for (size_t k = 0; k < b.p.n_obj; k++)
            json_array_append_new(r, td_json_real(ref[k]));
        json_object_set_new(j, "reference_point", r);
        json_object_set_new(j, "evaluations", json_integer(s.evaluations));
        json_object_set_new(j, "failures", json_integer(s.failures));
        json_object_set_new(j, "front_size", json_integer((json_int_t)n_front));
        json_object_set_new(j, "wall_s", td_json_real(wall));
        if (show_front) {
            json_t *f = json_array();
            for (size_t i = 0; i < n_front; i++) {
                json_t *row = json_array();
                for (size_t k = 0; k < b.p.n_obj; k++)
                    json_array_append_new(row, td_json_real(front[i * b.p.n_obj + k]));
                json_array_append_new(f, row);
            }
            json_object_set_new(j, "front", f);
        }
        if ((st = td_json_print(j)) != TD_OK)
            rc = cmd_fail(cmd, st);
    } else {
        printf("%s %s pop %lld gens %lld seed %lld: hypervolume %.6f at (", cs_problems_name(id),
               cs_algo_name(o.algo), pop, gens, seed, hv);
        for (size_t k = 0; k < b.p.n_obj; k++)
            printf("%s%g", k ? ", " : "", ref[k]);
        printf("), %lld evaluations, front %zu, %.2f s\n", (long long)s.evaluations, n_front, wall);
        if (show_front)
            for (size_t i = 0; i < n_front; i++) {
                for (size_t k = 0; k < b.p.n_obj; k++)
                    printf("%s%.17g", k ? " " : "", front[i * b.p.n_obj + k]);
                printf("\n");
            }
    }
done:
    free(idx);
    free(front);
    cs_search_free(&s);
    if (use_mpi)
        cs_mpi_finalize();
    return rc;
}
