/* faultline merge SUMMARY...: the report over summaries written by analyze --summary-out. */
#include "cli_analysis.h"
#include "fl_cli.h"
#include "summary.h"

#include <dirent.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct merge_args {
    fl_analysis_args a; /* only the ranking and report rows below are offered */
    const char *format;
    const char *output;
};

static const fl_opt merge_opts[] = {
    {"format", 'f', FL_OPT_CHOICE, "FORMAT", "report format (default: text)",
     offsetof(struct merge_args, format), 0, 0, fl_cli_format_names},
    {"output", 'o', FL_OPT_STRING, "FILE", "write the report to FILE instead of standard output",
     offsetof(struct merge_args, output), 0, 0, NULL},
    {"patterns", 'p', FL_OPT_STRINGS, "DIR",
     "the rule directories the summaries were written with (checked against them)",
     offsetof(struct merge_args, a.patterns), 0, 0, NULL},
    {"threshold", 0, FL_OPT_DOUBLE, "X",
     "score a top cause needs to be called confident (default 0.5)",
     offsetof(struct merge_args, a.threshold), 0, 1, NULL},
    {"max-causes", 0, FL_OPT_INT, "N", "rank at most N causes (default 5)",
     offsetof(struct merge_args, a.max_causes), 1, 100, NULL},
    {"no-redact", 0, FL_OPT_FLAG, NULL, "write secrets found in log text as they are (warns)",
     offsetof(struct merge_args, a.no_redact), 0, 0, NULL},
    {"no-color", 0, FL_OPT_FLAG, NULL, "no ANSI colour (also: NO_COLOR set in the environment)",
     offsetof(struct merge_args, a.no_color), 0, 0, NULL},
    {"title", 0, FL_OPT_STRING, "TEXT", "heading of the report",
     offsetof(struct merge_args, a.title), 0, 0, NULL},
    {"repo", 0, FL_OPT_STRING, "PATH",
     "local clone of the service's code: rank the commits between the bad and the previous "
     "revision",
     offsetof(struct merge_args, a.repo), 0, 0, NULL},
    {"repo-url", 0, FL_OPT_STRING, "URL",
     "web URL of the repository for the compare link (default: the clone's origin)",
     offsetof(struct merge_args, a.repo_url), 0, 0, NULL},
    {"quiet", 'q', FL_OPT_FLAG, NULL, "no warnings summary on stderr",
     offsetof(struct merge_args, a.quiet), 0, 0, NULL},
    FL_REDACT_POLICY_OPTS(struct merge_args, a),
    FL_OPT_END,
};

static const char merge_epilog[] =
    "SUMMARY is a file written by 'faultline analyze --summary-out', or a directory of them\n"
    "(its *.flsum files). Any number, in any order:\n"
    "the report is the one a single 'faultline analyze' over all their inputs writes, byte for\n"
    "byte. Summaries of another format version, damaged or cut short are refused; two\n"
    "summaries of the same shard, or the same summary twice, are refused (they would count\n"
    "twice); missing shards are named on stderr.\n"
    "\n"
    "Examples:\n"
    "  for i in 0 1 2 3; do faultline analyze --shard $i/4 --summary-out s$i.flsum logs/; done\n"
    "  faultline merge --format md -o incident.md s*.flsum\n"
    "\n";

static const fl_cmd_spec merge_spec = {
    "merge",
    "SUMMARY|DIR...",
    "Rank the causes over summaries written by 'analyze --summary-out' (shards of one run).",
    merge_opts,
    merge_epilog,
};

/* Which file holds each shard of an N-shard run, to refuse doubles and name gaps. */
typedef struct shard_seen {
    uint32_t count;
    const char **file; /* [count] */
    uint64_t *sums;    /* checksums of the files read so far */
    const char **sum_file;
    size_t n_sums;
} shard_seen;

static int note_shard(shard_seen *s, const fl_summary_meta *m, const char *path)
{
    for (size_t i = 0; i < s->n_sums; i++)
        if (s->sums[i] == m->checksum) {
            fprintf(stderr,
                    "faultline merge: %s and %s are the same summary: its entries would count "
                    "twice\n",
                    s->sum_file[i], path);
            return FL_EINVAL;
        }
    uint64_t *ns = realloc(s->sums, (s->n_sums + 1) * sizeof(*ns));
    const char **nf = ns ? realloc(s->sum_file, (s->n_sums + 1) * sizeof(*nf)) : NULL;
    if (ns)
        s->sums = ns;
    if (!nf)
        return FL_ENOMEM;
    s->sum_file = nf;
    s->sums[s->n_sums] = m->checksum;
    s->sum_file[s->n_sums++] = path;
    if (m->shard_count == 0)
        return 0;
    if (!s->count) {
        if (!(s->file = calloc(m->shard_count, sizeof(char *))))
            return FL_ENOMEM;
        s->count = m->shard_count;
    }
    if (m->shard_count != s->count) {
        fprintf(stderr,
                "faultline merge: %s is shard %u of %u, but an earlier summary is of %u shards: "
                "merge the summaries of one run\n",
                path, m->shard_index, m->shard_count, s->count);
        return FL_EINVAL;
    }
    if (s->file[m->shard_index]) {
        fprintf(stderr,
                "faultline merge: %s and %s are both shard %u/%u: its entries would count twice\n",
                s->file[m->shard_index], path, m->shard_index, m->shard_count);
        return FL_EINVAL;
    }
    s->file[m->shard_index] = path;
    return 0;
}

