/* fl_suspects_annotate: the commit range of each deploy cause, and its suspects when a
 * repository is at hand. The only place that joins git_history (I/O) and suspects (pure). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fl_suspects.h"
#include "git_history.h"
#include "suspects.h"

typedef struct note {
    char text[640];
} note;

static void note_add(note *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends one sentence; notes are joined with "; " and stay one line. */
static void note_add(note *n, const char *fmt, ...)
{
    size_t len = strlen(n->text);
    if (len && len + 2 < sizeof(n->text)) {
        memcpy(n->text + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->text + len, sizeof(n->text) - len, fmt, ap);
    va_end(ap);
}

/* A commit-sha label is log content: only hex digits of a plausible length are taken as a
 * commit (anything else is treated as unknown, so no report ever renders it as one). */
static bool plausible_sha(const char *s)
{
    size_t n = strspn(s, "0123456789abcdefABCDEF");
    return s[n] == '\0' && n >= 7 && n <= 64;
}

static const char *sha_of(const fl_result *r, const char *service, const char *revision)
{
    for (size_t i = 0; revision && revision[0] && i < r->n_revisions; i++)
        if (!strcmp(r->revisions[i].service, service) &&
            !strcmp(r->revisions[i].revision, revision))
            return r->revisions[i].commit_sha && plausible_sha(r->revisions[i].commit_sha)
                       ? r->revisions[i].commit_sha
                       : "";
    return "";
}

static void describe_walk(const fl_git_range *g, const char *prev, const char *bad,
                          const fl_git_limits *lim, note *n)
{
    if (g->bad_missing || g->prev_missing) {
        const char *which = g->bad_missing ? bad : prev;
        note_add(n, "commit %.12s is not in the repository%s: `git fetch origin %s`%s", which,
                 g->shallow ? " (a shallow clone)" : " (not fetched yet, or force-pushed away)",
                 which, g->shallow ? " or `git fetch --unshallow`" : "");
        if (g->bad_missing && g->prev_missing)
            note_add(n, "commit %.12s is missing too", prev);
    }
    if (g->same)
        note_add(n,
                 "both revisions run commit %.12s: no code changed, only the revision's "
                 "configuration",
                 bad);
    if (g->not_ancestor)
        note_add(n,
                 "%.12s is not an ancestor of %.12s (force-push or rollback?): these are the "
                 "commits %.12s has that %.12s lacks",
                 prev, bad, bad, prev);
    if (g->capped)
        note_add(n, "more than %zu commits in the range: only the newest %zu were read",
                 lim->max_commits, lim->max_commits);
    if (g->walk_failed)
        note_add(n, "the history stops early (%s)%s", g->error,
                 g->shallow ? "; the clone is shallow: `git fetch --unshallow`" : "");
    if (g->diff_capped)
        note_add(n, "some diffs were too long and were read only in part");
}

static int rank_range(fl_git_repo *repo, const fl_result *r, fl_cause *c, const fl_suspects_opts *o,
                      note *n)
{
    fl_commit_range *cr = &c->commits;
    fl_git_limits lim = {.max_commits = o->max_commits ? o->max_commits : 500,
                         .max_diff_bytes = o->max_diff_bytes};
    fl_git_range g;
    int rc = fl_git_walk(repo, cr->prev_sha, cr->bad_sha, &lim, &g);
    if (rc)
        return rc;
    cr->searched = true;
    cr->commits = (uint32_t)g.n_commits;
    describe_walk(&g, cr->prev_sha, cr->bad_sha, &lim, n);
    if (g.n_commits) {
        fl_suspect_evidence ev;
        rc = fl_suspect_evidence_build(r, c, &ev);
        if (!rc)
            rc = fl_suspects_score(g.commits, g.n_commits, &ev, FL_MAX_SUSPECTS, &cr->suspects,
                                   &cr->n_suspects);
        fl_suspect_evidence_free(&ev);
    }
    fl_git_range_free(&g);
    return rc;
}

static int set_str(char **dst, const char *s)
{
    fl_free(*dst);
    *dst = fl_strdup(s);
    return *dst ? 0 : FL_ENOMEM;
}

static int annotate_cause(fl_git_repo *repo, const char *web, fl_result *r, fl_cause *c,
                          const fl_suspects_opts *o)
{
    fl_commit_range *cr = &c->commits;
    fl_commit_range_clear(cr);
    const char *prev = sha_of(r, c->service, c->previous_revision);
    const char *bad = sha_of(r, c->service, c->revision);
    char compare[1024];
    fl_suspect_compare_url(web, prev, bad, compare, sizeof(compare));
    note n = {""};
    int rc = set_str(&cr->prev_sha, prev) || set_str(&cr->bad_sha, bad) ||
             set_str(&cr->compare_url, compare);
    if (rc)
        return FL_ENOMEM;
    if (!bad[0] || !prev[0])
        note_add(&n,
                 "%s carries no commit-sha label (deployed without Cloud Build?): the "
                 "code range is unknown",
                 !bad[0]                   ? c->revision
                 : c->previous_revision[0] ? c->previous_revision
                                           : "the previous revision");
    else if (!strcmp(prev, bad))
        note_add(&n,
                 "both revisions run commit %.12s: no code changed, only the revision's "
                 "configuration",
                 bad);
    else if (repo)
        rc = rank_range(repo, r, c, o, &n);
    else if (o->repo_path)
        note_add(&n, "the repository %s could not be read", o->repo_path);
    return rc ? rc : set_str(&cr->note, n.text);
}

int fl_suspects_annotate(fl_result *r, const fl_suspects_opts *o, char *warn, size_t warnlen)
{
    warn[0] = '\0';
    fl_git_repo *repo = NULL;
    if (o->repo_path) {
        char err[256] = "";
        int rc = fl_git_open(o->repo_path, &repo, err, sizeof(err));
        if (rc == FL_ENOMEM)
            return rc;
        if (rc)
            snprintf(warn, warnlen,
                     "cannot read the repository %s: %s; suspect commits are not "
                     "ranked",
                     o->repo_path, err);
    }
    char origin[1024] = "", web[1024] = "";
    const char *url = o->repo_url;
    if (!url && repo && fl_git_origin_url(repo, origin, sizeof(origin)) == 0)
        url = origin;
    fl_suspect_web_url(url, web, sizeof(web));
    int rc = 0;
    for (size_t i = 0; !rc && i < r->n_causes; i++) {
        fl_cause *c = &r->causes[i];
        if (c->kind == FL_CAUSE_DEPLOY && c->revision && c->revision[0])
            rc = annotate_cause(repo, web, r, c, o);
    }
    fl_git_close(repo);
    return rc;
}
