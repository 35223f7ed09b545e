/* git_history: PREV..BAD walked with libgit2 (see git_history.h). */
#include "git_history.h"

#include <git2.h>
#include <stdio.h>
#include <string.h>

struct fl_git_repo {
    git_repository *repo;
};

#define DEFAULT_MAX_COMMITS 500
#define DEFAULT_MAX_DIFF_BYTES (8u << 20)
#define DEFAULT_MAX_COMMIT_DIFF_BYTES (256u << 10)
#define DEFAULT_MAX_FILES 1000

static void last_error(char *buf, size_t size, const char *fallback)
{
    const git_error *e = git_error_last();
    snprintf(buf, size, "%s", e && e->message ? e->message : fallback);
}

int fl_git_open(const char *path, fl_git_repo **out, char *err, size_t errlen)
{
    *out = NULL;
    fl_git_repo *g = fl_calloc(1, sizeof(*g));
    if (!g)
        return FL_ENOMEM;
    git_libgit2_init();
    if (git_repository_open_ext(&g->repo, path, 0, NULL) != 0) {
        last_error(err, errlen, "not a git repository");
        git_libgit2_shutdown();
        fl_free(g);
        return FL_ENOTFOUND;
    }
    *out = g;
    return 0;
}

void fl_git_close(fl_git_repo *g)
{
    if (!g)
        return;
    git_repository_free(g->repo);
    git_libgit2_shutdown();
    fl_free(g);
}

int fl_git_origin_url(fl_git_repo *g, char *buf, size_t size)
{
    /* Read from the config directly: git_remote_lookup parses the fetch refspecs with libgit2's
     * regex wrapper, whose match data 1.5 leaks when nothing matches. */
    git_config *cfg = NULL;
    const char *url = NULL;
    if (git_repository_config_snapshot(&cfg, g->repo) != 0)
        return FL_ENOTFOUND;
    int rc = git_config_get_string(&url, cfg, "remote.origin.url") == 0 && url && *url
                 ? 0
                 : FL_ENOTFOUND;
    if (!rc)
        snprintf(buf, size, "%s", url);
    git_config_free(cfg);
    return rc;
}

void fl_commit_clear(fl_commit *c)
{
    fl_free(c->subject);
    fl_free(c->author);
    for (size_t i = 0; i < c->n_files; i++) {
        fl_free(c->files[i].path);
        fl_free(c->files[i].old_path);
    }
    fl_free(c->files);
    for (size_t i = 0; i < c->n_lines; i++)
        fl_free(c->lines[i].text);
    fl_free(c->lines);
    memset(c, 0, sizeof(*c));
}

void fl_git_range_free(fl_git_range *r)
{
    for (size_t i = 0; i < r->n_commits; i++)
        fl_commit_clear(&r->commits[i]);
    fl_free(r->commits);
    r->commits = NULL;
    r->n_commits = 0;
}

/* A commit named by a full or abbreviated SHA; NULL when the repository does not have it. */
static git_commit *lookup_commit(git_repository *repo, const char *sha)
{
    git_oid oid;
    size_t len = strlen(sha);
    if (len < 4 || len > GIT_OID_HEXSZ || git_oid_fromstrn(&oid, sha, len) != 0)
        return NULL;
    git_commit *c = NULL;
    if (git_commit_lookup_prefix(&c, repo, &oid, len) != 0)
        return NULL;
    return c;
}

/* Diff reading state for one commit: the budgets and where the lines go. */
typedef struct diff_reader {
    fl_commit *commit;
    git_diff *diff;
    size_t delta_cursor; /* index of the delta the last line belonged to */
    size_t budget;       /* bytes left for this commit (also bounded by the range budget) */
    size_t cap_lines;
    int err;
} diff_reader;

