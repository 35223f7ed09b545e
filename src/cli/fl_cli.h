/* Subcommands of the faultline CLI. Each lives in src/cmd_<name>.c and returns the process
 * exit status: 0 ok, 1 usage or configuration error, 2 input unreadable, 3 partial input.
 * argv[0] is the first argument after the command name (argc counts from there); parse it with
 * fl_opts_parse (cli_opts.h) and share the analysis options through cli_analysis.h. */
#ifndef FL_CLI_H
#define FL_CLI_H

enum {
    FL_EXIT_OK = 0,
    FL_EXIT_USAGE = 1,
    FL_EXIT_UNREADABLE = 2,
    FL_EXIT_PARTIAL = 3,
};

int fl_cmd_analyze(int argc, char **argv);
int fl_cmd_classify(int argc, char **argv);
int fl_cmd_merge(int argc, char **argv);
int fl_cmd_patterns(int argc, char **argv);
int fl_cmd_postmortem(int argc, char **argv);
int fl_cmd_tail(int argc, char **argv);

#endif
