/* Shared by the analysing commands: options -> pipeline, stderr messages, output files. */
#include "cli_analysis.h"

#include "fl_cli.h"
#include "suspects/fl_suspects.h"
#include "text/warning_text.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* How many input warnings the stderr summary names before "... and N more". */
#define STDERR_WARNINGS_SHOWN 5

void fl_analysis_args_to_pipeline(const fl_analysis_args *a, fl_pipeline_opts *po)
{
    memset(po, 0, sizeof(*po));
    po->pattern_dirs = a->patterns.v;
    po->n_pattern_dirs = a->patterns.n;
    po->changes_files = a->changes.v;
    po->n_changes_files = a->changes.n;
    po->reader.no_multiline = a->no_multiline;
    po->reader.slow_json = a->slow_json;
    po->analyze.threshold = a->threshold;
    po->analyze.max_causes = a->max_causes > 0 ? (size_t)a->max_causes : 0;
    po->threads = a->threads;
    po->reader.shard_index = a->shard_index;
    po->reader.shard_count = a->shard_count;
    /* gs:// inputs: the Cloud Storage emulator, read as Google's client libraries read it */
    const char *emulator = getenv("STORAGE_EMULATOR_HOST");
    po->reader.storage_emulator_host = emulator && *emulator ? emulator : NULL;
    po->reader.auth = fl_cli_auth_env();
    fl_cli_env_to_pipeline(po);
    fl_filter_args_to_spec(&a->filter, &po->filter);
}

const char *fl_cli_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const fl_auth_env *fl_cli_auth_env(void)
{
    static fl_auth_env e;
    e.access_token = fl_cli_env("CLOUDSDK_AUTH_ACCESS_TOKEN");
    if (!e.access_token)
        e.access_token = fl_cli_env("GOOGLE_OAUTH_ACCESS_TOKEN");
    e.credentials_file = fl_cli_env("GOOGLE_APPLICATION_CREDENTIALS");
    e.gcloud_config = fl_cli_env("CLOUDSDK_CONFIG");
    e.home = fl_cli_env("HOME");
    e.metadata_host = fl_cli_env("GCE_METADATA_HOST");
    e.oauth_token_uri = fl_cli_env("FAULTLINE_OAUTH_TOKEN_URI");
    return &e;
}

void fl_cli_env_to_pipeline(fl_pipeline_opts *po)
{
    po->builtin_patterns_dir = fl_cli_env("FAULTLINE_PATTERNS_DIR");
    const char *np = fl_cli_env("FL_NO_PREFILTER");
    po->no_prefilter = np && strcmp(np, "0") != 0;
    const char *nm = fl_cli_env("FL_NO_MMAP");
    po->reader.no_mmap = nm && strcmp(nm, "0") != 0;
}

void fl_filter_args_to_spec(const fl_filter_args *f, fl_filter_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->since = f->since;
    spec->until = f->until;
    spec->services = f->services.v;
    spec->n_services = f->services.n;
    spec->revisions = f->revisions.v;
    spec->n_revisions = f->revisions.n;
    spec->min_severity = f->min_severity;
    spec->no_dedup = f->keep_duplicates;
    spec->tmpdir = fl_cli_env("TMPDIR");
}

void fl_filter_args_free(fl_filter_args *f)
{
    fl_strv_free(&f->services);
    fl_strv_free(&f->revisions);
}

void fl_analysis_args_free(fl_analysis_args *a)
{
    fl_filter_args_free(&a->filter);
    fl_strv_free(&a->allow_lists);
    fl_allow_list_free(&a->allow);
    fl_strv_free(&a->patterns);
    fl_strv_free(&a->changes);
}

