#include "td_config.h"

#include <ctype.h>
#include <errno.h>
#include <libfyaml.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cfg_value {
    int64_t i;
    double f;
    bool b;
    char *s;     /* STRING / ENUM */
    size_t n;    /* list length */
    int64_t *il; /* INT_LIST */
    double *fl;  /* FLOAT_LIST */
    char **sl;   /* ENUM_LIST */
    char origin[192];
} cfg_value;

struct td_config {
    const td_cfg_key **keys;
    cfg_value *values;
    size_t count;
};

/* ---------------------------------------------------------------- values */

static void value_clear(cfg_value *v)
{
    free(v->s);
    free(v->il);
    free(v->fl);
    for (size_t i = 0; v->sl && i < v->n; i++)
        free(v->sl[i]);
    free(v->sl);
    memset(v, 0, sizeof *v);
}

static const char *type_noun(td_cfg_type t)
{
    switch (t) {
    case TD_CFG_INT:
        return "an integer";
    case TD_CFG_FLOAT:
        return "a number";
    case TD_CFG_BOOL:
        return "true or false";
    case TD_CFG_STRING:
        return "a string";
    case TD_CFG_ENUM:
        return "one of the listed choices";
    case TD_CFG_INT_LIST:
        return "a list of integers";
    case TD_CFG_FLOAT_LIST:
        return "a list of numbers";
    case TD_CFG_ENUM_LIST:
        return "a list of choices";
    default:
        return "a value";
    }
}

static bool parse_int_text(const char *s, int64_t *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool parse_float_text(const char *s, double *out)
{
    if (!*s)
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static bool parse_bool_text(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (int i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool choice_ok(const char *choices, const char *s)
{
    size_t n = strlen(s);
    const char *p = choices;
    while (p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        p = bar ? bar + 1 : NULL;
    }
    return false;
}

static bool range_checked(const td_cfg_key *k)
{
    return !(k->min == 0 && k->max == 0);
}

/* Text of a scalar node, NUL-terminated, or NULL for null / non-scalars. */
static char *scalar_dup(struct fy_node *n)
{
    if (!n || !fy_node_is_scalar(n) || fy_node_is_null(n))
        return NULL;
    size_t len;
    const char *t = fy_node_get_scalar(n, &len);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, t, len);
    s[len] = '\0';
    return s;
}

static void node_where(struct fy_node *n, const char *file, char *out, size_t out_size)
{
    struct fy_token *t = n ? fy_node_get_scalar_token(n) : NULL;
    if (t) {
        const struct fy_mark *m = fy_token_start_mark(t);
        if (m) {
            snprintf(out, out_size, "%s:%d:%d", file, m->line + 1, m->column + 1);
            return;
        }
    }
    snprintf(out, out_size, "%s", file);
}

static td_status scalar_value(const td_cfg_key *k, td_cfg_type elem, const char *text,
                              const char *where, cfg_value *v, size_t idx)
{
    const char *shown = text ? text : "null";
    if (!text)
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects %s, got null", where, k->path,
                       type_noun(elem));
    switch (elem) {
    case TD_CFG_INT: {
        int64_t x;
        if (!parse_int_text(text, &x))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects an integer, got '%s'", where,
                           k->path, shown);
        if (range_checked(k) && (x < k->min || x > k->max))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': value %lld is out of range [%g, %g]",
                           where, k->path, (long long)x, k->min, k->max);
        if (k->type == TD_CFG_INT_LIST)
            v->il[idx] = x;
        else
            v->i = x;
        return TD_OK;
    }
    case TD_CFG_FLOAT: {
        double x;
        if (!parse_float_text(text, &x))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects a number, got '%s'", where,
                           k->path, shown);
        if (range_checked(k) && (x < k->min || x > k->max))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': value %g is out of range [%g, %g]", where,
                           k->path, x, k->min, k->max);
        if (k->type == TD_CFG_FLOAT_LIST)
            v->fl[idx] = x;
        else
            v->f = x;
        return TD_OK;
    }
    case TD_CFG_BOOL:
        if (!parse_bool_text(text, &v->b))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects true or false, got '%s'", where,
                           k->path, shown);
        return TD_OK;
    case TD_CFG_STRING:
        v->s = strdup(text);
        return v->s ? TD_OK : td_fail(TD_ERR_NOMEM, "out of memory");
    case TD_CFG_ENUM: {
        if (!choice_ok(k->choices, text))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': '%s' is not one of %s", where, k->path,
                           text, k->choices);
        char *s = strdup(text);
        if (!s)
            return td_fail(TD_ERR_NOMEM, "out of memory");
        if (k->type == TD_CFG_ENUM_LIST)
            v->sl[idx] = s;
        else
            v->s = s;
        return TD_OK;
    }
    default:
        return td_fail(TD_ERR_INTERNAL, "key '%s': bad schema type", k->path);
    }
}