static void report_gaps(const shard_seen *s)
{
    for (uint32_t i = 0; i < s->count; i++)
        if (!s->file[i])
            fprintf(stderr,
                    "faultline merge: warning: no summary of shard %u/%u: its files are "
                    "missing from the report\n",
                    i, s->count);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replaces each directory argument by the *.flsum files in it (sorted): a job's output
 * directory can be merged without a shell to expand a glob. The new names are kept in
 * owned (freed by the caller) and files points into it. */
static int expand_dirs(const fl_strv *args, fl_strv *files, fl_strv *owned)
{
    for (size_t i = 0; i < args->n; i++) {
        struct stat st;
        if (stat(args->v[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            if (fl_strv_push(files, args->v[i]))
                return FL_ENOMEM;
            continue;
        }
        DIR *d = opendir(args->v[i]);
        if (!d) {
            fprintf(stderr, "faultline merge: cannot open directory %s\n", args->v[i]);
            return FL_ENOTFOUND;
        }
        size_t first = owned->n;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            size_t n = strlen(de->d_name);
            if (de->d_name[0] == '.' || n < 6 || strcmp(de->d_name + n - 6, ".flsum") != 0)
                continue;
            size_t len = strlen(args->v[i]) + n + 2;
            char *p = malloc(len);
            if (!p || fl_strv_push(owned, p)) {
                free(p);
                closedir(d);
                return FL_ENOMEM;
            }
            snprintf(p, len, "%s/%s", args->v[i], de->d_name);
        }
        closedir(d);
        qsort(owned->v + first, owned->n - first, sizeof(char *), cmp_str);
        if (owned->n == first)
            fprintf(stderr, "faultline merge: warning: no *.flsum file in %s\n", args->v[i]);
        for (size_t j = first; j < owned->n; j++)
            if (fl_strv_push(files, owned->v[j]))
                return FL_ENOMEM;
    }
    return 0;
}

/* Adds one summary's gate record to the merged one as one pass would have counted: the same
 * filter in every shard (else refused: the shards looked at different entries), the smallest
 * project id, counts summed. Duplicates are found within a shard only: copies of one entry in
 * files of different shards are both counted. Returns 0 or -1 (printed). */
static int merge_gate(fl_input_summary *dst, const fl_input_summary *src, bool first,
                      const char *path)
{
    if (first) {
        memcpy(dst->filter, src->filter, sizeof dst->filter);
    } else if (strcmp(dst->filter, src->filter) != 0) {
        fprintf(stderr,
                "faultline merge: %s was written with another filter (%s) than an earlier "
                "summary (%s): run every shard with the same --since/--until/--service "
                "arguments (absolute times, not durations)\n",
                path, src->filter[0] ? src->filter : "none", dst->filter[0] ? dst->filter : "none");
        return -1;
    }
    if (src->project[0] && (!dst->project[0] || strcmp(src->project, dst->project) < 0))
        memcpy(dst->project, src->project, sizeof dst->project);
    dst->filtered_out += src->filtered_out;
    dst->duplicates += src->duplicates;
    dst->dedup_unchecked += src->dedup_unchecked;
    return 0;
}

/* Reads and merges every summary. Returns an exit status. */
static int merge_all(const fl_strv *files, const fl_rules *rules, fl_agg *total, fl_diag *diag,
                     fl_input_summary *gate)
{
    shard_seen seen = {0, NULL, NULL, NULL, 0};
    int status = FL_EXIT_OK;
    for (size_t i = 0; i < files->n && status == FL_EXIT_OK; i++) {
        const char *path = files->v[i];
        char err[1024] = "";
        fl_agg *part = NULL;
        fl_diag d;
        fl_summary_meta m;
        fl_diag_init(&d);
        int rc = fl_summary_read(path, &part, &d, &m, err, sizeof err);
        if (rc) {
            fprintf(stderr, "faultline merge: %s\n", err);
            status = rc == FL_ENOTFOUND ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
        } else if (m.rules_digest != fl_summary_rules_digest(part, rules)) {
            fprintf(stderr,
                    "faultline merge: %s was written with other rules than this merge loads "
                    "(remediation of its classes differs): pass the same --patterns as the "
                    "analyze runs\n",
                    path);
            status = FL_EXIT_USAGE;
        } else if ((rc = note_shard(&seen, &m, path)) != 0 ||
                   merge_gate(gate, &m.gate, i == 0, path) != 0) {
            status = FL_EXIT_USAGE;
        } else if ((rc = fl_agg_merge(total, part)) != 0 ||
                   (rc = fl_summary_diag_add(diag, &d)) != 0) {
            fprintf(stderr, "faultline merge: %s: %s\n", path, fl_strerror(rc));
            status = FL_EXIT_UNREADABLE;
        }
        fl_agg_free(part);
        fl_diag_free(&d);
    }
    if (status == FL_EXIT_OK)
        report_gaps(&seen);
    free(seen.file);
    free(seen.sums);
    free(seen.sum_file);
    return status;
}

int fl_cmd_merge(int argc, char **argv)
{
    struct merge_args args;
    fl_strv given = {NULL, 0}, files = {NULL, 0}, owned = {NULL, 0};
    char err[1024] = "";
    fl_rules *rules = NULL;
    fl_agg *total = NULL;
    fl_diag diag;
    int status;

    memset(&args, 0, sizeof args);
    args.format = "text";
    fl_diag_init(&diag);
    fl_cli_fill_format_names();
    int rc = fl_opts_parse(&merge_spec, argc, argv, &args, &given, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&merge_spec, stdout);
        fputs(fl_cli_exit_codes_help, stdout);
        status = FL_EXIT_OK;
        goto out;
    }
    if (!rc && (rc = expand_dirs(&given, &files, &owned)) != 0) {
        status = rc == FL_ENOMEM ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
        goto out;
    }
    if (rc || files.n == 0) {
        fprintf(stderr, "faultline merge: %s\n",
                rc ? err : "no summary given (see 'faultline merge --help')");
        status = FL_EXIT_USAGE;
        goto out;
    }
    if (fl_cli_load_allow_lists("merge", &args.a)) {
        status = FL_EXIT_USAGE;
        goto out;
    }
    fl_pipeline_opts po;
    fl_analysis_args_to_pipeline(&args.a, &po);
    if ((rc = fl_pipeline_load_rules(&po, &rules, err, sizeof err)) != 0) {
        fprintf(stderr, "faultline merge: %s\n", err);
        status = FL_EXIT_USAGE;
        goto out;
    }
    if (!(total = fl_agg_new(NULL))) {
        fprintf(stderr, "faultline merge: %s\n", fl_strerror(FL_ENOMEM));
        status = FL_EXIT_UNREADABLE;
        goto out;
    }
    fl_input_summary gate;
    memset(&gate, 0, sizeof gate);
    po.gate_summary = &gate;
    if ((status = merge_all(&files, rules, total, &diag, &gate)) != FL_EXIT_OK)
        goto out;
    if ((rc = fl_summary_diag_finish(&diag)) != 0) {
        fprintf(stderr, "faultline merge: %s\n", fl_strerror(rc));
        status = FL_EXIT_UNREADABLE;
        goto out;
    }
    if (!args.a.quiet)
        fl_cli_print_warnings("merge", &diag);
    if (args.a.no_redact)
        fprintf(stderr, "faultline merge: warning: --no-redact: secrets in log text (tokens, "
                        "keys, passwords, emails) are written as they are\n");
    status = fl_diag_exit_status(&diag);

    fl_result *res = NULL;
    if (fl_pipeline_report(total, rules, &po, &diag, &res, err, sizeof err)) {
        fprintf(stderr, "faultline merge: %s\n", err);
        status = FL_EXIT_UNREADABLE;
        goto out;
    }
    /* as analyze does after ranking: commit ranges, and suspects with --repo */
    if (fl_cli_add_suspects("merge", &args.a, res) != 0) {
        fprintf(stderr, "faultline merge: %s\n", fl_strerror(FL_ENOMEM));
        fl_result_free(res);
        status = FL_EXIT_UNREADABLE;
        goto out;
    }
    if (fl_cli_write_report("merge", &args.a, args.format, res, args.output))
        status = FL_EXIT_USAGE;
    fl_result_free(res);
out:
    fl_agg_free(total);
    fl_rules_free(rules);
    fl_diag_free(&diag);
    fl_analysis_args_free(&args.a);
    for (size_t i = 0; i < owned.n; i++)
        free((char *)owned.v[i]);
    fl_strv_free(&owned);
    fl_strv_free(&given);
    fl_strv_free(&files);
    return status;
}
