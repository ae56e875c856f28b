#include "cs_archive.h"

#include "td_hash.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE runs("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, seed INTEGER NOT NULL,"
    "  config_yaml TEXT NOT NULL, tandem_version TEXT NOT NULL,"
    "  started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL DEFAULT 'running',"
    "  wall_s REAL);"
    "CREATE TABLE evaluations("
    "  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id),"
    "  candidate_hash TEXT NOT NULL, net_hash TEXT NOT NULL, hw_hash TEXT NOT NULL,"
    "  generation INTEGER NOT NULL, fidelity TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok','failed')), failure TEXT,"
    "  genome TEXT NOT NULL, objectives TEXT NOT NULL, metrics TEXT NOT NULL,"
    "  violation REAL NOT NULL, seed TEXT NOT NULL, wall_s REAL NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE(run_id, candidate_hash, fidelity));"
    "CREATE TABLE generations("
    "  run_id INTEGER NOT NULL REFERENCES runs(id), gen INTEGER NOT NULL,"
    "  hypervolume REAL, evaluations INTEGER NOT NULL, wall_s REAL NOT NULL,"
    "  PRIMARY KEY(run_id, gen));"
    "CREATE TABLE population("
    "  run_id INTEGER NOT NULL, gen INTEGER NOT NULL, slot INTEGER NOT NULL,"
    "  evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),"
    "  rank INTEGER NOT NULL, crowding REAL,"
    "  PRIMARY KEY(run_id, gen, slot));"
    "CREATE TABLE front("
    "  run_id INTEGER NOT NULL, evaluation_id INTEGER NOT NULL REFERENCES evaluations(id),"
    "  PRIMARY KEY(run_id, evaluation_id));"
    "CREATE TABLE accuracy_cache("
    "  net_hash TEXT NOT NULL, bits INTEGER NOT NULL, budget_hash TEXT NOT NULL,"
    "  seed TEXT NOT NULL, float_accuracy REAL NOT NULL, int_accuracy REAL NOT NULL,"
    "  wall_s REAL NOT NULL, created_at TEXT NOT NULL,"
    "  PRIMARY KEY(net_hash, bits, budget_hash, seed));"
    "CREATE INDEX evaluations_run ON evaluations(run_id, generation);";

static sqlite3 *db_of(const cs_archive *a)
{
    return (sqlite3 *)a->db;
}

static td_status db_fail(cs_archive *a, const char *what)
{
    return td_fail(TD_ERR_DB, "%s: %s: %s", a->path, what, sqlite3_errmsg(db_of(a)));
}

static td_status exec(cs_archive *a, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db_of(a), sql, NULL, NULL, &err) != SQLITE_OK) {
        td_status st = td_fail(TD_ERR_DB, "%s: %s", a->path, err ? err : "SQL error");
        sqlite3_free(err);
        return st;
    }
    return TD_OK;
}

static void now_iso(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static td_status read_user_version(cs_archive *a, int *version)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db_of(a), "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return db_fail(a, "cannot read the schema version");
    int rc = sqlite3_step(s);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return td_fail(TD_ERR_DB, "%s: is not a Tandem archive (not an SQLite database?)", a->path);
    return TD_OK;
}

td_status cs_archive_open(cs_archive *a, const char *path, bool create)
{
    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s", path);
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists && !create)
        return td_fail(TD_ERR_IO, "%s: no archive here (is this a run directory?)", path);
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        td_status st = td_fail(TD_ERR_DB, "%s: cannot open archive: %s", path,
                               db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return st;
    }
    a->db = db;
    sqlite3_busy_timeout(db, 10000);
    int version;
    td_status st = read_user_version(a, &version);
    if (st == TD_OK && version == 0) {
        /* A brand-new file gets the schema; an existing non-empty one is not ours. */
        sqlite3_stmt *s;
        int tables = 0;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &s, NULL) ==
            SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                tables = sqlite3_column_int(s, 0);
            sqlite3_finalize(s);
        }
        if (tables > 0) {
            st = td_fail(TD_ERR_FORMAT, "%s: is an SQLite database but not a Tandem archive", path);
        } else {
            char sql[128];
            st = exec(a, "PRAGMA journal_mode=WAL");
            if (st == TD_OK)
                st = exec(a, "BEGIN");
            if (st == TD_OK)
                st = exec(a, schema_sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO meta VALUES('schema_version','%d');PRAGMA user_version=%d;",
                     CS_ARCHIVE_SCHEMA_VERSION, CS_ARCHIVE_SCHEMA_VERSION);
            if (st == TD_OK)
                st = exec(a, sql);
            st = st == TD_OK ? exec(a, "COMMIT") : (exec(a, "ROLLBACK"), st);
        }
    } else if (st == TD_OK && version > CS_ARCHIVE_SCHEMA_VERSION) {
        st = td_fail(TD_ERR_FORMAT,
                     "%s: archive schema version %d is newer than this tandem supports (%d); "
                     "use a newer tandem to open it",
                     path, version, CS_ARCHIVE_SCHEMA_VERSION);
    } else if (st == TD_OK) {
        st = exec(a, "PRAGMA journal_mode=WAL");
    }
    if (st == TD_OK)
        st = exec(a, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON");
    if (st != TD_OK) {
        sqlite3_close(db);
        a->db = NULL;
    }
    return st;
}

