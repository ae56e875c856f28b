/* Loading a run for reports: the latest run record of runs/NAME/archive.sqlite, read-only,
 * in one read transaction so that a search still writing sees a consistent snapshot. */
#include "rep_report.h"

#include "cs_archive.h"
#include "cs_config.h"
#include "td_config.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dup_text(const unsigned char *t)
{
    return t ? strdup((const char *)t) : NULL;
}

static void copy_hash(char out[17], const unsigned char *t)
{
    snprintf(out, 17, "%s", t ? (const char *)t : "");
}

const char *rep_unit_of(const char *name)
{
    static const struct {
        const char *suffix, *unit;
    } units[] = {
        {"_ms", "ms"},         {"_us", "us"},       {"_s", "s"},       {"_uj", "uJ"},
        {"_nj", "nJ"},         {"_pj", "pJ"},       {"_mw", "mW"},     {"_w", "W"},
        {"_mm2", "mm2"},       {"_um2", "um2"},     {"_mhz", "MHz"},   {"_gbps", "GB/s"},
        {"_kib", "KiB"},       {"_bytes", "bytes"}, {"_tops", "TOPS"}, {"_per_s", "1/s"},
        {"_cycles", "cycles"},
    };
    static const struct {
        const char *name, *unit;
    } exact[] = {
        {"error", "fraction"}, {"accuracy", "fraction"}, {"params", "count"},
        {"macs", "count"},     {"cycles", "cycles"},     {"utilization", "fraction"},
        {"violation", ""},     {"peak_tops", "TOPS"},    {"effective_tops", "TOPS"},
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i].name) == 0)
            return exact[i].unit;
    size_t n = strlen(name);
    if (n >= 8 && strcmp(name + n - 8, "accuracy") == 0)
        return "fraction";
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t k = strlen(units[i].suffix);
        if (n > k && strcmp(name + n - k, units[i].suffix) == 0)
            return units[i].unit;
    }
    return "";
}

static td_status db_fail(const rep_run *r, sqlite3 *db, const char *what)
{
    return td_fail(TD_ERR_DB, "%s: %s: %s", r->archive_path, what, sqlite3_errmsg(db));
}

/* The value of one config key as text, for the summary tables. */
static json_t *config_value_text(const td_config *cfg, const td_cfg_key *k)
{
    char buf[1024];
    size_t used = 0;
    buf[0] = '\0';
    switch (k->type) {
    case TD_CFG_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)td_config_int(cfg, k->path));
        break;
    case TD_CFG_FLOAT:
        snprintf(buf, sizeof buf, "%.10g", td_config_float(cfg, k->path));
        break;
    case TD_CFG_BOOL:
        snprintf(buf, sizeof buf, "%s", td_config_bool(cfg, k->path) ? "true" : "false");
        break;
    case TD_CFG_STRING:
    case TD_CFG_ENUM:
        snprintf(buf, sizeof buf, "%s", td_config_str(cfg, k->path));
        break;
    default: {
        size_t n = td_config_list_len(cfg, k->path);
        used += (size_t)snprintf(buf, sizeof buf, "[");
        for (size_t i = 0; i < n && used < sizeof buf; i++) {
            const char *sep = i ? ", " : "";
            if (k->type == TD_CFG_INT_LIST)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%lld", sep,
                                         (long long)td_config_list_int(cfg, k->path, i));
            else if (k->type == TD_CFG_FLOAT_LIST)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%.10g", sep,
                                         td_config_list_float(cfg, k->path, i));
            else
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", sep,
                                         td_config_list_str(cfg, k->path, i));
        }
        if (used < sizeof buf)
            snprintf(buf + used, sizeof buf - used, "]");
    }
    }
    return json_pack("[s,s,s]", k->path, buf, k->help ? k->help : "");
}

/* Objectives, space and budget from the run's stored config (merged over this build's
 * defaults). A config this build cannot read leaves a note and generic objective names. */
