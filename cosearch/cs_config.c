#include "cs_config.h"

#include "hw_space.h"
#include "nn_config.h"

#include <string.h>

#define OBJECTIVES "error|latency_ms|energy_uj|area_mm2|power_mw|params|macs"

/* The default fidelity is the most faithful one that keeps the default search in its time
 * budget: systemc (measured in docs/benchmarks.md, "Cost of each search.fidelity"), or
 * analytical where this tandem was built without SystemC. */
#ifdef TANDEM_HAVE_SIM
#define DEFAULT_FIDELITY "systemc"
#else
#define DEFAULT_FIDELITY "analytical"
#endif

const td_cfg_key cs_config_keys[] = {
    {"run.name", TD_CFG_STRING, 0, 0, NULL, "''", 0, 0,
     "run directory name under run.dir ('' = a timestamp)"},
    {"run.dir", TD_CFG_STRING, 0, 0, NULL, "runs", 0, 0, "parent folder of run directories"},
    {"run.seed", TD_CFG_INT, 0, 2147483647, NULL, "1", 0, 0, "run seed"},
    {"search.algorithm", TD_CFG_ENUM, 0, 0, "nsga2|random|regevo", "nsga2", 0, 0,
     "optimizer (random search and regularized evolution are baselines)"},
    {"search.population", TD_CFG_INT, 4, 100000, NULL, "16", 0, 0, "population size"},
    {"search.generations", TD_CFG_INT, 1, 100000, NULL, "5", 0, 0, "generations"},
    {"search.val_images", TD_CFG_INT, 100, 30000, NULL, "2000", 0, 0,
     "validation images scored per proxy evaluation (of data.val_images)"},
    {"search.objectives", TD_CFG_ENUM_LIST, 0, 0, OBJECTIVES,
     "[error, latency_ms, energy_uj, area_mm2]", 2, 6, "objectives, all minimised"},
    {"search.reference_point", TD_CFG_FLOAT_LIST, 0, 0, NULL, "[]", 0, 6,
     "hypervolume reference point, one per objective ([] = derived from the run)"},
    {"search.fidelity", TD_CFG_ENUM, 0, 0, "analytical|systemc|analytical+systemc",
     DEFAULT_FIDELITY, 0, 0,
     "hardware numbers per candidate: hw_model, the SystemC model (twin core), or hw_model with "
     "each generation's front re-scored by SystemC (docs/search.md)"},
    {"search.workers", TD_CFG_INT, 1, 4096, NULL, "2", 0, 0, "local evaluation processes (-j)"},
    {"search.eval_timeout_s", TD_CFG_FLOAT, 1, 1e6, NULL, "900.0", 0, 0,
     "an evaluation running longer fails with a timeout"},
    {"search.crossover_prob", TD_CFG_FLOAT, 0, 1, NULL, "0.9", 0, 0, "crossover probability"},
    {"search.mutation_rate", TD_CFG_FLOAT, 0, 1, NULL, "0.0", 0, 0,
     "per-gene mutation probability (0 = 1/genes)"},
    {"finalists.count", TD_CFG_INT, 0, 1000, NULL, "2", 0, 0,
     "front designs (lowest error first) retrained with the finalists budget and scored on "
     "the test set (0 = none)"},
    {"constraints.max_area_mm2", TD_CFG_FLOAT, 0, 1e9, NULL, "0.0", 0, 0, "area budget (0 = none)"},
    {"constraints.max_power_mw", TD_CFG_FLOAT, 0, 1e9, NULL, "0.0", 0, 0,
     "power budget (0 = none)"},
    {"constraints.max_latency_ms", TD_CFG_FLOAT, 0, 1e9, NULL, "0.0", 0, 0,
     "latency budget per inference (0 = none)"},
    {"constraints.min_accuracy", TD_CFG_FLOAT, 0, 1, NULL, "0.0", 0, 0,
     "minimum integer accuracy (0 = none)"},
    TD_CFG_END,
};

td_status cs_config_check(const td_config *cfg)
{
    /* Every [min, max] range key must be ordered. */
    for (size_t i = 0; i < td_config_key_count(cfg); i++) {
        const td_cfg_key *k = td_config_key_at(cfg, i);
        if ((k->type != TD_CFG_INT_LIST && k->type != TD_CFG_FLOAT_LIST) || k->min_len != 2 ||
            k->max_len != 2 || strncmp(k->help, "[min, max]", 10) != 0)
            continue;
        double lo = td_config_list_float(cfg, k->path, 0),
               hi = td_config_list_float(cfg, k->path, 1);
        if (lo > hi)
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': range [%g, %g] has min above max",
                           td_config_origin(cfg, k->path), k->path, lo, hi);
    }
    size_t n_obj = td_config_list_len(cfg, "search.objectives");
    size_t n_ref = td_config_list_len(cfg, "search.reference_point");
    if (n_ref != 0 && n_ref != n_obj)
        return td_fail(TD_ERR_CONFIG,
                       "%s: key 'search.reference_point': has %zu values for %zu objectives",
                       td_config_origin(cfg, "search.reference_point"), n_ref, n_obj);
    for (size_t i = 0; i < n_obj; i++)
        for (size_t j = i + 1; j < n_obj; j++)
            if (strcmp(td_config_list_str(cfg, "search.objectives", i),
                       td_config_list_str(cfg, "search.objectives", j)) == 0)
                return td_fail(TD_ERR_CONFIG, "%s: key 'search.objectives': '%s' appears twice",
                               td_config_origin(cfg, "search.objectives"),
                               td_config_list_str(cfg, "search.objectives", i));
    int64_t search_val = td_config_int(cfg, "search.val_images");
    int64_t data_val = td_config_int(cfg, "data.val_images");
    if (search_val > data_val)
        return td_fail(TD_ERR_CONFIG,
                       "%s: key 'search.val_images': %lld validation images scored per "
                       "evaluation, but key 'data.val_images' (%s) holds only %lld; lower "
                       "search.val_images or raise data.val_images",
                       td_config_origin(cfg, "search.val_images"), (long long)search_val,
                       td_config_origin(cfg, "data.val_images"), (long long)data_val);
    for (size_t i = 0; i < td_config_list_len(cfg, "space.hw.bits"); i++) {
        int64_t b = td_config_list_int(cfg, "space.hw.bits", i);
        if (b != 4 && b != 8 && b != 16 && b != 32)
            return td_fail(TD_ERR_CONFIG,
                           "%s: key 'space.hw.bits': %lld is not one of 4, 8, 16, 32",
                           td_config_origin(cfg, "space.hw.bits"), (long long)b);
    }
    return TD_OK;
}

td_status cs_config_load(td_config **out, const char *path, char *const *sets, size_t n_sets)
{
    const td_cfg_key *const tables[] = {cs_config_keys, nn_config_keys, hw_config_keys, NULL};
    td_config *cfg;
    td_status st = td_config_init(&cfg, tables);
    if (st != TD_OK)
        return st;
    if (path)
        st = td_config_merge_file(cfg, path);
    for (size_t i = 0; st == TD_OK && i < n_sets; i++)
        st = td_config_set(cfg, sets[i]);
    if (st == TD_OK)
        st = cs_config_check(cfg);
    if (st != TD_OK) {
        td_config_free(cfg);
        return st;
    }
    *out = cfg;
    return TD_OK;
}
