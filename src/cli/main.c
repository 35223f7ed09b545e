/* faultline <command> [options]: dispatches to one file per subcommand. */
#include "cli_opts.h"
#include "fl_cli.h"
#include "fl_config.h"
#include "fl_reports.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} command;

static const command commands[] = {
    {"analyze", "classify errors, correlate with changes, write a ranked root-cause report",
     fl_cmd_analyze},
    {"classify", "print each entry's class as one JSON object per line", fl_cmd_classify},
    {"merge", "write the report over summaries of shards ('analyze --summary-out')",
     fl_cmd_merge},
    {"patterns", "check or list rule files ('patterns check [DIR...]', 'patterns list')",
     fl_cmd_patterns},
    {"postmortem", "draft a postmortem (Markdown) from the logs", fl_cmd_postmortem},
    {"tail", "follow live logs and report causes as they appear", fl_cmd_tail},
};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: faultline <command> [options] [INPUT...]\n\n"
            "faultline reads Google Cloud Logging exports of Cloud Run services, classifies the\n"
            "errors and ranks their likely root causes (bad deploy, dependency, load...).\n\n"
            "Commands:\n");
    for (size_t i = 0; i < FL_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nReport formats:");
    for (size_t i = 0; fl_report_formats[i]; i++)
        fprintf(out, " %s", fl_report_formats[i]->name);
    fprintf(out, "\n\nRun 'faultline <command> --help' for its options.\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  show the version\n\n");
    fputs(fl_cli_exit_codes_help, out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return FL_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return FL_EXIT_OK;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("faultline %s\n", FL_VERSION);
        return FL_EXIT_OK;
    }
    for (size_t i = 0; i < FL_ARRAY_LEN(commands); i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    fprintf(stderr, "faultline: unknown command '%s' (see 'faultline --help')\n", cmd);
    return FL_EXIT_USAGE;
}
