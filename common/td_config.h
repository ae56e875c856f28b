/* Schema-checked YAML configs (libfyaml). Each module declares the keys it reads in a
 * td_cfg_key table (dotted path, type, range, default, help); a config is the defaults
 * of the tables it is built from, with YAML files and --set overrides merged over them.
 * Every error names file:line:column and the key. */
#ifndef TD_CONFIG_H
#define TD_CONFIG_H

#include "td_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum td_cfg_type {
    TD_CFG_INT,
    TD_CFG_FLOAT,
    TD_CFG_BOOL,
    TD_CFG_STRING,
    TD_CFG_ENUM,       /* one of choices */
    TD_CFG_INT_LIST,   /* each element in [min, max] */
    TD_CFG_FLOAT_LIST, /* each element in [min, max] */
    TD_CFG_ENUM_LIST,  /* each element one of choices */
    TD_CFG_TYPE_COUNT
} td_cfg_type;

typedef struct td_cfg_key {
    const char *path; /* "search.population" */
    td_cfg_type type;
    double min, max;      /* numbers and numeric list elements; min == max == 0: no check */
    const char *choices;  /* ENUM / ENUM_LIST: "nsga2|random|regevo" */
    const char *def;      /* default as YAML text: "24", "[4, 8]", "nsga2", "" */
    int min_len, max_len; /* lists: allowed lengths (0,0: any) */
    const char *help;     /* one line, with the unit */
} td_cfg_key;

/* A table ends with an entry whose path is NULL. */
#define TD_CFG_END                                                                                 \
    {                                                                                              \
        NULL, TD_CFG_INT, 0, 0, NULL, NULL, 0, 0, NULL                                             \
    }

typedef struct td_config td_config;

/* Builds a config holding the defaults of the given tables (NULL-terminated array). */
td_status td_config_init(td_config **out, const td_cfg_key *const *tables);
void td_config_free(td_config *cfg);

/* Merges a YAML file / string over the current values. On error nothing is changed
 * and the message reads "FILE:LINE:COL: key 'a.b': ...". */
td_status td_config_merge_file(td_config *cfg, const char *path);
td_status td_config_merge_string(td_config *cfg, const char *yaml, const char *origin);
/* One override "key=value" (value in YAML syntax), as from --set. */
td_status td_config_set(td_config *cfg, const char *assignment);

/* Getters: the key must be in the schema and of a matching type (else abort: a bug). */
int64_t td_config_int(const td_config *cfg, const char *path);
double td_config_float(const td_config *cfg, const char *path); /* FLOAT or INT */
bool td_config_bool(const td_config *cfg, const char *path);
const char *td_config_str(const td_config *cfg, const char *path); /* STRING or ENUM */
size_t td_config_list_len(const td_config *cfg, const char *path);
int64_t td_config_list_int(const td_config *cfg, const char *path, size_t i);
double td_config_list_float(const td_config *cfg, const char *path, size_t i);
const char *td_config_list_str(const td_config *cfg, const char *path, size_t i);
bool td_config_has(const td_config *cfg, const char *path);
/* Where a key's value came from: "default", "--set" or "file:line:col". */
const char *td_config_origin(const td_config *cfg, const char *path);

/* Writes the whole resolved config as block YAML that loads back to the same values. */
td_status td_config_write(const td_config *cfg, FILE *fp);
td_status td_config_write_file(const td_config *cfg, const char *path);

/* Schema lookups, for usage text and for cross-field checks in modules. */
const td_cfg_key *td_config_key(const td_config *cfg, const char *path);
size_t td_config_key_count(const td_config *cfg);
const td_cfg_key *td_config_key_at(const td_config *cfg, size_t i);

/* Levenshtein distance, for "did you mean" hints across the project. */
size_t td_edit_distance(const char *a, const char *b);

#endif