static td_status load_config(rep_run *r)
{
    r->space = json_array();
    r->budget = json_array();
    td_config *cfg = NULL;
    td_status st = cs_config_load(&cfg, NULL, NULL, 0);
    if (st == TD_OK)
        st = td_config_merge_string(cfg, r->config_yaml ? r->config_yaml : "", "config_yaml");
    if (st != TD_OK) {
        snprintf(r->config_note, sizeof r->config_note,
                 "the run's config could not be read by this build: %s", td_error_message());
        td_error_clear();
        td_config_free(cfg);
        return TD_OK;
    }
    r->objectives_from_config = true;
    r->n_obj = td_config_list_len(cfg, "search.objectives");
    r->objectives = calloc(r->n_obj ? r->n_obj : 1, sizeof *r->objectives);
    if (!r->objectives) {
        td_config_free(cfg);
        return td_fail(TD_ERR_NOMEM, "%s: out of memory", r->dir);
    }
    for (size_t i = 0; i < r->n_obj; i++)
        r->objectives[i] = strdup(td_config_list_str(cfg, "search.objectives", i));
    for (size_t i = 0; i < td_config_key_count(cfg); i++) {
        const td_cfg_key *k = td_config_key_at(cfg, i);
        if (strncmp(k->path, "space.", 6) == 0)
            json_array_append_new(r->space, config_value_text(cfg, k));
        else if (strncmp(k->path, "constraints.", 12) == 0 ||
                 strcmp(k->path, "search.population") == 0 ||
                 strcmp(k->path, "search.generations") == 0 ||
                 strcmp(k->path, "search.algorithm") == 0 ||
                 strcmp(k->path, "search.fidelity") == 0 ||
                 strcmp(k->path, "search.objectives") == 0 ||
                 strcmp(k->path, "search.eval_timeout_s") == 0)
            json_array_append_new(r->budget, config_value_text(cfg, k));
    }
    td_config_free(cfg);
    return TD_OK;
}

static td_status load_run_row(rep_run *r, sqlite3 *db)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT id, name, seed, config_yaml, tandem_version, started_at,"
                           " finished_at, status, wall_s FROM runs ORDER BY id DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(r, db, "cannot read the run record (is this a Tandem archive?)");
    td_status st = TD_OK;
    if (sqlite3_step(s) == SQLITE_ROW) {
        r->run_id = sqlite3_column_int64(s, 0);
        r->name = dup_text(sqlite3_column_text(s, 1));
        r->seed = sqlite3_column_int64(s, 2);
        r->config_yaml = dup_text(sqlite3_column_text(s, 3));
        r->version = dup_text(sqlite3_column_text(s, 4));
        r->started_at = dup_text(sqlite3_column_text(s, 5));
        r->finished_at = dup_text(sqlite3_column_text(s, 6));
        r->status = dup_text(sqlite3_column_text(s, 7));
        r->wall_s = sqlite3_column_type(s, 8) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 8);
    } else {
        st = td_fail(TD_ERR_FORMAT, "%s: holds no run record (the search has not started?)",
                     r->archive_path);
    }
    sqlite3_finalize(s);
    return st;
}