/* Parses node n (a scalar or a sequence) into v according to k. */
static td_status node_value(const td_cfg_key *k, struct fy_node *n, const char *file,
                            struct fy_node *key_node, cfg_value *v)
{
    char where[256];
    node_where(n && fy_node_is_scalar(n) ? n : key_node, file, where, sizeof where);
    snprintf(v->origin, sizeof v->origin, "%s", where);
    bool is_list =
        k->type == TD_CFG_INT_LIST || k->type == TD_CFG_FLOAT_LIST || k->type == TD_CFG_ENUM_LIST;
    if (!is_list) {
        if (n && !fy_node_is_scalar(n))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects %s, got a %s", where, k->path,
                           type_noun(k->type), fy_node_is_mapping(n) ? "mapping" : "list");
        char *text = scalar_dup(n);
        td_status st;
        if (!text && k->type == TD_CFG_STRING) {
            v->s = strdup("");
            st = v->s ? TD_OK : td_fail(TD_ERR_NOMEM, "out of memory");
        } else {
            st = scalar_value(k, k->type, text, where, v, 0);
        }
        free(text);
        return st;
    }
    td_cfg_type elem = k->type == TD_CFG_INT_LIST     ? TD_CFG_INT
                       : k->type == TD_CFG_FLOAT_LIST ? TD_CFG_FLOAT
                                                      : TD_CFG_ENUM;
    size_t count = 0;
    if (n && !fy_node_is_null(n)) {
        if (!fy_node_is_sequence(n))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects %s like [a, b], got %s", where,
                           k->path, type_noun(k->type),
                           fy_node_is_mapping(n) ? "a mapping" : "a single value");
        count = (size_t)fy_node_sequence_item_count(n);
    }
    if ((k->min_len && count < (size_t)k->min_len) || (k->max_len && count > (size_t)k->max_len)) {
        if (k->min_len == k->max_len)
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects exactly %d elements, got %zu",
                           where, k->path, k->min_len, count);
        return td_fail(TD_ERR_CONFIG, "%s: key '%s': expects %d to %d elements, got %zu", where,
                       k->path, k->min_len, k->max_len, count);
    }
    v->n = count;
    if (count) {
        v->il = elem == TD_CFG_INT ? calloc(count, sizeof *v->il) : NULL;
        v->fl = elem == TD_CFG_FLOAT ? calloc(count, sizeof *v->fl) : NULL;
        v->sl = elem == TD_CFG_ENUM ? calloc(count, sizeof *v->sl) : NULL;
        if (!v->il && !v->fl && !v->sl)
            return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    void *iter = NULL;
    struct fy_node *item;
    size_t i = 0;
    while (count && (item = fy_node_sequence_iterate(n, &iter)) != NULL) {
        char iw[300];
        node_where(item, file, iw, sizeof iw);
        if (!fy_node_is_scalar(item))
            return td_fail(TD_ERR_CONFIG, "%s: key '%s': element %zu must be a scalar", iw, k->path,
                           i + 1);
        char *text = scalar_dup(item);
        td_status st = scalar_value(k, elem, text, iw, v, i);
        free(text);
        if (st != TD_OK)
            return st;
        i++;
    }
    return TD_OK;
}

/* ---------------------------------------------------------------- schema */

static long key_index(const td_config *cfg, const char *path)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (strcmp(cfg->keys[i]->path, path) == 0)
            return (long)i;
    return -1;
}

static bool is_section(const td_config *cfg, const char *prefix)
{
    size_t n = strlen(prefix);
    for (size_t i = 0; i < cfg->count; i++)
        if (strncmp(cfg->keys[i]->path, prefix, n) == 0 && cfg->keys[i]->path[n] == '.')
            return true;
    return false;
}

size_t td_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *prev = malloc((lb + 1) * sizeof *prev), *cur = malloc((lb + 1) * sizeof *cur);
    if (!prev || !cur) {
        free(prev);
        free(cur);
        return (size_t)-1;
    }
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] +
                         (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t d = prev[lb];
    free(prev);
    free(cur);
    return d;
}