static int add_line(diff_reader *d, size_t file, bool added, const char *text, size_t len)
{
    fl_commit *c = d->commit;
    if (c->n_lines == d->cap_lines) {
        size_t cap = d->cap_lines ? d->cap_lines * 2 : 64;
        fl_commit_line *v = fl_realloc(c->lines, cap * sizeof(*v));
        if (!v)
            return FL_ENOMEM;
        c->lines = v;
        d->cap_lines = cap;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    char *t = fl_strndup(text, FL_MIN(len, (size_t)FL_COMMIT_LINE_MAX));
    if (!t)
        return FL_ENOMEM;
    c->lines[c->n_lines++] = (fl_commit_line){file, added, t};
    return 0;
}

static int on_line(const git_diff_delta *delta, const git_diff_hunk *hunk,
                   const git_diff_line *line, void *payload)
{
    diff_reader *d = payload;
    if (line->origin != GIT_DIFF_LINE_ADDITION && line->origin != GIT_DIFF_LINE_DELETION)
        return 0;
    if (line->content_len > d->budget) {
        d->commit->diff_capped = true;
        return 1; /* stop: the rest of this commit's diff is not read */
    }
    d->budget -= line->content_len;
    /* Lines arrive delta by delta, in order: advance to the delta this line belongs to. */
    size_t n = git_diff_num_deltas(d->diff);
    while (d->delta_cursor < n && git_diff_get_delta(d->diff, d->delta_cursor) != delta)
        d->delta_cursor++;
    if (d->delta_cursor >= d->commit->n_files)
        return 0; /* a file past the kept ones */
    d->err = add_line(d, d->delta_cursor, line->origin == GIT_DIFF_LINE_ADDITION, line->content,
                      line->content_len);
    return d->err ? 1 : 0;
}

static char status_letter(git_delta_t s)
{
    switch (s) {
    case GIT_DELTA_ADDED:
        return 'A';
    case GIT_DELTA_DELETED:
        return 'D';
    case GIT_DELTA_RENAMED:
        return 'R';
    case GIT_DELTA_TYPECHANGE:
        return 'T';
    default:
        return 'M';
    }
}

/* The files of the diff, in libgit2's (path) order, at most max_files. */
static int read_files(fl_commit *c, git_diff *diff, size_t max_files)
{
    size_t n = FL_MIN(git_diff_num_deltas(diff), max_files);
    if (!n)
        return 0;
    c->files = fl_calloc(n, sizeof(*c->files));
    if (!c->files)
        return FL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        fl_commit_file *f = &c->files[c->n_files++];
        f->status = status_letter(d->status);
        f->path = fl_strdup(d->new_file.path ? d->new_file.path : d->old_file.path);
        if (!f->path)
            return FL_ENOMEM;
        if (d->status == GIT_DELTA_RENAMED && d->old_file.path) {
            f->old_path = fl_strdup(d->old_file.path);
            if (!f->old_path)
                return FL_ENOMEM;
        }
    }
    return 0;
}

/* Diffs a one-parent (or root) commit against its parent. *budget is the range's remaining
 * diff budget; it shrinks by what was read. */
static int read_diff(git_repository *repo, git_commit *gc, fl_commit *c, const fl_git_limits *lim,
                     size_t *budget)
{
    git_tree *tree = NULL, *ptree = NULL;
    git_commit *parent = NULL;
    git_diff *diff = NULL;
    int rc = 0;
    if (git_commit_tree(&tree, gc) != 0 ||
        (git_commit_parentcount(gc) == 1 &&
         (git_commit_parent(&parent, gc, 0) != 0 || git_commit_tree(&ptree, parent) != 0))) {
        c->diff_capped = true; /* objects missing: say the diff is incomplete */
        goto done;
    }
    git_diff_options opts;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    opts.context_lines = 0;
    opts.interhunk_lines = 0;
    if (git_diff_tree_to_tree(&diff, repo, ptree, tree, &opts) != 0) {
        c->diff_capped = true;
        goto done;
    }
    git_diff_find_options fo;
    git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
    fo.flags = GIT_DIFF_FIND_RENAMES;
    git_diff_find_similar(diff, &fo); /* renames are a nicety: without them, delete + add */
    if ((rc = read_files(c, diff, lim->max_files)) != 0)
        goto done;
    if (git_diff_num_deltas(diff) > lim->max_files)
        c->diff_capped = true;
    diff_reader d = {.commit = c, .diff = diff};
    d.budget = FL_MIN(*budget, lim->max_commit_diff_bytes);
    size_t start = d.budget;
    git_diff_foreach(diff, NULL, NULL, NULL, on_line, &d);
    rc = d.err;
    *budget -= start - d.budget;
done:
    git_diff_free(diff);
    git_tree_free(ptree);
    git_tree_free(tree);
    git_commit_free(parent);
    return rc;
}

