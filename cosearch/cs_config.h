/* The search config: run.*, search.* and constraints.* keys, merged with the keys of
 * nn_search (data, space.net, train, finalists) and hw_model (space.hw). */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include "td_config.h"

extern const td_cfg_key cs_config_keys[];

/* Default config of `tandem search` (all module tables), optionally merged with a YAML
 * file (path may be NULL) and --set overrides; then cross-field checks. */
td_status cs_config_load(td_config **out, const char *path, char *const *sets, size_t n_sets);
/* Cross-field checks (e.g. [min, max] ranges in order); names the key and its origin. */
td_status cs_config_check(const td_config *cfg);

#endif