/* Closest known key or section for an unknown path, or NULL if nothing is close. */
static const char *suggest(const td_config *cfg, const char *path, char *buf, size_t buf_size)
{
    size_t best = (size_t)-1;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->count; i++) {
        /* Compare against the key and against each of its section prefixes. */
        const char *p = cfg->keys[i]->path;
        char cand[256];
        for (const char *dot = p;; dot = strchr(dot + 1, '.')) {
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            if (len == 0 || len >= sizeof cand) {
                if (!dot)
                    break;
                continue;
            }
            memcpy(cand, p, len);
            cand[len] = '\0';
            size_t d = td_edit_distance(path, cand);
            if (d < best) {
                best = d;
                snprintf(buf, buf_size, "%s", cand);
            }
            if (!dot)
                break;
        }
    }
    const char *last = strrchr(path, '.');
    size_t len = strlen(last ? last + 1 : path);
    size_t limit = len <= 4 ? 1 : (len <= 8 ? 2 : 3);
    return best <= limit ? buf : NULL;
}

td_status td_config_init(td_config **out, const td_cfg_key *const *tables)
{
    td_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    size_t n = 0;
    for (size_t t = 0; tables[t]; t++)
        for (const td_cfg_key *k = tables[t]; k->path; k++)
            n++;
    cfg->keys = calloc(n ? n : 1, sizeof *cfg->keys);
    cfg->values = calloc(n ? n : 1, sizeof *cfg->values);
    if (!cfg->keys || !cfg->values) {
        td_config_free(cfg);
        return td_fail(TD_ERR_NOMEM, "out of memory");
    }
    for (size_t t = 0; tables[t]; t++) {
        for (const td_cfg_key *k = tables[t]; k->path; k++) {
            if (key_index(cfg, k->path) >= 0) {
                td_config_free(cfg);
                return td_fail(TD_ERR_INTERNAL, "config schema: key '%s' declared twice", k->path);
            }
            cfg->keys[cfg->count++] = k;
        }
    }
    /* Defaults are YAML text parsed by the same code as files, so they obey the schema. */
    for (size_t i = 0; i < cfg->count; i++) {
        const td_cfg_key *k = cfg->keys[i];
        struct fy_document *doc = fy_document_build_from_string(NULL, k->def ? k->def : "", FY_NT);
        struct fy_node *root = doc ? fy_document_root(doc) : NULL;
        td_status st = node_value(k, root, "default", NULL, &cfg->values[i]);
        snprintf(cfg->values[i].origin, sizeof cfg->values[i].origin, "default");
        fy_document_destroy(doc);
        if (st != TD_OK) {
            td_config_free(cfg);
            return td_fail_context(TD_ERR_INTERNAL, "config schema: ");
        }
    }
    *out = cfg;
    return TD_OK;
}

void td_config_free(td_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->count; i++)
        value_clear(&cfg->values[i]);
    free(cfg->values);
    free(cfg->keys);
    free(cfg);
}

/* ---------------------------------------------------------------- merging */

typedef struct staged {
    size_t index;
    cfg_value value;
} staged;

typedef struct merge_state {
    td_config *cfg;
    const char *file;
    staged *items;
    size_t n, cap;
} merge_state;

static td_status stage_value(merge_state *m, size_t index, cfg_value *v)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        staged *p = realloc(m->items, cap * sizeof *p);
        if (!p)
            return td_fail(TD_ERR_NOMEM, "out of memory");
        m->items = p;
        m->cap = cap;
    }
    m->items[m->n].index = index;
    m->items[m->n].value = *v;
    m->n++;
    return TD_OK;
}

