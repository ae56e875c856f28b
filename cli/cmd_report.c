/* Placeholder until issue #10 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("report", "HTML report and exports (reports, issue #10)");
}
