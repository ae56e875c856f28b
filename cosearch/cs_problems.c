#include "cs_problems.h"

#include <math.h>
#include <string.h>

static const char *const cs_problems_names[CS_PROBLEMS_ID_COUNT] = {"zdt1", "zdt2", "zdt3",
                                                                    "zdt4", "zdt6", "dtlz2"};

const char *cs_problems_name(cs_problems_id id)
{
    return id >= 0 && id < CS_PROBLEMS_ID_COUNT ? cs_problems_names[id] : "?";
}

td_status cs_problems_parse(const char *name, cs_problems_id *out)
{
    for (int i = 0; i < CS_PROBLEMS_ID_COUNT; i++)
        if (strcmp(name, cs_problems_names[i]) == 0) {
            *out = (cs_problems_id)i;
            return TD_OK;
        }
    return td_fail(TD_ERR_CONFIG, "unknown problem '%s' (zdt1, zdt2, zdt3, zdt4, zdt6, dtlz2)",
                   name);
}

double cs_problems_reference(cs_problems_id id)
{
    (void)id;
    return 1.1;
}

/* ZDT: f1 from x1, g from the rest, f2 = g * h(f1, g). */
static td_status cs_zdt_evaluate(void *ctx, const double *x, uint64_t seed, double *obj,
                                 double *viol)
{
    const cs_problems_bench *b = ctx;
    size_t n = b->p.n_genes;
    double f1, g, h, s = 0.0;
    switch (b->id) {
    case CS_PROBLEMS_ZDT1:
    case CS_PROBLEMS_ZDT2:
    case CS_PROBLEMS_ZDT3:
        f1 = x[0];
        for (size_t i = 1; i < n; i++)
            s += x[i];
        g = 1.0 + 9.0 * s / (double)(n - 1);
        if (b->id == CS_PROBLEMS_ZDT1)
            h = 1.0 - sqrt(f1 / g);
        else if (b->id == CS_PROBLEMS_ZDT2)
            h = 1.0 - (f1 / g) * (f1 / g);
        else
            h = 1.0 - sqrt(f1 / g) - (f1 / g) * sin(10.0 * M_PI * f1);
        break;
    case CS_PROBLEMS_ZDT4:
        f1 = x[0];
        for (size_t i = 1; i < n; i++)
            s += x[i] * x[i] - 10.0 * cos(4.0 * M_PI * x[i]);
        g = 1.0 + 10.0 * (double)(n - 1) + s;
        h = 1.0 - sqrt(f1 / g);
        break;
    case CS_PROBLEMS_ZDT6:
        f1 = 1.0 - exp(-4.0 * x[0]) * pow(sin(6.0 * M_PI * x[0]), 6.0);
        for (size_t i = 1; i < n; i++)
            s += x[i];
        g = 1.0 + 9.0 * pow(s / (double)(n - 1), 0.25);
        h = 1.0 - (f1 / g) * (f1 / g);
        break;
    default:
        return td_fail(TD_ERR_INTERNAL, "zdt: problem %d is not a ZDT problem", (int)b->id);
    }
    obj[0] = f1;
    obj[1] = g * h;
    return TD_OK;
}

static td_status cs_dtlz2_evaluate(void *ctx, const double *x, uint64_t seed, double *obj,
                                   double *viol)
{
    const cs_problems_bench *b = ctx;
    size_t n = b->p.n_genes, m = b->p.n_obj;
    double g = 0.0;
    for (size_t i = m - 1; i < n; i++)
        g += (x[i] - 0.5) * (x[i] - 0.5);
    for (size_t k = 0; k < m; k++) {
        double f = 1.0 + g;
        for (size_t i = 0; i + 1 < m - k; i++)
            f *= cos(x[i] * M_PI / 2.0);
        if (k > 0)
            f *= sin(x[m - k - 1] * M_PI / 2.0);
        obj[k] = f;
    }
    return TD_OK;
}

td_status cs_problems_init(cs_problems_bench *b, cs_problems_id id)
{
    memset(b, 0, sizeof *b);
    if (id < 0 || id >= CS_PROBLEMS_ID_COUNT)
        return td_fail(TD_ERR_CONFIG, "unknown problem id %d", (int)id);
    b->id = id;
    size_t n = 30, m = 2;
    if (id == CS_PROBLEMS_ZDT4 || id == CS_PROBLEMS_ZDT6)
        n = 10;
    if (id == CS_PROBLEMS_DTLZ2) {
        m = 3;
        n = m + 10 - 1;
    }
    for (size_t i = 0; i < n; i++) {
        b->genes[i].kind = CS_GENE_REAL;
        b->genes[i].lo = 0.0;
        b->genes[i].hi = 1.0;
        if (id == CS_PROBLEMS_ZDT4 && i > 0) {
            b->genes[i].lo = -5.0;
            b->genes[i].hi = 5.0;
        }
    }
    b->p.name = cs_problems_names[id];
    b->p.n_genes = n;
    b->p.genes = b->genes;
    b->p.n_obj = m;
    b->p.n_con = 0;
    b->p.ctx = b;
    b->p.evaluate = id == CS_PROBLEMS_DTLZ2 ? cs_dtlz2_evaluate : cs_zdt_evaluate;
    return TD_OK;
}