void cs_archive_close(cs_archive *a)
{
    if (a->db)
        sqlite3_close(db_of(a));
    a->db = NULL;
}

int cs_archive_schema_version(const cs_archive *a)
{
    int v = 0;
    read_user_version((cs_archive *)a, &v);
    return v;
}

static td_status prepare(cs_archive *a, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(db_of(a), sql, -1, s, NULL) != SQLITE_OK)
        return db_fail(a, "cannot prepare a statement");
    return TD_OK;
}

static td_status step_done(cs_archive *a, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    td_status st = rc == SQLITE_DONE ? TD_OK : db_fail(a, what);
    sqlite3_finalize(s);
    return st;
}

static void bind_hash(sqlite3_stmt *s, int i, uint64_t h)
{
    char hex[17];
    td_hash_hex(h, hex);
    sqlite3_bind_text(s, i, hex, -1, SQLITE_TRANSIENT);
}

td_status cs_archive_run_begin(cs_archive *a, const char *name, int64_t seed,
                               const char *config_yaml, const char *version)
{
    sqlite3_stmt *s;
    char now[32];
    now_iso(now);
    td_status st = prepare(a,
                           "INSERT INTO runs(name, seed, config_yaml, tandem_version, started_at)"
                           " VALUES(?,?,?,?,?)",
                           &s);
    if (st != TD_OK)
        return st;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, seed);
    sqlite3_bind_text(s, 3, config_yaml, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, version, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, now, -1, SQLITE_TRANSIENT);
    st = step_done(a, s, "cannot record the run");
    if (st == TD_OK)
        a->run_id = sqlite3_last_insert_rowid(db_of(a));
    return st;
}

td_status cs_archive_run_resume(cs_archive *a, int64_t *seed)
{
    sqlite3_stmt *s;
    td_status st = prepare(a, "SELECT id, seed FROM runs ORDER BY id DESC LIMIT 1", &s);
    if (st != TD_OK)
        return st;
    if (sqlite3_step(s) == SQLITE_ROW) {
        a->run_id = sqlite3_column_int64(s, 0);
        if (seed)
            *seed = sqlite3_column_int64(s, 1);
    } else {
        st = td_fail(TD_ERR_FORMAT, "%s: holds no run to resume", a->path);
    }
    sqlite3_finalize(s);
    if (st == TD_OK)
        st = exec(a, "UPDATE runs SET status='running' WHERE id=(SELECT max(id) FROM runs)");
    return st;
}

td_status cs_archive_run_finish(cs_archive *a, const char *status, double wall_s)
{
    sqlite3_stmt *s;
    char now[32];
    now_iso(now);
    td_status st = prepare(a, "UPDATE runs SET status=?, finished_at=?, wall_s=? WHERE id=?", &s);
    if (st != TD_OK)
        return st;
    sqlite3_bind_text(s, 1, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, now, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 3, wall_s);
    sqlite3_bind_int64(s, 4, a->run_id);
    return step_done(a, s, "cannot finish the run");
}