static td_status merge_mapping(merge_state *m, struct fy_node *map, const char *prefix)
{
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        struct fy_node *kn = fy_node_pair_key(pair);
        struct fy_node *vn = fy_node_pair_value(pair);
        char where[256];
        node_where(kn, m->file, where, sizeof where);
        char *name = scalar_dup(kn);
        if (!name)
            return td_fail(TD_ERR_CONFIG, "%s: keys must be plain names", where);
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", name);
        free(name);
        long idx = key_index(m->cfg, path);
        if (idx >= 0) {
            cfg_value v = {0};
            td_status st = node_value(m->cfg->keys[idx], vn, m->file, kn, &v);
            if (st == TD_OK)
                st = stage_value(m, (size_t)idx, &v);
            if (st != TD_OK) {
                value_clear(&v);
                return st;
            }
        } else if (is_section(m->cfg, path)) {
            if (vn && fy_node_is_null(vn))
                continue; /* "section:" with nothing under it keeps the defaults */
            if (!vn || !fy_node_is_mapping(vn))
                return td_fail(TD_ERR_CONFIG, "%s: key '%s' is a section and expects a mapping",
                               where, path);
            td_status st = merge_mapping(m, vn, path);
            if (st != TD_OK)
                return st;
        } else {
            char buf[256];
            const char *hint = suggest(m->cfg, path, buf, sizeof buf);
            if (hint)
                return td_fail(TD_ERR_CONFIG, "%s: unknown key '%s' (did you mean '%s'?)", where,
                               path, hint);
            return td_fail(TD_ERR_CONFIG, "%s: unknown key '%s'", where, path);
        }
    }
    return TD_OK;
}

static void diag_collect(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    char *dst = user;
    size_t have = strlen(dst);
    if (have == 0 && len) {
        size_t n = len < 1023 ? len : 1023;
        memcpy(dst, buf, n);
        dst[n] = '\0';
        /* keep the first line only */
        char *nl = strchr(dst, '\n');
        if (nl)
            *nl = '\0';
    }
}

static td_status merge_document(td_config *cfg, struct fy_document *doc, const char *file)
{
    struct fy_node *root = fy_document_root(doc);
    if (!root || fy_node_is_null(root))
        return td_fail(TD_ERR_CONFIG, "%s: config is empty", file);
    if (!fy_node_is_mapping(root))
        return td_fail(TD_ERR_CONFIG, "%s: the top level of a config must be a mapping of keys",
                       file);
    merge_state m = {.cfg = cfg, .file = file};
    td_status st = merge_mapping(&m, root, "");
    for (size_t i = 0; i < m.n; i++) {
        if (st == TD_OK) {
            value_clear(&cfg->values[m.items[i].index]);
            cfg->values[m.items[i].index] = m.items[i].value;
        } else {
            value_clear(&m.items[i].value);
        }
    }
    free(m.items);
    return st;
}

static td_status merge_source(td_config *cfg, const char *text, size_t len, const char *origin)
{
    char diag_msg[1024] = "";
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_collect;
    dcfg.user = diag_msg;
    dcfg.colorize = false;
    dcfg.show_source = false;
    dcfg.show_position = false;
    dcfg.show_type = false;
    dcfg.show_module = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
    struct fy_document *doc = fy_document_build_from_string(&pcfg, text, len);
    td_status st;
    if (!doc) {
        int line = 0, col = 0;
        void *it = NULL;
        struct fy_diag_error *e = diag ? fy_diag_errors_iterate(diag, &it) : NULL;
        const char *msg = diag_msg;
        if (e) {
            line = e->line;
            col = e->column;
            if (e->msg)
                msg = e->msg;
        }
        while (*msg == ' ')
            msg++;
        if (line > 0 || col > 0)
            st = td_fail(TD_ERR_PARSE, "%s:%d:%d: invalid YAML: %s", origin, line + 1, col + 1,
                         *msg ? msg : "syntax error");
        else
            st = td_fail(TD_ERR_PARSE, "%s: invalid YAML: %s", origin, *msg ? msg : "syntax error");
    } else {
        st = merge_document(cfg, doc, origin);
        fy_document_destroy(doc);
    }
    if (diag)
        fy_diag_destroy(diag);
    return st;
}

td_status td_config_merge_string(td_config *cfg, const char *yaml, const char *origin)
{
    return merge_source(cfg, yaml, strlen(yaml), origin ? origin : "<string>");
}

td_status td_config_merge_file(td_config *cfg, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot open config: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(fp);
                return td_fail(TD_ERR_NOMEM, "%s: out of memory", path);
            }
            buf = p;
        }
        size_t got = fread(buf + len, 1, 4096, fp);
        len += got;
        if (got < 4096)
            break;
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return td_fail(TD_ERR_IO, "%s: read error", path);
    }
    buf[len] = '\0';
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++) {
        if (buf[i] == '#') {
            while (i < len && buf[i] != '\n')
                i++;
        } else if (!isspace((unsigned char)buf[i])) {
            blank = false;
        }
    }
    td_status st = blank ? td_fail(TD_ERR_CONFIG, "%s: config is empty", path)
                         : merge_source(cfg, buf, len, path);
    free(buf);
    return st;
}

