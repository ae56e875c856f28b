#include "cs_rundir.h"

#include "cs_config.h"
#include "td_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

td_status cs_mkdirs(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return td_fail(TD_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return td_fail(TD_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
    return TD_OK;
}

static char *read_text(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        size_t got = fread(buf, 1, (size_t)n, fp);
        buf[got] = '\0';
    }
    fclose(fp);
    return buf;
}

static td_status open_log(cs_rundir *r)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/log.txt", r->path);
    r->log = fopen(p, "a");
    if (!r->log)
        return td_fail(TD_ERR_IO, "%s: cannot open: %s", p, strerror(errno));
    td_log_set_file(r->log);
    return TD_OK;
}

td_status cs_rundir_create(cs_rundir *r, const char *dir, const td_config *cfg, const char *version)
{
    memset(r, 0, sizeof *r);
    if (dir && *dir) {
        snprintf(r->path, sizeof r->path, "%s", dir);
    } else {
        const char *name = td_config_str(cfg, "run.name");
        char stamp[32];
        if (!*name) {
            time_t t = time(NULL);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
            name = stamp;
        }
        snprintf(r->path, sizeof r->path, "%s/%s", td_config_str(cfg, "run.dir"), name);
    }
    char p[1100];
    snprintf(p, sizeof p, "%s/archive.sqlite", r->path);
    struct stat sb;
    if (stat(p, &sb) == 0)
        return td_fail(TD_ERR_USAGE,
                       "%s already holds a run; continue it with --resume %s, or pick another "
                       "name",
                       r->path, r->path);
    td_status st = cs_mkdirs(r->path);
    if (st != TD_OK)
        return st;
    snprintf(p, sizeof p, "%s/config.yaml", r->path);
    if ((st = td_config_write_file(cfg, p)) != TD_OK)
        return st;
    char *yaml = read_text(p);
    if (!yaml)
        return td_fail(TD_ERR_IO, "%s: cannot read back the written config", p);
    if ((st = open_log(r)) != TD_OK) {
        free(yaml);
        return st;
    }
    snprintf(p, sizeof p, "%s/archive.sqlite", r->path);
    st = cs_archive_open(&r->archive, p, true);
    const char *slash = strrchr(r->path, '/');
    if (st == TD_OK)
        st = cs_archive_run_begin(&r->archive, slash ? slash + 1 : r->path,
                                  td_config_int(cfg, "run.seed"), yaml, version);
    free(yaml);
    if (st != TD_OK)
        cs_rundir_close(r);
    return st;
}

td_status cs_rundir_resume(cs_rundir *r, const char *dir, td_config **cfg_out)
{
    memset(r, 0, sizeof *r);
    snprintf(r->path, sizeof r->path, "%s", dir);
    char p[1100];
    snprintf(p, sizeof p, "%s/config.yaml", r->path);
    td_config *cfg;
    td_status st = cs_config_load(&cfg, p, NULL, 0);
    if (st != TD_OK)
        return td_fail_context(st, "cannot resume %s: ", dir);
    snprintf(p, sizeof p, "%s/archive.sqlite", r->path);
    st = cs_archive_open(&r->archive, p, false);
    if (st == TD_OK)
        st = cs_archive_run_resume(&r->archive, NULL);
    if (st == TD_OK)
        st = open_log(r);
    if (st != TD_OK) {
        td_config_free(cfg);
        cs_rundir_close(r);
        return st;
    }
    *cfg_out = cfg;
    return TD_OK;
}

void cs_rundir_close(cs_rundir *r)
{
    cs_archive_close(&r->archive);
    if (r->log) {
        td_log_set_file(NULL);
        fclose(r->log);
    }
    r->log = NULL;
}
