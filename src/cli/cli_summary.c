/* analyze --summary-out: the aggregate of this process's inputs (or shard) to a file. */
#include "cli_analysis.h"
#include "fl_cli.h"
#include "summary.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The file is written as path.tmp and renamed when complete, so a job killed half-way never
 * leaves a file that looks like a finished summary (merge would refuse it anyway: no end
 * marker). It is created before reading, so a path that cannot be written is found before
 * gigabytes are read. */
typedef struct out_file {
    const char *path;
    char name[4096]; /* DIR/summary-I-of-N.flsum when --summary-out names a directory */
    char tmp[4200];
    FILE *f;
    bool to_stdout;
} out_file;

/* mkdir -p for a --summary-out that ends in "/" (a run's folder in a mounted bucket). */
static int make_dirs(const char *path)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

static int out_open(const char *cmd, const char *path, const fl_analysis_args *a, out_file *o)
{
    struct stat st;
    size_t len = strlen(path);
    if (len > 1 && path[len - 1] == '/' && make_dirs(path) != 0) {
        fprintf(stderr, "faultline %s: cannot create directory %s: %s\n", cmd, path,
                strerror(errno));
        return -1;
    }
    /* A directory (a bucket mounted in a job) gets one file per shard, named so that the
     * tasks of one job never collide and need no shell to build the name. */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        int n = a->shard_count > 1 ? snprintf(o->name, sizeof o->name, "%s/summary-%u-of-%u.flsum",
                                              path, a->shard_index, a->shard_count)
                                   : snprintf(o->name, sizeof o->name, "%s/summary.flsum", path);
        if (n >= (int)sizeof o->name) {
            fprintf(stderr, "faultline %s: --summary-out path too long\n", cmd);
            return -1;
        }
        path = o->name;
    }
    o->path = path;
    o->to_stdout = strcmp(path, "-") == 0;
    if (o->to_stdout) {
        o->f = stdout;
        return 0;
    }
    if (snprintf(o->tmp, sizeof o->tmp, "%s.tmp", path) >= (int)sizeof o->tmp) {
        fprintf(stderr, "faultline %s: --summary-out path too long\n", cmd);
        return -1;
    }
    if (!(o->f = fopen(o->tmp, "wb"))) {
        fprintf(stderr, "faultline %s: cannot write %s: %s\n", cmd, o->tmp, strerror(errno));
        return -1;
    }
    return 0;
}

/* Writes the summary and renames the file into place (commit), or removes it. */
static int out_finish(const char *cmd, out_file *o, const fl_agg *agg, const fl_diag *d,
                      const fl_summary_meta *m, bool commit)
{
    char err[512] = "";
    int rc = commit ? fl_summary_write(o->f, agg, d, m, err, sizeof err) : -1;
    if (commit && rc)
        fprintf(stderr, "faultline %s: %s: %s\n", cmd, o->path, err);
    if (fl_cli_close_output(cmd, o->f, o->to_stdout ? "-" : o->tmp))
        rc = -1;
    if (!rc && !o->to_stdout && rename(o->tmp, o->path) != 0) {
        fprintf(stderr, "faultline %s: cannot rename %s to %s: %s\n", cmd, o->tmp, o->path,
                strerror(errno));
        rc = -1;
    }
    if (rc && !o->to_stdout)
        remove(o->tmp);
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
    out_file of;
    if (out_open(cmd, path, a, &of))
        return FL_EXIT_USAGE;
    fl_analysis_args_to_pipeline(a, &po);
    fl_summary_meta m;
    memset(&m, 0, sizeof m);
    po.gate_summary = &m.gate; /* the gate's record goes into the summary, and the report */
    fl_diag_init(&diag);
    int rc = fl_pipeline_aggregate(inputs->v, inputs->n, &po, &diag, &agg, &rules, err, sizeof err);
    if (rc)
        out_finish(cmd, &of, NULL, NULL, NULL, false);
    status = fl_cli_pipeline_status(cmd, a->quiet, rc, err, &diag);
    if (rc == 0) {
        m.shard_index = a->shard_index;
        m.shard_count = a->shard_count;
        m.rules_digest = fl_summary_rules_digest(agg, rules);
        if (out_finish(cmd, &of, agg, &diag, &m, true))
            status = FL_EXIT_USAGE;
        else if (out && fl_pipeline_report(agg, rules, &po, &diag, out, err, sizeof err)) {
            fprintf(stderr, "faultline %s: %s\n", cmd, err);
            status = FL_EXIT_USAGE;
        } else if (out && fl_cli_add_suspects(cmd, a, *out) != 0) {
            fprintf(stderr, "faultline %s: %s\n", cmd, fl_strerror(FL_ENOMEM));
            fl_result_free(*out);
            *out = NULL;
            status = FL_EXIT_UNREADABLE;
        }
    }
    fl_agg_free(agg);
    fl_rules_free(rules);
    fl_diag_free(&diag);
    return status;
}