/* Objective values from the stored JSON array; null or missing entries are NaN. */
static td_status decode_objectives(rep_run *r, rep_eval *e)
{
    e->obj = malloc((r->n_obj ? r->n_obj : 1) * sizeof *e->obj);
    if (!e->obj)
        return td_fail(TD_ERR_NOMEM, "%s: out of memory", r->dir);
    for (size_t i = 0; i < r->n_obj; i++) {
        json_t *v = json_array_get(e->objectives, i);
        e->obj[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return TD_OK;
}

static td_status load_evals(rep_run *r, sqlite3 *db)
{
    sqlite3_stmt *s;
    int64_t count = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM evaluations WHERE run_id=?", -1, &s, NULL) !=
        SQLITE_OK)
        return db_fail(r, db, "cannot count evaluations");
    sqlite3_bind_int64(s, 1, r->run_id);
    if (sqlite3_step(s) == SQLITE_ROW)
        count = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    r->evals = calloc(count ? (size_t)count : 1, sizeof *r->evals);
    if (!r->evals)
        return td_fail(TD_ERR_NOMEM, "%s: out of memory for %lld evaluations", r->dir,
                       (long long)count);
    if (sqlite3_prepare_v2(db,
                           "SELECT id, candidate_hash, net_hash, hw_hash, generation, fidelity,"
                           " status, failure, genome, objectives, metrics, violation, seed,"
                           " wall_s, created_at FROM evaluations WHERE run_id=? ORDER BY id",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(r, db, "cannot read evaluations");
    sqlite3_bind_int64(s, 1, r->run_id);
    td_status st = TD_OK;
    int rc;
    while (st == TD_OK && r->n_evals < (size_t)count && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rep_eval *e = &r->evals[r->n_evals++];
        e->id = sqlite3_column_int64(s, 0);
        copy_hash(e->candidate_hash, sqlite3_column_text(s, 1));
        copy_hash(e->net_hash, sqlite3_column_text(s, 2));
        copy_hash(e->hw_hash, sqlite3_column_text(s, 3));
        e->generation = sqlite3_column_int64(s, 4);
        e->fidelity = dup_text(sqlite3_column_text(s, 5));
        const unsigned char *status = sqlite3_column_text(s, 6);
        e->ok = status && strcmp((const char *)status, "ok") == 0;
        e->failure = dup_text(sqlite3_column_text(s, 7));
        e->genome = dup_text(sqlite3_column_text(s, 8));
        e->violation = sqlite3_column_double(s, 11);
        copy_hash(e->seed, sqlite3_column_text(s, 12));
        e->wall_s = sqlite3_column_double(s, 13);
        e->created_at = dup_text(sqlite3_column_text(s, 14));
        if (!e->fidelity)
            e->fidelity = strdup("");
        json_error_t jerr;
        const char *otext = (const char *)sqlite3_column_text(s, 9);
        const char *mtext = (const char *)sqlite3_column_text(s, 10);
        e->objectives = json_loads(otext ? otext : "[]", 0, &jerr);
        if (!json_is_array(e->objectives)) {
            st = td_fail(TD_ERR_PARSE,
                         "%s: evaluation %lld: column 'objectives' is not a JSON array: %s",
                         r->archive_path, (long long)e->id,
                         e->objectives ? "another JSON value" : jerr.text);
            break;
        }
        e->metrics = json_loads(mtext ? mtext : "{}", 0, &jerr);
        if (!json_is_object(e->metrics)) {
            st = td_fail(
                TD_ERR_PARSE, "%s: evaluation %lld: column 'metrics' is not a JSON object: %s",
                r->archive_path, (long long)e->id, e->metrics ? "another JSON value" : jerr.text);
            break;
        }
        st = decode_objectives(r, e);
    }
    sqlite3_finalize(s);
    return st;
}

static td_status load_gens(rep_run *r, sqlite3 *db)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db,
                           "SELECT gen, hypervolume, evaluations, wall_s FROM generations"
                           " WHERE run_id=? ORDER BY gen",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(r, db, "cannot read generations");
    sqlite3_bind_int64(s, 1, r->run_id);
    size_t cap = 0;
    td_status st = TD_OK;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (r->n_gens == cap) {
            cap = cap ? 2 * cap : 64;
            rep_gen *g = realloc(r->gens, cap * sizeof *g);
            if (!g) {
                st = td_fail(TD_ERR_NOMEM, "%s: out of memory", r->dir);
                break;
            }
            r->gens = g;
        }
        rep_gen *g = &r->gens[r->n_gens++];
        g->gen = sqlite3_column_int64(s, 0);
        g->hypervolume =
            sqlite3_column_type(s, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(s, 1);
        g->evaluations = sqlite3_column_int64(s, 2);
        g->wall_s = sqlite3_column_double(s, 3);
    }
    sqlite3_finalize(s);
    return st;
}

static td_status load_misc(rep_run *r, sqlite3 *db)
{
    sqlite3_stmt *s;
    r->meta = json_object();
    if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta", -1, &s, NULL) == SQLITE_OK) {
        while (sqlite3_step(s) == SQLITE_ROW)
            json_object_set_new(r->meta, (const char *)sqlite3_column_text(s, 0),
                                json_string((const char *)sqlite3_column_text(s, 1)));
        sqlite3_finalize(s);
    }
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM accuracy_cache", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            r->cache_entries = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    return TD_OK;
}

static int find_eval(const rep_run *r, int64_t id)
{
    size_t lo = 0, hi = r->n_evals;
    while (lo < hi) { /* evals are sorted by id */
        size_t mid = (lo + hi) / 2;
        if (r->evals[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n_evals && r->evals[lo].id == id ? (int)lo : -1;
}

static bool dominates(const rep_run *r, const rep_eval *a, const rep_eval *b)
{
    bool better = false;
    for (size_t k = 0; k < r->n_obj; k++) {
        if (a->obj[k] > b->obj[k])
            return false;
        if (a->obj[k] < b->obj[k])
            better = true;
    }
    return better;
}

static bool plottable(const rep_run *r, const rep_eval *e)
{
    if (!e->ok || strcmp(e->fidelity, r->primary_fidelity) != 0)
        return false;
    for (size_t k = 0; k < r->n_obj; k++)
        if (!isfinite(e->obj[k]))
            return false;
    return true;
}

static td_status load_front(rep_run *r, sqlite3 *db)
{
    sqlite3_stmt *s;
    size_t marked = 0;
    if (sqlite3_prepare_v2(db, "SELECT evaluation_id FROM front WHERE run_id=?", -1, &s, NULL) !=
        SQLITE_OK)
        return db_fail(r, db, "cannot read the front");
    sqlite3_bind_int64(s, 1, r->run_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int i = find_eval(r, sqlite3_column_int64(s, 0));
        if (i >= 0) {
            r->evals[i].on_front = true;
            marked++;
        }
    }
    sqlite3_finalize(s);
    /* The primary fidelity: that of the front when there is one, else the most common. */
    const char *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < r->n_evals; i++) {
        if (marked && !r->evals[i].on_front)
            continue;
        size_t n = 0;
        for (size_t j = 0; j < r->n_evals; j++)
            if ((!marked || r->evals[j].on_front) &&
                strcmp(r->evals[j].fidelity, r->evals[i].fidelity) == 0)
                n++;
        if (n > best_n) {
            best_n = n;
            best = r->evals[i].fidelity;
        }
        if (best_n * 2 > r->n_evals) /* a majority: done */
            break;
    }
    r->primary_fidelity = strdup(best ? best : "analytical");
    if (marked) {
        r->front_source = REP_FRONT_ARCHIVE;
        return TD_OK;
    }
    /* No front stored yet (a run that just started): the non-dominated feasible points. */
    size_t n_front = 0;
    for (size_t i = 0; i < r->n_evals; i++) {
        rep_eval *e = &r->evals[i];
        if (!plottable(r, e) || e->violation > 0)
            continue;
        bool dominated = false;
        for (size_t j = 0; j < r->n_evals && !dominated; j++)
            dominated = j != i && plottable(r, &r->evals[j]) && r->evals[j].violation <= 0 &&
                        dominates(r, &r->evals[j], e);
        e->on_front = !dominated;
        n_front += !dominated;
    }
    r->front_source = n_front ? REP_FRONT_COMPUTED : REP_FRONT_NONE;
    return TD_OK;
}

size_t rep_run_front(const rep_run *r, size_t **idx)
{
    size_t n = 0;
    *idx = malloc((r->n_evals ? r->n_evals : 1) * sizeof **idx);
    if (!*idx)
        return 0;
    for (size_t i = 0; i < r->n_evals; i++)
        if (r->evals[i].on_front && r->evals[i].ok &&
            strcmp(r->evals[i].fidelity, r->primary_fidelity) == 0)
            (*idx)[n++] = i;
    return n;
}

/* Objective names when the config could not be read: obj0, obj1, ... */
static td_status generic_objectives(rep_run *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_evals; i++)
        if (json_array_size(r->evals[i].objectives) > n)
            n = json_array_size(r->evals[i].objectives);
    r->n_obj = n;
    r->objectives = calloc(n ? n : 1, sizeof *r->objectives);
    if (!r->objectives)
        return td_fail(TD_ERR_NOMEM, "%s: out of memory", r->dir);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "obj%zu", i);
        r->objectives[i] = strdup(name);
    }
    return TD_OK;
}

