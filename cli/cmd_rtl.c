/* Placeholder until issue #6 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_rtl(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("rtl", "Verilog bundle generation (rtl_templates, issue #6)");
}
