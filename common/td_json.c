#include "td_json.h"

#include <math.h>
#include <stdio.h>

td_status td_json_print(json_t *obj)
{
    if (!obj)
        return td_fail(TD_ERR_NOMEM, "cannot build the JSON result");
    int rc =
        json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(obj);
    fputc('\n', stdout);
    fflush(stdout);
    return rc == 0 ? TD_OK : td_fail(TD_ERR_IO, "cannot write JSON to stdout");
}

td_status td_json_write_file(const json_t *obj, const char *path)
{
    if (json_dump_file(obj, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) !=
        0)
        return td_fail(TD_ERR_IO, "%s: cannot write JSON", path);
    return TD_OK;
}

json_t *td_json_real(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}
