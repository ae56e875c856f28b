/* JSON output helpers on jansson: every subcommand with --json prints exactly one object
 * on stdout. */
#ifndef TD_JSON_H
#define TD_JSON_H

#include "td_status.h"

#include <jansson.h>

/* Prints obj (compact keys sorted as inserted, 2-space indent) and a newline on stdout;
 * steals the reference. */
td_status td_json_print(json_t *obj);
/* Writes obj to a file; does not steal. */
td_status td_json_write_file(const json_t *obj, const char *path);
/* A float that is NaN or infinite becomes null, as JSON has no such numbers. */
json_t *td_json_real(double v);

#endif
