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

#include "allow_list.h"
#include "cli_opts.h"
#include "fl_pipeline.h"
#include "fl_reports.h"

/* --since, --until, --service, --revision, --min-severity, --keep-duplicates: what to look at
 * (src/engine/fl_gate.h applies them). Embedded by every command that reads entries. */
typedef struct fl_filter_args {
    const char *since;
    const char *until;
    fl_strv services;
    fl_strv revisions;
    const char *min_severity;
    bool keep_duplicates;
} fl_filter_args;

typedef struct fl_analysis_args {
    fl_filter_args filter;
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
    bool fail_on_cause; /* --fail-on-cause: exit 4 when a confident cause was found */
    bool redact_actors;   /* --redact-actors */
    fl_strv allow_lists;  /* --allow-list FILE */
    fl_allow_list allow;  /* their values, loaded by fl_cli_load_allow_lists */
    fl_redact_policy redact; /* both of the above, for reports/redact */
    const char *repo;     /* --repo PATH: local clone to rank suspect commits */
    const char *repo_url; /* --repo-url URL: web URL for the compare link */
    unsigned shard_index, shard_count; /* set by analyze from --shard (not an option row) */
} fl_analysis_args;

// clang-format off
/* The filter rows for an fl_filter_args embedded as `member` of `type`. Kept apart from
 * FL_ANALYSIS_OPTS so that a command lists them only once it applies them. */
#define FL_FILTER_OPTS(type, member)                                                               \
    {"since", 0, FL_OPT_STRING, "TIME",                                                            \
     "only entries at or after TIME: RFC 3339 (2026-07-25T03:00:00Z) or a duration back from "    \
     "the newest entry (30m, 2h, 7d)", offsetof(type, member.since), 0, 0, NULL},                 \
    {"until", 0, FL_OPT_STRING, "TIME", "only entries at or before TIME (same forms as --since)", \
     offsetof(type, member.until), 0, 0, NULL},                                                    \
    {"service", 0, FL_OPT_STRINGS, "GLOB", "only these Cloud Run services (checkout-*)",           \
     offsetof(type, member.services), 0, 0, NULL},                                                 \
    {"revision", 0, FL_OPT_STRINGS, "GLOB", "only these revisions (checkout-api-0008?-*)",         \
     offsetof(type, member.revisions), 0, 0, NULL},                                                \
    {"min-severity", 0, FL_OPT_STRING, "LEVEL",                                                    \
     "only entries of LEVEL or above (WARNING, ERROR...); deploys and other changes are kept",    \
     offsetof(type, member.min_severity), 0, 0, NULL},                                             \
    {"keep-duplicates", 0, FL_OPT_FLAG, NULL,                                                      \
     "count entries seen twice (same insertId, logName, timestamp) twice",                         \
     offsetof(type, member.keep_duplicates), 0, 0, NULL}

/* --fail-on-cause, for the commands that write a report (not tail). */
#define FL_FAIL_ON_CAUSE_OPT(type, member)                                                         \
    {"fail-on-cause", 0, FL_OPT_FLAG, NULL,                                                        \
     "exit 4 when a confident cause was found (for CI and scripts)",                               \
     offsetof(type, member.fail_on_cause), 0, 0, NULL}
// clang-format on

/* Fills spec from the parsed filter options (spec keeps pointers into f). */
void fl_filter_args_to_spec(const fl_filter_args *f, fl_filter_spec *spec);
void fl_filter_args_free(fl_filter_args *f);

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
    /* Internal (differential tests): no help line, so not in --help. */                          \
    {"slow-json", 0, FL_OPT_FLAG, NULL, NULL,                                                      \
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
     offsetof(type, member.quiet), 0, 0, NULL},                                                    \
    FL_REDACT_POLICY_OPTS(type, member)

/* Who made a change, and values never redacted (reports/redact, docs/postmortem.md). */
#define FL_REDACT_POLICY_OPTS(type, member)                                                        \
    {"redact-actors", 0, FL_OPT_FLAG, NULL,                                                        \
     "hide people who made changes ([REDACTED:actor]); service accounts stay shown",              \
     offsetof(type, member.redact_actors), 0, 0, NULL},                                            \
    {"allow-list", 0, FL_OPT_STRINGS, "FILE",                                                      \
     "values never redacted, one per line or a glob (sre-oncall@example.com, *@example.com); "     \
     "tokens and keys stay redacted", offsetof(type, member.allow_lists), 0, 0, NULL}
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
/* The exit status of a pipeline run that returned rc (err: its message, may be empty), after
 * printing the input warnings (unless quiet) and the error, or "no valid log entry could be
 * read" when nothing was. Shared by analyze, postmortem and summary writing. */
int fl_cli_pipeline_status(const char *cmd, bool quiet, int rc, const char *err,
                           const fl_diag *diag);

/* The names of the report formats compiled in, NULL-terminated, for the --format choice of the
 * option tables; filled by fl_cli_fill_format_names() before the options are parsed, so the
 * option and its help list exactly those formats. */
extern const char *fl_cli_format_names[16];
void fl_cli_fill_format_names(void);

/* The environment is read only in the CLI and passed down as options. fl_cli_env: the value of
 * a variable, NULL when unset or empty. fl_cli_env_to_pipeline: FAULTLINE_PATTERNS_DIR and
 * FL_NO_PREFILTER into po. */
const char *fl_cli_env(const char *name);
/* Where Google credentials come from, read from the environment (static storage). */
const fl_auth_env *fl_cli_auth_env(void);
void fl_cli_env_to_pipeline(fl_pipeline_opts *po);
/* Refuses an output path that is one of the inputs or inside an input directory (the report
 * would overwrite the export, or be read as input next time). Prints why and returns -1. */
int fl_cli_check_output(const char *cmd, const char *output, const fl_strv *inputs);

/* Loads the --allow-list files into a->allow and fills a->redact (before the analysis: a bad
 * path is a usage error, as is --redact-actors with --no-redact). Prints why and returns -1
 * on failure. */
int fl_cli_load_allow_lists(const char *cmd, fl_analysis_args *a);

/* The exit status once the report is written: status, or FL_EXIT_CAUSE with --fail-on-cause
 * when the result is confident (it wins over 3, partial input: the report is written). */
int fl_cli_final_status(const fl_analysis_args *a, const fl_result *r, int status);

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
