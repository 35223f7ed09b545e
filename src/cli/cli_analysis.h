// clang-format off
/* What every analysing command (analyze, postmortem, tail) shares: the common option rows,
 * running the pipeline with user-facing messages on stderr, and opening the output.
 *
 *     struct pm_args { fl_analysis_args a; const char *output; };
 *     static const fl_opt pm_opts[] = {
 *         FL_ANALYSIS_OPTS(struct pm_args, a),
 *         {"output", 'o', FL_OPT_STRING, "FILE", "write to FILE", offsetof(struct pm_args, output)},
 *         FL_OPT_END,
 *     };
 *     ... fl_opts_parse(&spec, argc, argv, &args, &inputs, err, sizeof err) ...
 *     fl_result *res = NULL;
 *     int status = fl_cli_run_analysis("postmortem", &inputs, &args.a, &res);
 *     if (!res) return status;            // 1 or 2: nothing to write
 *     ... write res ...; fl_result_free(res); return status;   // 0 or 3
 */
// clang-format on
#ifndef FL_CLI_ANALYSIS_H
#define FL_CLI_ANALYSIS_H

#include "cli_opts.h"
#include "fl_pipeline.h"
#include "fl_reports.h"

typedef struct fl_analysis_args {
    fl_strv patterns;  /* --patterns DIR */
    fl_strv changes;   /* --changes FILE */
    double threshold;  /* --threshold X, 0: default */
    int max_causes;    /* --max-causes N, 0: default */
    int threads;       /* --threads N, 0: all cores */
    bool slow_json;    /* --slow-json */
    bool no_multiline; /* --no-multiline */
    bool no_redact;    /* --no-redact */
    bool no_color;     /* --no-color */
    bool quiet;        /* -q */
    const char *title; /* --title */
    const char *repo;     /* --repo PATH: local clone to rank suspect commits */
    const char *repo_url; /* --repo-url URL: web URL for the compare link */
    unsigned shard_index, shard_count; /* set by analyze from --shard (not an option row) */
} fl_analysis_args;

// clang-format off
/* The option rows for an fl_analysis_args embedded as `member` of `type`. */
#define FL_ANALYSIS_OPTS(type, member)                                                             \
    {"patterns", 'p', FL_OPT_STRINGS, "DIR",                                                       \
     "load rule files from DIR too; a rule id that exists overrides the built-in",               \
     offsetof(type, member.patterns), 0, 0, NULL},                                                 \
    {"changes", 0, FL_OPT_STRINGS, "FILE",                                                         \
     "change events from CI, NDJSON {time, service, revision, kind, actor, description}",        \
     offsetof(type, member.changes), 0, 0, NULL},                                                  \
    {"threshold", 0, FL_OPT_DOUBLE, "X",                                                           \
     "score a top cause needs to be called confident (default 0.5)",                              \
     offsetof(type, member.threshold), 0, 1, NULL},                                                \
    {"max-causes", 0, FL_OPT_INT, "N", "rank at most N causes (default 5)",                        \
     offsetof(type, member.max_causes), 1, 100, NULL},                                             \
    {"threads", 0, FL_OPT_INT, "N", "worker threads (default: all cores)",                         \
     offsetof(type, member.threads), 1, 256, NULL},                                                \
    {"slow-json", 0, FL_OPT_FLAG, NULL, "parse with the jansson reference parser",                 \
     offsetof(type, member.slow_json), 0, 0, NULL},                                                \
    {"no-multiline", 0, FL_OPT_FLAG, NULL, "do not reassemble stack traces split across entries", \
     offsetof(type, member.no_multiline), 0, 0, NULL},                                             \
    {"no-redact", 0, FL_OPT_FLAG, NULL, "write secrets found in log text as they are (warns)",     \
     offsetof(type, member.no_redact), 0, 0, NULL},                                                \
    {"no-color", 0, FL_OPT_FLAG, NULL, "no ANSI colour (also: NO_COLOR set in the environment)",   \
     offsetof(type, member.no_color), 0, 0, NULL},                                                 \
    {"title", 0, FL_OPT_STRING, "TEXT", "heading of the report",                                   \
     offsetof(type, member.title), 0, 0, NULL},                                                    \
    {"repo", 0, FL_OPT_STRING, "PATH",                                                             \
     "local clone of the service's code: rank the commits between the bad and the previous revision",\
     offsetof(type, member.repo), 0, 0, NULL},                                                     \
    {"repo-url", 0, FL_OPT_STRING, "URL",                                                          \
     "web URL of the repository for the compare link (default: the clone's origin)",             \
     offsetof(type, member.repo_url), 0, 0, NULL},                                                 \
    {"quiet", 'q', FL_OPT_FLAG, NULL, "no warnings summary on stderr",                             \
     offsetof(type, member.quiet), 0, 0, NULL}
