/* Placeholder until issue #9 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_bench_moo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("bench-moo", "optimizer benchmarks (cosearch, issue #9)");
}
