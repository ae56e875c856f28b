/* The subcommands of `tandem`: each is `int cmd_NAME(int argc, char **argv)` in
 * cli/cmd_NAME.c, with argv[0] the subcommand's name; it returns the exit code. */
#ifndef COMMANDS_H
#define COMMANDS_H

int cmd_search(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_rtl(int argc, char **argv);
int cmd_regress(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_bench_moo(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif
