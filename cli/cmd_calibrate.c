/* Placeholder until issue #8 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_calibrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("calibrate", "synthesis calibration (issue #8)");
}
