/* Placeholder until issue #3 lands: says so and exits 2. The owner replaces this file. */
#include "cmd_common.h"
#include "commands.h"

int cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cmd_not_built("train", "training (nn_search, issue #3)");
}
