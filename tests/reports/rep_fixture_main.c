/* rep_fixture DIR EVALUATIONS [--population N] [--seed S] [--no-front] [--running]:
 * writes a synthetic run directory (rep_fixture.h) for the browser test and the report
 * benchmark (scripts/bench-report.sh). */
#include "rep_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rep_fixture DIR EVALUATIONS [--population N] [--seed S] "
                        "[--no-front] [--running]\n");
        return 2;
    }
    rep_fixture_opts o = {.evaluations = atoll(argv[2]),
                          .population = 32,
                          .seed = 1,
                          .store_front = true,
                          .finished = true};
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--population") == 0 && i + 1 < argc)
            o.population = atoll(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--no-front") == 0)
            o.store_front = false;
        else if (strcmp(argv[i], "--running") == 0)
            o.finished = false;
        else {
            fprintf(stderr, "rep_fixture: unknown argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (o.evaluations < 1) {
        fprintf(stderr, "rep_fixture: EVALUATIONS must be at least 1\n");
        return 2;
    }
    td_status st = rep_fixture_make(argv[1], &o);
    if (st != TD_OK) {
        fprintf(stderr, "rep_fixture: %s\n", td_error_message());
        return 1;
    }
    return 0;
}
