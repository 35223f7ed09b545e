/* faultline analyze [INPUT...]: the batch report. */
#include "cli_analysis.h"
#include "cli_shard.h"
#include "fl_cli.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

struct analyze_args {
    fl_analysis_args a;
    const char *format;
    const char *output;
    const char *summary_out;
    const char *shard;
    int shard_count;
};

static const fl_opt analyze_opts[] = {
    {"format", 'f', FL_OPT_CHOICE, "FORMAT", "report format (default: text)",
     offsetof(struct analyze_args, format), 0, 0, fl_cli_format_names},
    {"output", 'o', FL_OPT_STRING, "FILE", "write the report to FILE instead of standard output",
     offsetof(struct analyze_args, output), 0, 0, NULL},
    {"summary-out", 0, FL_OPT_STRING, "FILE",
     "write the aggregate to FILE for 'faultline merge' (no report unless -o is given)",
     offsetof(struct analyze_args, summary_out), 0, 0, NULL},
    {"shard", 0, FL_OPT_STRING, "I/N",
     "read only shard I of N of the input files (default: from CLOUD_RUN_TASK_INDEX/COUNT)",
     offsetof(struct analyze_args, shard), 0, 0, NULL},
    {"shard-count", 0, FL_OPT_INT, "N",
     "N shards, this one's index from CLOUD_RUN_TASK_INDEX or JOB_COMPLETION_INDEX",
     offsetof(struct analyze_args, shard_count), 1, 100000, NULL},
    FL_FILTER_OPTS(struct analyze_args, a.filter),
    FL_ANALYSIS_OPTS(struct analyze_args, a),
    FL_FAIL_ON_CAUSE_OPT(struct analyze_args, a),
    FL_OPT_END,
};

static const char analyze_epilog[] =
    "INPUT is a file (gcloud logging read --format=json array or NDJSON, optionally .gz or\n"
    ".zst), a directory written by a Cloud Logging sink (read recursively), gs://BUCKET/PREFIX\n"
    "(the objects under PREFIX, streamed from Cloud Storage with the credentials 'tail' uses;\n"
    "STORAGE_EMULATOR_HOST is honoured), or - for standard input (also the default). Several\n"
    "inputs are merged into one time-ordered analysis.\n"
    "\n"
    "Examples:\n"
    "  faultline analyze incident.json\n"
    "  gcloud logging read 'resource.type=cloud_run_revision' --freshness=2h --format=json \\\n"
    "    | faultline analyze --format md -o incident.md\n"
    "  faultline analyze --changes deploys.ndjson --format json logs/2026/11/20/\n"
    "  faultline analyze --shard 3/8 --summary-out s3.flsum logs/   # then: faultline merge\n"
    "  faultline analyze --since 30m --service 'checkout-*' --min-severity WARNING logs/\n"
    "  faultline analyze --fail-on-cause -q --format json incident.json > report.json\n"
    "  faultline analyze --until 2026-07-25T04:00:00Z --revision 'checkout-api-00082-*' \\\n"
    "    --format slack incident.json\n"
    "  faultline analyze --redact-actors --allow-list keep.txt --format md -o incident.md logs/\n"
    "\n"
    "--shard I/N reads the files whose path below the input argument hashes to I (FNV-1a-64\n"
    "mod N, see docs/scale.md), so N processes with the same arguments read disjoint parts.\n"
    "Entries seen twice (same insertId, logName and timestamp, as when exports overlap) are\n"
    "counted once; the report says how many were dropped and which filter was applied.\n"
    "\n";

static const fl_cmd_spec analyze_spec = {
    "analyze",
    "[INPUT...]",
    "Classify the errors in Cloud Logging exports, correlate them with deploys and other\n"
    "changes, and write a ranked root-cause report.",
    analyze_opts,
    analyze_epilog,
};

int fl_cmd_analyze(int argc, char **argv)
{
    struct analyze_args args;
    fl_strv inputs = {NULL, 0};
    char err[512];
    int status;

    memset(&args, 0, sizeof args);
    args.format = "text";
    fl_cli_fill_format_names();
    int rc = fl_opts_parse(&analyze_spec, argc, argv, &args, &inputs, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&analyze_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        status = FL_EXIT_OK;
        goto out;
    }
    if (rc) {
        fprintf(stderr, "faultline analyze: %s\n", err);
        status = FL_EXIT_USAGE;
        goto out;
    }
    if (!fl_report_find(args.format)) {
        fprintf(stderr, "faultline analyze: format '%s' is not built into this binary\n",
                args.format);
        status = FL_EXIT_USAGE;
        goto out;
    }

    fl_shard_env env;
    const char *shard_from = NULL;
    fl_shard_env_get(&env);
    if (fl_shard_resolve(args.shard, args.shard_count, &env, &args.a.shard_index,
                         &args.a.shard_count, &shard_from, err, sizeof err)) {
        fprintf(stderr, "faultline analyze: %s\n", err);
        status = FL_EXIT_USAGE;
        goto out;
    }
    if (args.a.shard_count > 1 && !args.a.quiet)
        fprintf(stderr, "faultline analyze: reading shard %u of 0..%u (%s)\n", args.a.shard_index,
                args.a.shard_count - 1, shard_from);

    if (inputs.n == 0 && isatty(STDIN_FILENO)) {
        fprintf(stderr, "faultline analyze: no input: name files or directories, or pipe logs "
                        "in (see 'faultline analyze --help')\n");
        status = FL_EXIT_USAGE;
        goto out;
    }
    if (fl_cli_check_output("analyze", args.output, &inputs) ||
        fl_cli_load_allow_lists("analyze", &args.a)) {
        status = FL_EXIT_USAGE;
        goto out;
    }
    fl_result *res = NULL;
    if (args.summary_out)
        status = fl_cli_write_summary("analyze", &inputs, &args.a, args.summary_out,
                                      args.output ? &res : NULL);
    else
        status = fl_cli_run_analysis("analyze", &inputs, &args.a, &res);
    if (res && status == FL_EXIT_UNREADABLE) {
        /* Nothing valid was read: an empty report would only look like a clean bill. */
        fl_result_free(res);
        res = NULL;
    }
    if (!res)
        goto out;

    if (fl_cli_write_report("analyze", &args.a, args.format, res, args.output))
        status = FL_EXIT_USAGE;
    status = fl_cli_final_status(&args.a, res, status);
    fl_result_free(res);
out:
    fl_analysis_args_free(&args.a);
    fl_strv_free(&inputs);
    return status;
}