td_status cs_archive_add_evaluation(cs_archive *a, cs_eval_record *r)
{
    sqlite3_stmt *s;
    char now[32];
    now_iso(now);
    td_status st =
        prepare(a,
                "INSERT INTO evaluations(run_id, candidate_hash, net_hash, hw_hash, generation,"
                " fidelity, status, failure, genome, objectives, metrics, violation, seed, wall_s,"
                " created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                &s);
    if (st != TD_OK)
        return st;
    sqlite3_bind_int64(s, 1, a->run_id);
    bind_hash(s, 2, r->candidate_hash);
    bind_hash(s, 3, r->net_hash);
    bind_hash(s, 4, r->hw_hash);
    sqlite3_bind_int64(s, 5, r->generation);
    sqlite3_bind_text(s, 6, r->fidelity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 7, r->status == CS_EVAL_OK ? "ok" : "failed", -1, SQLITE_STATIC);
    if (r->failure)
        sqlite3_bind_text(s, 8, r->failure, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 8);
    sqlite3_bind_text(s, 9, r->genome_json ? r->genome_json : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 10, r->objectives_json ? r->objectives_json : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 11, r->metrics_json ? r->metrics_json : "{}", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(s, 12, r->violation);
    bind_hash(s, 13, r->seed);
    sqlite3_bind_double(s, 14, r->wall_s);
    sqlite3_bind_text(s, 15, now, -1, SQLITE_TRANSIENT);
    st = step_done(a, s, "cannot record the evaluation");
    if (st == TD_OK)
        r->id = sqlite3_last_insert_rowid(db_of(a));
    return st;
}

static const char *copy_text(sqlite3_stmt *s, int col, char **buf, size_t *left, bool *ok)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    if (!t)
        return NULL;
    size_t n = strlen((const char *)t) + 1;
    if (n > *left) {
        *ok = false;
        return NULL;
    }
    char *dst = *buf;
    memcpy(dst, t, n);
    *buf += n;
    *left -= n;
    return dst;
}

td_status cs_archive_find_evaluation(cs_archive *a, uint64_t candidate_hash, const char *fidelity,
                                     bool *found, cs_eval_record *out, char *buf, size_t buf_size)
{
    sqlite3_stmt *s;
    td_status st = prepare(a,
                           "SELECT id, net_hash, hw_hash, generation, status, failure, genome,"
                           " objectives, metrics, violation, seed, wall_s FROM evaluations"
                           " WHERE run_id=? AND candidate_hash=? AND fidelity=?",
                           &s);
    if (st != TD_OK)
        return st;
    sqlite3_bind_int64(s, 1, a->run_id);
    bind_hash(s, 2, candidate_hash);
    sqlite3_bind_text(s, 3, fidelity, -1, SQLITE_TRANSIENT);
    *found = false;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        bool ok = true;
        memset(out, 0, sizeof *out);
        out->id = sqlite3_column_int64(s, 0);
        out->candidate_hash = candidate_hash;
        td_hash_parse((const char *)sqlite3_column_text(s, 1), &out->net_hash);
        td_hash_parse((const char *)sqlite3_column_text(s, 2), &out->hw_hash);
        out->generation = sqlite3_column_int64(s, 3);
        out->fidelity = fidelity;
        out->status = strcmp((const char *)sqlite3_column_text(s, 4), "ok") == 0 ? CS_EVAL_OK
                                                                                 : CS_EVAL_FAILED;
        out->failure = copy_text(s, 5, &buf, &buf_size, &ok);
        out->genome_json = copy_text(s, 6, &buf, &buf_size, &ok);
        out->objectives_json = copy_text(s, 7, &buf, &buf_size, &ok);
        out->metrics_json = copy_text(s, 8, &buf, &buf_size, &ok);
        out->violation = sqlite3_column_double(s, 9);
        td_hash_parse((const char *)sqlite3_column_text(s, 10), &out->seed);
        out->wall_s = sqlite3_column_double(s, 11);
        *found = true;
        if (!ok)
            st = td_fail(TD_ERR_NOMEM, "%s: evaluation %lld does not fit the read buffer", a->path,
                         (long long)out->id);
    } else if (rc != SQLITE_DONE) {
        st = db_fail(a, "cannot read evaluations");
    }
    sqlite3_finalize(s);
    return st;
}