void fl_cli_print_warnings(const char *cmd, const fl_diag *d)
{
    uint64_t total = d->n_warnings + d->warnings_dropped;
    if (!total)
        return;
    fprintf(stderr,
            "faultline %s: %llu input warning%s (%llu malformed, %llu oversize, %zu "
            "truncated, %llu unreadable)\n",
            cmd, (unsigned long long)total, total == 1 ? "" : "s", (unsigned long long)d->malformed,
            (unsigned long long)d->oversize, d->n_truncated, (unsigned long long)d->unreadable);
    for (size_t i = 0; i < d->n_warnings && i < STDERR_WARNINGS_SHOWN; i++) {
        const fl_warning *w = &d->warnings[i];
        if (w->line)
            fprintf(stderr, "  %s:%llu: %s: %s\n", w->file, (unsigned long long)w->line,
                    fl_warn_kind_name(w->kind), fl_warning_text(w));
        else
            fprintf(stderr, "  %s: %s: %s\n", w->file, fl_warn_kind_name(w->kind),
                    fl_warning_text(w));
    }
    if (total > STDERR_WARNINGS_SHOWN)
        fprintf(stderr, "  ... and %llu more (see the report's warnings section)\n",
                (unsigned long long)(total - STDERR_WARNINGS_SHOWN));
}

int fl_cli_pipeline_status(const char *cmd, bool quiet, int rc, const char *err,
                           const fl_diag *diag)
{
    if (rc == FL_ENOTFOUND) {
        if (!quiet)
            fl_cli_print_warnings(cmd, diag);
        fprintf(stderr, "faultline %s: %s\n", cmd, err[0] ? err : "no readable input");
        return FL_EXIT_UNREADABLE;
    }
    if (rc != 0) {
        fprintf(stderr, "faultline %s: %s\n", cmd, err[0] ? err : fl_strerror(rc));
        return rc == FL_ENOMEM ? FL_EXIT_UNREADABLE : FL_EXIT_USAGE;
    }
    if (!quiet)
        fl_cli_print_warnings(cmd, diag);
    int status = fl_diag_exit_status(diag);
    if (status == FL_EXIT_UNREADABLE)
        fprintf(stderr, "faultline %s: no valid log entry could be read\n", cmd);
    return status;
}

int fl_cli_run_analysis(const char *cmd, const fl_strv *inputs, const fl_analysis_args *a,
                        fl_result **out)
{
    fl_pipeline_opts po;
    fl_diag diag;
    char err[1024] = "";
    int status;

    *out = NULL;
    fl_analysis_args_to_pipeline(a, &po);
    if (a->no_redact)
        fprintf(stderr,
                "faultline %s: warning: --no-redact: secrets in log text (tokens, "
                "keys, passwords, emails) are written as they are\n",
                cmd);
    fl_diag_init(&diag);
    int rc = fl_pipeline_run(inputs->v, inputs->n, &po, &diag, out, err, sizeof err);
    status = fl_cli_pipeline_status(cmd, a->quiet, rc, err, &diag);
    fl_diag_free(&diag);
    if (*out && fl_cli_add_suspects(cmd, a, *out) != 0) {
        fprintf(stderr, "faultline %s: %s\n", cmd, fl_strerror(FL_ENOMEM));
        fl_result_free(*out);
        *out = NULL;
        return FL_EXIT_UNREADABLE;
    }
    return status;
}

