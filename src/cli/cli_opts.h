// clang-format off
/* Command-line options from one table per command (curl's tool_getparam habit).
 *
 * A command describes its options once, as an array of fl_opt ending in FL_OPT_END. Each entry
 * names the option, its type, the help line and where the parsed value goes (an offsetof into
 * the command's own argument struct). The same table drives parsing and `--help`, so the help
 * text cannot drift from what is accepted.
 *
 *     struct my_args { const char *output; bool quiet; fl_strv patterns; };
 *     static const fl_opt my_opts[] = {
 *         {"output", 'o', FL_OPT_STRING, "FILE", "write the report to FILE",
 *          offsetof(struct my_args, output)},
 *         {"quiet", 'q', FL_OPT_FLAG, NULL, "no progress on stderr",
 *          offsetof(struct my_args, quiet)},
 *         FL_OPT_END,
 *     };
 *     static const fl_cmd_spec my_spec = {"mycmd", "[INPUT...]", "does things", my_opts};
 *
 * Tables can share rows: FL_ANALYSIS_OPTS (cli_analysis.h) expands to the options every
 * analysing command takes, relative to an embedded fl_analysis_args member.
 */
// clang-format on
#ifndef FL_CLI_OPTS_H
#define FL_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum {
    FL_OPT_NONE = 0, /* end of table */
    FL_OPT_FLAG,     /* bool, set to true */
    FL_OPT_STRING,   /* const char *, points into argv; the last one given wins */
    FL_OPT_STRINGS,  /* fl_strv, repeatable; every value is kept in order */
    FL_OPT_INT,      /* int, checked against [min, max] */
    FL_OPT_DOUBLE,   /* double, checked against [min, max] */
    FL_OPT_CHOICE,   /* const char *, must be one of choices[] */
} fl_opt_type;

typedef struct fl_opt {
    const char *long_name; /* "format" for --format */
    char short_name;       /* 'o' for -o, or 0 */
    fl_opt_type type;
    const char *arg_name;       /* "FILE" in the help; NULL for flags */
    const char *help;           /* one line */
    size_t offset;              /* where the value goes in the command's argument struct */
    double min, max;            /* numeric bounds (both 0: unbounded) */
    const char *const *choices; /* NULL-terminated, for FL_OPT_CHOICE */
} fl_opt;

#define FL_OPT_END                                                                                 \
    {                                                                                              \
        NULL, 0, FL_OPT_NONE, NULL, NULL, 0, 0, 0, NULL                                            \
    }

/* A growable list of strings that point into argv (not owned); the array itself is. */
typedef struct fl_strv {
    const char **v;
    size_t n;
} fl_strv;

int fl_strv_push(fl_strv *sv, const char *s);
void fl_strv_free(fl_strv *sv);

typedef struct fl_cmd_spec {
    const char *name;    /* "analyze", or "patterns check" */
    const char *usage;   /* what follows the options: "[INPUT...]" */
    const char *summary; /* one line */
    const fl_opt *opts;  /* ends with FL_OPT_END; may be NULL */
    const char *epilog;  /* extra help text (examples, exit codes); may be NULL */
} fl_cmd_spec;

/* fl_opts_parse results besides 0 and the negative FL_E* codes. */
#define FL_OPTS_HELP 1 /* -h/--help was given: print help and exit 0 */

/* Parses argv[0..argc) (argv[0] is the first argument after the command name) into target,
 * whose layout the table's offsets describe. Positional arguments (and everything after "--";
 * "-" alone is positional, meaning stdin) are appended to positional. Accepts "--name value",
 * "--name=value", "-o value" and "-ovalue"; short flags may be bundled ("-qv").
 * Returns 0, FL_OPTS_HELP, or FL_EINVAL with a message for the user in errbuf. */
int fl_opts_parse(const fl_cmd_spec *spec, int argc, char **argv, void *target, fl_strv *positional,
                  char *errbuf, size_t errlen);

/* Writes "Usage: faultline <name> [options] <usage>", the summary, the option table (from
 * spec->opts, plus -h/--help) and the epilog. */
void fl_opts_help(const fl_cmd_spec *spec, FILE *out);

/* Releases the fl_strv members a parse filled in target (FL_OPT_STRINGS rows). */
void fl_opts_free(const fl_cmd_spec *spec, void *target);

/* The exit-code paragraph every command's --help ends with. */
extern const char fl_cli_exit_codes_help[];

#endif