static int64_t scalar_int(cs_archive *a, const char *sql, int64_t dflt)
{
    sqlite3_stmt *s;
    int64_t v = dflt;
    if (sqlite3_prepare_v2(db_of(a), sql, -1, &s, NULL) != SQLITE_OK)
        return dflt;
    sqlite3_bind_int64(s, 1, a->run_id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

int64_t cs_archive_evaluation_count(cs_archive *a)
{
    return scalar_int(a, "SELECT count(*) FROM evaluations WHERE run_id=?", 0);
}

int64_t cs_archive_last_generation(cs_archive *a)
{
    return scalar_int(a, "SELECT max(gen) FROM generations WHERE run_id=?", -1);
}

td_status cs_archive_add_generation(cs_archive *a, int64_t gen, double hypervolume,
                                    int64_t evaluations, double wall_s, const int64_t *eval_ids,
                                    const int32_t *ranks, const double *crowding, int64_t n)
{
    td_status st = exec(a, "BEGIN IMMEDIATE");
    if (st != TD_OK)
        return st;
    sqlite3_stmt *s;
    st = prepare(a, "INSERT OR REPLACE INTO generations VALUES(?,?,?,?,?)", &s);
    if (st == TD_OK) {
        sqlite3_bind_int64(s, 1, a->run_id);
        sqlite3_bind_int64(s, 2, gen);
        if (hypervolume == hypervolume)
            sqlite3_bind_double(s, 3, hypervolume);
        else
            sqlite3_bind_null(s, 3);
        sqlite3_bind_int64(s, 4, evaluations);
        sqlite3_bind_double(s, 5, wall_s);
        st = step_done(a, s, "cannot record the generation");
    }
    for (int64_t i = 0; st == TD_OK && i < n; i++) {
        st = prepare(a, "INSERT OR REPLACE INTO population VALUES(?,?,?,?,?,?)", &s);
        if (st != TD_OK)
            break;
        sqlite3_bind_int64(s, 1, a->run_id);
        sqlite3_bind_int64(s, 2, gen);
        sqlite3_bind_int64(s, 3, i);
        sqlite3_bind_int64(s, 4, eval_ids[i]);
        sqlite3_bind_int(s, 5, ranks ? ranks[i] : 0);
        if (crowding && crowding[i] == crowding[i] && crowding[i] < 1e300)
            sqlite3_bind_double(s, 6, crowding[i]);
        else
            sqlite3_bind_null(s, 6); /* infinite crowding (extremes) */
        st = step_done(a, s, "cannot record the population");
    }
    if (st == TD_OK)
        return exec(a, "COMMIT");
    exec(a, "ROLLBACK");
    return st;
}

td_status cs_archive_set_front(cs_archive *a, const int64_t *eval_ids, int64_t n)
{
    td_status st = exec(a, "BEGIN IMMEDIATE");
    sqlite3_stmt *s;
    if (st == TD_OK && (st = prepare(a, "DELETE FROM front WHERE run_id=?", &s)) == TD_OK) {
        sqlite3_bind_int64(s, 1, a->run_id);
        st = step_done(a, s, "cannot clear the front");
    }
    for (int64_t i = 0; st == TD_OK && i < n; i++) {
        if ((st = prepare(a, "INSERT OR IGNORE INTO front VALUES(?,?)", &s)) != TD_OK)
            break;
        sqlite3_bind_int64(s, 1, a->run_id);
        sqlite3_bind_int64(s, 2, eval_ids[i]);
        st = step_done(a, s, "cannot record the front");
    }
    if (st == TD_OK)
        return exec(a, "COMMIT");
    exec(a, "ROLLBACK");
    return st;
}

td_status cs_archive_cache_get(cs_archive *a, uint64_t net_hash, int bits, uint64_t budget_hash,
                               uint64_t seed, bool *found, double *float_acc, double *int_acc)
{
    sqlite3_stmt *s;
    td_status st = prepare(a,
                           "SELECT float_accuracy, int_accuracy FROM accuracy_cache WHERE"
                           " net_hash=? AND bits=? AND budget_hash=? AND seed=?",
                           &s);
    if (st != TD_OK)
        return st;
    bind_hash(s, 1, net_hash);
    sqlite3_bind_int(s, 2, bits);
    bind_hash(s, 3, budget_hash);
    bind_hash(s, 4, seed);
    *found = sqlite3_step(s) == SQLITE_ROW;
    if (*found) {
        *float_acc = sqlite3_column_double(s, 0);
        *int_acc = sqlite3_column_double(s, 1);
    }
    sqlite3_finalize(s);
    return TD_OK;
}

td_status cs_archive_cache_put(cs_archive *a, uint64_t net_hash, int bits, uint64_t budget_hash,
                               uint64_t seed, double float_acc, double int_acc, double wall_s)
{
    sqlite3_stmt *s;
    char now[32];
    now_iso(now);
    td_status st = prepare(a, "INSERT OR REPLACE INTO accuracy_cache VALUES(?,?,?,?,?,?,?,?)", &s);
    if (st != TD_OK)
        return st;
    bind_hash(s, 1, net_hash);
    sqlite3_bind_int(s, 2, bits);
    bind_hash(s, 3, budget_hash);
    bind_hash(s, 4, seed);
    sqlite3_bind_double(s, 5, float_acc);
    sqlite3_bind_double(s, 6, int_acc);
    sqlite3_bind_double(s, 7, wall_s);
    sqlite3_bind_text(s, 8, now, -1, SQLITE_TRANSIENT);
    return step_done(a, s, "cannot record a cached accuracy");
}