td_status rep_run_load(rep_run *r, const char *run_dir)
{
    memset(r, 0, sizeof *r);
    r->wall_s = NAN;
    snprintf(r->dir, sizeof r->dir, "%s", run_dir);
    size_t n = strlen(r->dir);
    while (n > 1 && r->dir[n - 1] == '/')
        r->dir[--n] = '\0';
    snprintf(r->archive_path, sizeof r->archive_path, "%s/archive.sqlite", r->dir);
    struct stat sb;
    if (stat(r->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return td_fail(TD_ERR_IO, "%s: no such run directory", r->dir);
    if (stat(r->archive_path, &sb) != 0)
        return td_fail(TD_ERR_IO, "%s: no archive.sqlite here (is this a run directory?)", r->dir);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(r->archive_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        td_status st = td_fail(TD_ERR_DB, "%s: cannot open the archive: %s", r->archive_path,
                               db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return st;
    }
    sqlite3_busy_timeout(db, 10000);
    td_status st = TD_OK;
    sqlite3_stmt *s;
    int version = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            version = sqlite3_column_int(s, 0);
        sqlite3_finalize(s);
    }
    if (version < 0)
        st = td_fail(TD_ERR_FORMAT, "%s: is not a Tandem archive (not an SQLite database?)",
                     r->archive_path);
    else if (version == 0)
        st = td_fail(TD_ERR_FORMAT, "%s: is not a Tandem archive (no schema version)",
                     r->archive_path);
    else if (version > CS_ARCHIVE_SCHEMA_VERSION)
        st = td_fail(TD_ERR_FORMAT,
                     "%s: archive schema version %d is newer than this tandem reads (%d); use a "
                     "newer tandem",
                     r->archive_path, version, CS_ARCHIVE_SCHEMA_VERSION);
    if (st == TD_OK && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        st = db_fail(r, db, "cannot start a read transaction");
    if (st == TD_OK)
        st = load_run_row(r, db);
    if (st == TD_OK)
        st = load_config(r);
    if (st == TD_OK && !r->objectives_from_config)
        st = generic_objectives(r); /* n_obj 0 until the evaluations are read */
    if (st == TD_OK)
        st = load_evals(r, db);
    if (st == TD_OK && !r->objectives_from_config) {
        for (size_t i = 0; i < r->n_obj; i++)
            free(r->objectives[i]);
        free(r->objectives);
        r->objectives = NULL;
        st = generic_objectives(r);
        for (size_t i = 0; st == TD_OK && i < r->n_evals; i++) {
            free(r->evals[i].obj);
            st = decode_objectives(r, &r->evals[i]);
        }
    }
    if (st == TD_OK)
        st = load_gens(r, db);
    if (st == TD_OK)
        st = load_misc(r, db);
    if (st == TD_OK)
        st = load_front(r, db);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    if (st != TD_OK)
        rep_run_free(r);
    return st;
}

void rep_run_free(rep_run *r)
{
    for (size_t i = 0; i < r->n_evals; i++) {
        rep_eval *e = &r->evals[i];
        free(e->fidelity);
        free(e->failure);
        free(e->genome);
        free(e->created_at);
        free(e->obj);
        json_decref(e->objectives);
        json_decref(e->metrics);
    }
    free(r->evals);
    for (size_t i = 0; r->objectives && i < r->n_obj; i++)
        free(r->objectives[i]);
    free(r->objectives);
    free(r->gens);
    free(r->name);
    free(r->config_yaml);
    free(r->version);
    free(r->started_at);
    free(r->finished_at);
    free(r->status);
    free(r->primary_fidelity);
    json_decref(r->space);
    json_decref(r->budget);
    json_decref(r->meta);
    char dir[1024];
    memcpy(dir, r->dir, sizeof dir);
    memset(r, 0, sizeof *r);
    memcpy(r->dir, dir, sizeof dir);
}
