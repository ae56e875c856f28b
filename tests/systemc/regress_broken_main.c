/* `tandem regress` (cli/cmd_regress.c, compiled as is) linked against sim_broken: the
 * Verilated core built from the deliberately broken copy of the RTL (CMakeLists.txt). */
#include "commands.h"

int main(int argc, char **argv)
{
    /* argv[1] is the subcommand name, as tandem's main passes it */
    return argc < 2 ? 2 : cmd_regress(argc - 1, argv + 1);
}
