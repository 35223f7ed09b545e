/* analyze --summary-out: the aggregate of this process's inputs (or shard) to a file. */
#include "cli_analysis.h"
#include "fl_cli.h"
#include "summary.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Writes to path.tmp and renames, so a job killed half-way never leaves a file that looks
 * like a finished summary (merge would refuse it anyway: no end marker). */
static int write_file(const char *cmd, const char *path, const fl_agg *agg, const fl_diag *d,
                      const fl_summary_meta *m)
{
    char tmp[4096], err[512] = "";
    bool to_stdout = strcmp(path, "-") == 0;
    if (!to_stdout && snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "faultline %s: --summary-out path too long\n", cmd);
        return -1;
    }
    FILE *f = to_stdout ? stdout : fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "faultline %s: cannot write %s: %s\n", cmd, tmp, strerror(errno));
        return -1;
    }
    int rc = fl_summary_write(f, agg, d, m, err, sizeof err);
    if (rc)
        fprintf(stderr, "faultline %s: %s: %s\n", cmd, path, err);
    if (fl_cli_close_output(cmd, f, to_stdout ? "-" : tmp))
        rc = -1;
    if (!rc && !to_stdout && rename(tmp, path) != 0) {
        fprintf(stderr, "faultline %s: cannot rename %s to %s: %s\n", cmd, tmp, path,
                strerror(errno));
        rc = -1;
    }
    if (rc && !to_stdout)
        remove(tmp);
    return rc ? -1 : 0;
}

int fl_cli_write_summary(const char *cmd, const fl_strv *inputs, const fl_analysis_args *a,
                         const char *path, fl_result **out)
{
    fl_pipeline_opts po;
    fl_diag diag;
    char err[1024] = "";
    fl_agg *agg = NULL;
    fl_rules *rules = NULL;
    int status;

    if (out)
        *out = NULL;
    fl_analysis_args_to_pipeline(a, &po);
    fl_diag_init(&diag);
    int rc = fl_pipeline_aggregate(inputs->v, inputs->n, &po, &diag, &agg, &rules, err,
                                   sizeof err);
    if (rc == FL_ENOTFOUND) {
        if (!a->quiet)
            fl_cli_print_warnings(cmd, &diag);
        fprintf(stderr, "faultline %s: %s\n", cmd, err[0] ? err : "no readable input");
        status = FL_EXIT_UNREADABLE;
    } else if (rc != 0) {
        fprintf(stderr, "faultline %s: %s\n", cmd, err[0] ? err : fl_strerror(rc));
        status = rc == FL_ENOMEM ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
    } else {
        if (!a->quiet)
            fl_cli_print_warnings(cmd, &diag);
        fl_summary_meta m = {a->shard_index, a->shard_count,
                             fl_summary_rules_digest(agg, rules)};
        status = fl_diag_exit_status(&diag);
        if (write_file(cmd, path, agg, &diag, &m))
            status = FL_EXIT_USAGE;
        else if (out && fl_pipeline_report(agg, rules, &po, &diag, out, err, sizeof err)) {
            fprintf(stderr, "faultline %s: %s\n", cmd, err);
            status = FL_EXIT_USAGE;
        }
    }
    fl_agg_free(agg);
    fl_rules_free(rules);
    fl_diag_free(&diag);
    return status;
}
