/* A run directory runs/<name>/: config.yaml (resolved config), archive.sqlite, log.txt,
 * later report/. */
#ifndef CS_RUNDIR_H
#define CS_RUNDIR_H

#include "cs_archive.h"
#include "td_config.h"

#include <stdio.h>

typedef struct cs_rundir {
    char path[1024];
    FILE *log;
    cs_archive archive;
} cs_rundir;

/* Creates `dir` (or run.dir/run.name, or run.dir/<timestamp> when both are empty), writes
 * the resolved config, opens the log (tee'd from td_log) and a new archive with a run
 * record. Refuses a directory that already holds an archive. */
td_status cs_rundir_create(cs_rundir *r, const char *dir, const td_config *cfg,
                           const char *version);
/* Reopens an existing run directory: its config.yaml (merged over the defaults) and its
 * archive's latest run. */
td_status cs_rundir_resume(cs_rundir *r, const char *dir, td_config **cfg_out);
void cs_rundir_close(cs_rundir *r);

/* Creates a directory and its parents (mkdir -p). */
td_status cs_mkdirs(const char *path);

#endif