td_status td_config_set(td_config *cfg, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return td_fail(TD_ERR_USAGE, "--set '%s': expected key=value", assignment);
    char path[256];
    size_t plen = (size_t)(eq - assignment);
    if (plen >= sizeof path)
        return td_fail(TD_ERR_USAGE, "--set: key too long");
    memcpy(path, assignment, plen);
    path[plen] = '\0';
    long idx = key_index(cfg, path);
    if (idx < 0) {
        char buf[256];
        const char *hint = suggest(cfg, path, buf, sizeof buf);
        if (hint)
            return td_fail(TD_ERR_CONFIG, "--set: unknown key '%s' (did you mean '%s'?)", path,
                           hint);
        return td_fail(TD_ERR_CONFIG, "--set: unknown key '%s'", path);
    }
    struct fy_document *doc = fy_document_build_from_string(NULL, eq + 1, FY_NT);
    if (!doc && eq[1] != '\0')
        return td_fail(TD_ERR_CONFIG, "--set: key '%s': value '%s' is not valid YAML", path,
                       eq + 1);
    cfg_value v = {0};
    td_status st =
        node_value(cfg->keys[idx], doc ? fy_document_root(doc) : NULL, "--set", NULL, &v);
    fy_document_destroy(doc);
    if (st != TD_OK) {
        value_clear(&v);
        return st;
    }
    snprintf(v.origin, sizeof v.origin, "--set");
    value_clear(&cfg->values[idx]);
    cfg->values[idx] = v;
    return TD_OK;
}

/* ---------------------------------------------------------------- getters */

static const cfg_value *get(const td_config *cfg, const char *path, td_cfg_type t1, td_cfg_type t2)
{
    long idx = key_index(cfg, path);
    if (idx < 0 || (cfg->keys[idx]->type != t1 && cfg->keys[idx]->type != t2)) {
        fprintf(stderr, "tandem: internal error: config key '%s' %s\n", path,
                idx < 0 ? "is not in the schema" : "read with the wrong type");
        abort();
    }
    return &cfg->values[idx];
}

int64_t td_config_int(const td_config *cfg, const char *path)
{
    return get(cfg, path, TD_CFG_INT, TD_CFG_INT)->i;
}

double td_config_float(const td_config *cfg, const char *path)
{
    long idx = key_index(cfg, path);
    if (idx >= 0 && cfg->keys[idx]->type == TD_CFG_INT)
        return (double)cfg->values[idx].i;
    return get(cfg, path, TD_CFG_FLOAT, TD_CFG_FLOAT)->f;
}

bool td_config_bool(const td_config *cfg, const char *path)
{
    return get(cfg, path, TD_CFG_BOOL, TD_CFG_BOOL)->b;
}

const char *td_config_str(const td_config *cfg, const char *path)
{
    return get(cfg, path, TD_CFG_STRING, TD_CFG_ENUM)->s;
}

size_t td_config_list_len(const td_config *cfg, const char *path)
{
    long idx = key_index(cfg, path);
    if (idx >= 0 && cfg->keys[idx]->type == TD_CFG_ENUM_LIST)
        return cfg->values[idx].n;
    return get(cfg, path, TD_CFG_INT_LIST, TD_CFG_FLOAT_LIST)->n;
}

int64_t td_config_list_int(const td_config *cfg, const char *path, size_t i)
{
    const cfg_value *v = get(cfg, path, TD_CFG_INT_LIST, TD_CFG_INT_LIST);
    if (i >= v->n)
        abort();
    return v->il[i];
}

double td_config_list_float(const td_config *cfg, const char *path, size_t i)
{
    long idx = key_index(cfg, path);
    if (idx >= 0 && cfg->keys[idx]->type == TD_CFG_INT_LIST)
        return (double)td_config_list_int(cfg, path, i);
    const cfg_value *v = get(cfg, path, TD_CFG_FLOAT_LIST, TD_CFG_FLOAT_LIST);
    if (i >= v->n)
        abort();
    return v->fl[i];
}

const char *td_config_list_str(const td_config *cfg, const char *path, size_t i)
{
    const cfg_value *v = get(cfg, path, TD_CFG_ENUM_LIST, TD_CFG_ENUM_LIST);
    if (i >= v->n)
        abort();
    return v->sl[i];
}

