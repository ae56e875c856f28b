/* Placeholder until issue #7 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_regress(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("regress", "RTL/SystemC regression suites (sim, issue #7)");
}