/* True if path is dir itself or lies below it (both resolved). */
static bool same_or_below(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int fl_cli_check_output(const char *cmd, const char *output, const fl_strv *inputs)
{
    struct stat os, is;
    if (!output || strcmp(output, "-") == 0)
        return 0;
    /* The output may not exist yet: resolve its directory and append the name. */
    char out_real[PATH_MAX + 256], dir_real[PATH_MAX];
    char *out_copy = fl_strdup(output);
    if (!out_copy)
        return 0;
    char *slash = strrchr(out_copy, '/');
    const char *dir = slash ? (slash == out_copy ? "/" : out_copy) : ".";
    const char *base = slash ? slash + 1 : out_copy;
    if (slash)
        *slash = '\0';
    bool resolved = realpath(dir, dir_real) != NULL;
    if (resolved)
        snprintf(out_real, sizeof out_real, "%s/%.255s", strcmp(dir_real, "/") ? dir_real : "",
                 base);
    fl_free(out_copy);
    bool out_exists = stat(output, &os) == 0;
    for (size_t i = 0; i < inputs->n; i++) {
        const char *in = inputs->v[i];
        if (strcmp(in, "-") == 0 || stat(in, &is) != 0)
            continue;
        bool clash = out_exists && os.st_dev == is.st_dev && os.st_ino == is.st_ino;
        char in_real[PATH_MAX];
        if (!clash && resolved && S_ISDIR(is.st_mode) && realpath(in, in_real))
            clash = same_or_below(out_real, in_real);
        if (clash) {
            fprintf(stderr,
                    "faultline %s: -o %s would overwrite or land inside the input %s; "
                    "write the report elsewhere\n",
                    cmd, output, in);
            return -1;
        }
    }
    return 0;
}

int fl_cli_load_allow_lists(const char *cmd, fl_analysis_args *a)
{
    if (a->no_redact && (a->redact_actors || a->allow_lists.n)) {
        fprintf(stderr,
                "faultline %s: --no-redact writes everything as it is; it cannot go "
                "with --redact-actors or --allow-list\n",
                cmd);
        return -1;
    }
    for (size_t i = 0; i < a->allow_lists.n; i++)
        if (fl_allow_list_load(&a->allow, cmd, a->allow_lists.v[i]))
            return -1;
    a->redact.redact_actors = a->redact_actors;
    a->redact.allow = (const char *const *)a->allow.v;
    a->redact.n_allow = a->allow.n;
    return 0;
}

int fl_cli_final_status(const fl_analysis_args *a, const fl_result *r, int status)
{
    if (a->fail_on_cause && r && r->confident && r->n_causes &&
        (status == FL_EXIT_OK || status == FL_EXIT_PARTIAL))
        return FL_EXIT_CAUSE;
    return status;
}

int fl_cli_add_suspects(const char *cmd, const fl_analysis_args *a, fl_result *r)
{
    fl_suspects_opts so = {.repo_path = a->repo, .repo_url = a->repo_url};
    char warn[512];
    int rc = fl_suspects_annotate(r, &so, warn, sizeof(warn));
    /* once per process: tail annotates every snapshot */
    static bool warned;
    if (!rc && warn[0] && !a->quiet && !warned) {
        fprintf(stderr, "faultline %s: warning: %s\n", cmd, warn);
        warned = true;
    }
    return rc;
}

FILE *fl_cli_open_output(const char *cmd, const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "faultline %s: cannot write %s: %s\n", cmd, path, strerror(errno));
    return f;
}

const char *fl_cli_format_names[16];

void fl_cli_fill_format_names(void)
{
    size_t n = 0;
    for (size_t i = 0; fl_report_formats[i] && n + 1 < FL_ARRAY_LEN(fl_cli_format_names); i++)
        fl_cli_format_names[n++] = fl_report_formats[i]->name;
    fl_cli_format_names[n] = NULL;
}

int fl_cli_write_report(const char *cmd, const fl_analysis_args *a, const char *format,
                        const fl_result *res, const char *path)
{
    FILE *f = fl_cli_open_output(cmd, path);
    if (!f)
        return -1;
    fl_report_opts ro;
    fl_cli_report_opts(a, f, &ro);
    int rc = fl_report_write(format, res, &ro, f);
    if (rc)
        fprintf(stderr, "faultline %s: writing the %s report: %s\n", cmd, format, fl_strerror(rc));
    if (fl_cli_close_output(cmd, f, path) || rc)
        return -1;
    return 0;
}

int fl_cli_close_output(const char *cmd, FILE *f, const char *path)
{
    if (!f)
        return -1;
    int bad = fflush(f) != 0 || ferror(f);
    if (f != stdout)
        bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "faultline %s: error writing %s: %s\n", cmd,
                path && strcmp(path, "-") ? path : "standard output", strerror(errno));
        return -1;
    }
    return 0;
}

static int terminal_width(FILE *out)
{
    const char *cols = getenv("COLUMNS");
    if (cols && *cols) {
        int c = atoi(cols);
        if (c >= 40 && c <= 1000)
            return c;
    }
    struct winsize ws;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 100;
}

void fl_cli_report_opts(const fl_analysis_args *a, FILE *out, fl_report_opts *ro)
{
    memset(ro, 0, sizeof(*ro));
    const char *no_color = getenv("NO_COLOR");
    ro->no_redact = a->no_redact;
    ro->color = !a->no_color && !(no_color && *no_color) && isatty(fileno(out));
    ro->width = terminal_width(out);
    ro->title = a->title;
    ro->redact = &a->redact;
}