bool td_config_has(const td_config *cfg, const char *path)
{
    return key_index(cfg, path) >= 0;
}

const char *td_config_origin(const td_config *cfg, const char *path)
{
    long idx = key_index(cfg, path);
    return idx >= 0 ? cfg->values[idx].origin : "";
}

const td_cfg_key *td_config_key(const td_config *cfg, const char *path)
{
    long idx = key_index(cfg, path);
    return idx >= 0 ? cfg->keys[idx] : NULL;
}

size_t td_config_key_count(const td_config *cfg)
{
    return cfg->count;
}

const td_cfg_key *td_config_key_at(const td_config *cfg, size_t i)
{
    return i < cfg->count ? cfg->keys[i] : NULL;
}

/* ---------------------------------------------------------------- writing */

static void format_double(double x, char *out, size_t out_size)
{
    if (x == (double)(long long)x && x > -1e15 && x < 1e15) {
        snprintf(out, out_size, "%.1f", x); /* 900.0 rather than 9e+02 */
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, out_size, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    /* keep floats recognisable as floats */
    if (!strpbrk(out, ".eEn"))
        strncat(out, ".0", out_size - strlen(out) - 1);
}

static struct fy_node *scalar_node(struct fy_document *doc, const char *text)
{
    return fy_node_create_scalar_copy(doc, text, strlen(text));
}

static struct fy_node *value_node(struct fy_document *doc, const td_cfg_key *k, const cfg_value *v)
{
    char buf[64];
    switch (k->type) {
    case TD_CFG_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)v->i);
        return scalar_node(doc, buf);
    case TD_CFG_FLOAT:
        format_double(v->f, buf, sizeof buf);
        return scalar_node(doc, buf);
    case TD_CFG_BOOL:
        return scalar_node(doc, v->b ? "true" : "false");
    case TD_CFG_STRING:
    case TD_CFG_ENUM:
        if (!v->s || !*v->s) /* an empty plain scalar would read back as null */
            return fy_node_build_from_string(doc, "''", FY_NT);
        return scalar_node(doc, v->s);
    default: {
        struct fy_node *seq = fy_node_create_sequence(doc);
        for (size_t i = 0; seq && i < v->n; i++) {
            if (k->type == TD_CFG_INT_LIST)
                snprintf(buf, sizeof buf, "%lld", (long long)v->il[i]);
            else if (k->type == TD_CFG_FLOAT_LIST)
                format_double(v->fl[i], buf, sizeof buf);
            else
                snprintf(buf, sizeof buf, "%s", v->sl[i]);
            fy_node_sequence_append(seq, scalar_node(doc, buf));
        }
        return seq;
    }
    }
}

td_status td_config_write(const td_config *cfg, FILE *fp)
{
    struct fy_document *doc = fy_document_create(NULL);
    if (!doc)
        return td_fail(TD_ERR_NOMEM, "out of memory");
    struct fy_node *root = fy_node_create_mapping(doc);
    fy_document_set_root(doc, root);
    for (size_t i = 0; i < cfg->count; i++) {
        const td_cfg_key *k = cfg->keys[i];
        struct fy_node *map = root;
        const char *p = k->path;
        const char *dot;
        while ((dot = strchr(p, '.')) != NULL) {
            char part[128];
            size_t len = (size_t)(dot - p);
            if (len >= sizeof part)
                len = sizeof part - 1;
            memcpy(part, p, len);
            part[len] = '\0';
            struct fy_node *child = fy_node_mapping_lookup_by_string(map, part, FY_NT);
            if (!child) {
                child = fy_node_create_mapping(doc);
                fy_node_mapping_append(map, scalar_node(doc, part), child);
            }
            map = child;
            p = dot + 1;
        }
        fy_node_mapping_append(map, scalar_node(doc, p), value_node(doc, k, &cfg->values[i]));
    }
    int rc = fy_emit_document_to_fp(doc, FYECF_MODE_BLOCK | FYECF_INDENT_2 | FYECF_WIDTH_INF, fp);
    fy_document_destroy(doc);
    if (rc != 0)
        return td_fail(TD_ERR_IO, "cannot write the config");
    return TD_OK;
}

td_status td_config_write_file(const td_config *cfg, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return td_fail(TD_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    td_status st = td_config_write(cfg, fp);
    if (fclose(fp) != 0 && st == TD_OK)
        st = td_fail(TD_ERR_IO, "%s: write error", path);
    return st;
}
