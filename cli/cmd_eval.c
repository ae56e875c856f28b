/* Placeholder until issue #5 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_eval(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("eval", "network and accelerator evaluation (issues #3 and #5)");
}