// clang-format on

/* Fills po from the parsed arguments (po keeps pointers into a; a must outlive it). */
void fl_analysis_args_to_pipeline(const fl_analysis_args *a, fl_pipeline_opts *po);
void fl_analysis_args_free(fl_analysis_args *a);

/* Runs the batch pipeline over inputs (none: stdin) and tells the user on stderr what went
 * wrong, prefixed "faultline <cmd>: ". Returns the exit status: 0 clean, 1 bad rules or
 * changes file, 2 nothing readable, 3 partial input. *out is set whenever there is a result
 * worth writing (statuses 0 and 3, and 2 when files opened but held no valid entry). */
int fl_cli_run_analysis(const char *cmd, const fl_strv *inputs, const fl_analysis_args *a,
                        fl_result **out);

/* analyze --summary-out: runs the pipeline's reading half over inputs and writes the
 * aggregate to path (docs/summary-format.md). With out, also ranks it into *out (set when
 * the summary was written). Returns the exit status as fl_cli_run_analysis does (a shard
 * that holds no file is not an error). */
int fl_cli_write_summary(const char *cmd, const fl_strv *inputs, const fl_analysis_args *a,
                         const char *path, fl_result **out);

/* Names each deploy cause's commit range and, with --repo, its suspect commits
 * (correlate/suspects). Never fails the report: a repository that cannot be read is a warning
 * on stderr (unless -q). Returns 0 or FL_ENOMEM. */
int fl_cli_add_suspects(const char *cmd, const fl_analysis_args *a, fl_result *r);

/* Prints the input warnings summary ("N input warnings (...)" and the first few file:line
 * lines) to stderr; nothing when there are none. */
void fl_cli_print_warnings(const char *cmd, const fl_diag *d);

/* The environment is read only in the CLI and passed down as options. fl_cli_env: the value of
 * a variable, NULL when unset or empty. fl_cli_env_to_pipeline: FAULTLINE_PATTERNS_DIR and
 * FL_NO_PREFILTER into po. */
const char *fl_cli_env(const char *name);
/* Where Google credentials come from, read from the environment (static storage). */
const fl_auth_env *fl_cli_auth_env(void);
void fl_cli_env_to_pipeline(fl_pipeline_opts *po);

/* Opens path for writing ("-" or NULL: stdout). Prints the error and returns NULL on failure. */
FILE *fl_cli_open_output(const char *cmd, const char *path);
/* Flushes and closes (unless stdout). Returns 0, or prints the error and returns -1. */
int fl_cli_close_output(const char *cmd, FILE *f, const char *path);

/* Report options for writing to out: colour only on a terminal, without --no-color and
 * without NO_COLOR; width from the terminal or $COLUMNS. */
void fl_cli_report_opts(const fl_analysis_args *a, FILE *out, fl_report_opts *ro);

/* Writes res as a format report to path ("-" or NULL: stdout), with the report options of a.
 * Returns 0, or prints what failed and returns -1. */
int fl_cli_write_report(const char *cmd, const fl_analysis_args *a, const char *format,
                        const fl_result *res, const char *path);

#endif