static int read_commit(git_repository *repo, const git_oid *oid, fl_commit *c,
                       const fl_git_limits *lim, size_t *budget)
{
    git_commit *gc = NULL;
    if (git_commit_lookup(&gc, repo, oid) != 0)
        return FL_ENOTFOUND;
    git_oid_tostr(c->sha, sizeof(c->sha), oid);
    const char *summary = git_commit_summary(gc);
    const git_signature *author = git_commit_author(gc);
    c->subject = fl_strdup(summary ? summary : "");
    c->author = fl_strdup(author && author->name ? author->name : "");
    c->time = author ? (fl_time)author->when.time * FL_USEC_PER_SEC : 0;
    c->merge = git_commit_parentcount(gc) > 1;
    int rc = !c->subject || !c->author ? FL_ENOMEM : 0;
    if (!rc && !c->merge)
        rc = read_diff(repo, gc, c, lim, budget);
    git_commit_free(gc);
    return rc;
}

static void limits_with_defaults(const fl_git_limits *in, fl_git_limits *out)
{
    *out = in ? *in : (fl_git_limits){0};
    if (!out->max_commits)
        out->max_commits = DEFAULT_MAX_COMMITS;
    if (!out->max_diff_bytes)
        out->max_diff_bytes = DEFAULT_MAX_DIFF_BYTES;
    if (!out->max_commit_diff_bytes)
        out->max_commit_diff_bytes = DEFAULT_MAX_COMMIT_DIFF_BYTES;
    if (!out->max_files)
        out->max_files = DEFAULT_MAX_FILES;
}

int fl_git_walk(fl_git_repo *g, const char *prev, const char *bad, const fl_git_limits *limits,
                fl_git_range *out)
{
    memset(out, 0, sizeof(*out));
    fl_git_limits lim;
    limits_with_defaults(limits, &lim);
    out->shallow = git_repository_is_shallow(g->repo) == 1;
    git_commit *pc = lookup_commit(g->repo, prev);
    git_commit *bc = lookup_commit(g->repo, bad);
    out->prev_missing = !pc;
    out->bad_missing = !bc;
    int rc = 0;
    git_revwalk *walk = NULL;
    if (!pc || !bc)
        goto done;
    const git_oid *poid = git_commit_id(pc), *boid = git_commit_id(bc);
    if (git_oid_equal(poid, boid)) {
        out->same = true;
        goto done;
    }
    out->not_ancestor = git_graph_descendant_of(g->repo, boid, poid) != 1;
    if (git_revwalk_new(&walk, g->repo) != 0 ||
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) != 0 ||
        git_revwalk_push(walk, boid) != 0 || git_revwalk_hide(walk, poid) != 0) {
        out->walk_failed = true;
        last_error(out->error, sizeof(out->error), "cannot walk the history");
        goto done;
    }
    out->commits = fl_calloc(lim.max_commits, sizeof(fl_commit));
    if (!out->commits) {
        rc = FL_ENOMEM;
        goto done;
    }
    size_t budget = lim.max_diff_bytes;
    git_oid oid;
    int wr;
    while ((wr = git_revwalk_next(&oid, walk)) == 0) {
        if (out->n_commits == lim.max_commits) {
            out->capped = true;
            break;
        }
        fl_commit *c = &out->commits[out->n_commits++];
        rc = read_commit(g->repo, &oid, c, &lim, &budget);
        if (rc == FL_ENOTFOUND) {
            out->n_commits--;
            fl_commit_clear(c);
            out->walk_failed = true;
            snprintf(out->error, sizeof(out->error), "commit %.12s is missing",
                     git_oid_tostr_s(&oid));
            rc = 0;
            break;
        }
        if (rc)
            goto done;
        out->diff_capped |= c->diff_capped;
    }
    if (wr != 0 && wr != GIT_ITEROVER) {
        out->walk_failed = true;
        last_error(out->error, sizeof(out->error), "the history walk failed");
    }
done:
    git_revwalk_free(walk);
    git_commit_free(pc);
    git_commit_free(bc);
    if (rc)
        fl_git_range_free(out);
    return rc;
}
