/* The batch pipeline: read -> classify -> aggregate -> analyze.
 *
 * Entries are classified and counted one at a time, so memory depends on the aggregate
 * (services x revisions x minutes x groups), never on the input size. The work is shaped as
 * one "worker" (a matcher and its own aggregate) so that parallel chunks can later each run a
 * worker and fold it into the main aggregate with fl_agg_merge. */
#include "fl_pipeline.h"

#include "fl_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHANGE_LINE_MAX (64 * 1024)

static bool is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fl_builtin_patterns_dir(void)
{
    const char *env = getenv("FAULTLINE_PATTERNS_DIR");
    if (env && *env)
        return env;
#ifdef FL_SOURCE_PATTERNS_DIR
    /* Running from a build directory: the rules are read where they are edited. */
    if (is_dir(FL_SOURCE_PATTERNS_DIR))
        return FL_SOURCE_PATTERNS_DIR;
#endif
    return FL_PATTERNS_DIR;
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

int fl_pipeline_load_rules(const fl_pipeline_opts *opts, fl_rules **rules, char *errbuf,
                           size_t errlen)
{
    size_t n = 0;
    const char **dirs = fl_calloc(opts->n_pattern_dirs + 1, sizeof(*dirs));
    if (!dirs)
        return FL_ENOMEM;
    if (!opts->no_builtin_patterns)
        dirs[n++] = fl_builtin_patterns_dir();
    for (size_t i = 0; i < opts->n_pattern_dirs; i++) {
        if (!is_dir(opts->pattern_dirs[i])) {
            set_err(errbuf, errlen, "%s: not a readable directory of rule files",
                    opts->pattern_dirs[i]);
            fl_free(dirs);
            return FL_EINVAL;
        }
        dirs[n++] = opts->pattern_dirs[i];
    }
    int rc = fl_rules_load(rules, dirs, n, errbuf, errlen);
    fl_free(dirs);
    return rc;
}

/* Reads one --changes file: one JSON object per line. A bad line is a warning naming
 * file:line; only a file that cannot be opened stops the run (the user named it). */
static int load_changes_file(const char *path, fl_agg *agg, fl_diag *diag, char *errbuf,
                             size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(errbuf, errlen, "%s: cannot open changes file: %s", path, strerror(errno));
        return FL_EINVAL;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t skip = strspn(line, " \t");
        if ((size_t)len == skip)
            continue;
        if (len > CHANGE_LINE_MAX) {
            fl_diag_warn(diag, FL_WARN_OTHER, path, lineno,
                         "change event over %d bytes, skipped", CHANGE_LINE_MAX);
            continue;
        }
        fl_change c;
        char err[256] = "";
        if (fl_change_parse_json(line, (size_t)len, &c, err, sizeof err) != 0) {
            fl_diag_warn(diag, FL_WARN_OTHER, path, lineno, "bad change event: %s",
                         err[0] ? err : "not a change object");
            continue;
        }
        if ((rc = fl_agg_add_change(agg, &c)) != 0) {
            set_err(errbuf, errlen, "%s:%llu: %s", path, (unsigned long long)lineno,
                    fl_strerror(rc));
            break;
        }
    }
    if (!rc && ferror(f)) {
        set_err(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
        rc = FL_EINVAL;
    }
    free(line);
    fclose(f);
    return rc;
}

/* One classifier + aggregate. Today the pipeline runs a single worker over the whole stream;
 * parallel readers would each run one and merge. */
typedef struct worker {
    fl_matcher *matcher;
    fl_agg *agg;
} worker;

static int worker_add(worker *w, const fl_rules *rules, const fl_entry *e)
{
    fl_match m;
    memset(&m, 0, sizeof m);
    int rc = fl_classify(rules, w->matcher, e, &m);
    if (rc < 0)
        return rc;
    return fl_agg_add(w->agg, e, rc > 0 ? &m : NULL);
}

int fl_pipeline_run(const char *const *inputs, size_t n_inputs, const fl_pipeline_opts *opts,
                    fl_diag *diag, fl_result **out, char *errbuf, size_t errlen)
{
    static const char *const stdin_only[] = {"-"};
    fl_rules *rules = NULL;
    fl_reader *reader = NULL;
    worker w = {NULL, NULL};
    fl_entry e;
    int rc;

    *out = NULL;
    if (n_inputs == 0) {
        inputs = stdin_only;
        n_inputs = 1;
    }
    fl_entry_init(&e);

    if ((rc = fl_pipeline_load_rules(opts, &rules, errbuf, errlen)) != 0)
        goto done;
    if (!(w.matcher = fl_matcher_new(rules)) || !(w.agg = fl_agg_new(NULL))) {
        rc = FL_ENOMEM;
        set_err(errbuf, errlen, "%s", fl_strerror(rc));
        goto done;
    }
    /* Changes first: a bad --changes path is a usage error, found before reading gigabytes. */
    for (size_t i = 0; i < opts->n_changes_files; i++)
        if ((rc = load_changes_file(opts->changes_files[i], w.agg, diag, errbuf, errlen)) != 0)
            goto done;

    if ((rc = fl_reader_open(&reader, inputs, n_inputs, &opts->reader, diag)) != 0) {
        if (rc == FL_ENOTFOUND)
            set_err(errbuf, errlen, "no readable input");
        else
            set_err(errbuf, errlen, "cannot open input: %s", fl_strerror(rc));
        goto done;
    }
    while ((rc = fl_reader_next(reader, &e)) == 1) {
        if ((rc = worker_add(&w, rules, &e)) != 0) {
            set_err(errbuf, errlen, "%s:%llu: %s", e.src_file ? e.src_file : "-",
                    (unsigned long long)e.src_line, fl_strerror(rc));
            goto done;
        }
    }
    if (rc < 0) {
        set_err(errbuf, errlen, "reading input: %s", fl_strerror(rc));
        goto done;
    }

    fl_analyze_opts aopts = opts->analyze;
    aopts.rules = rules;
    fl_result *res = NULL;
    if ((rc = fl_analyze(w.agg, &aopts, &res)) != 0) {
        set_err(errbuf, errlen, "analysis failed: %s", fl_strerror(rc));
        goto done;
    }
    if ((rc = fl_result_set_input(res, diag)) != 0) {
        fl_result_free(res);
        set_err(errbuf, errlen, "%s", fl_strerror(rc));
        goto done;
    }
    *out = res;
done:
    fl_entry_free(&e);
    fl_reader_free(reader);
    fl_agg_free(w.agg);
    fl_matcher_free(w.matcher);
    fl_rules_free(rules);
    return rc;
}
