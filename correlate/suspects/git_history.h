/* git_history: a local repository read through libgit2, behind one opaque type. This is the only
 * file in faultline that includes git2.h. It answers one question, "which commits are in
 * PREV..BAD and what did each change", with bounded work: at most max_commits commits walked
 * and max_diff_bytes of diff read, past which the range says it was capped. */
#ifndef FL_SUSPECTS_GIT_HISTORY_H
#define FL_SUSPECTS_GIT_HISTORY_H

#include "commit.h"

typedef struct fl_git_repo fl_git_repo;

typedef struct fl_git_limits {
    size_t max_commits;           /* commits walked, newest first (0: 500) */
    size_t max_diff_bytes;        /* diff text read over the whole range (0: 8 MiB) */
    size_t max_commit_diff_bytes; /* diff text read per commit (0: 256 KiB) */
    size_t max_files;             /* files kept per commit (0: 1000) */
} fl_git_limits;

typedef struct fl_git_range {
    fl_commit *commits; /* newest first (topological, then commit time) */
    size_t n_commits;
    bool same;         /* PREV and BAD are the same commit */
    bool prev_missing; /* PREV is not in the repository */
    bool bad_missing;  /* BAD is not in the repository */
    bool not_ancestor; /* PREV is not an ancestor of BAD (force-push, rollback) */
    bool shallow;      /* the repository is a shallow clone */
    bool capped;       /* more than max_commits commits: the older ones were not walked */
    bool diff_capped;  /* some commit's diff was cut at a budget */
    bool walk_failed;  /* the walk stopped early (e.g. history missing past a shallow cut) */
    char error[200];   /* libgit2's message when walk_failed */
} fl_git_range;

/* Opens the repository at path (or the one containing it). On failure returns FL_ENOTFOUND
 * and writes libgit2's reason into err. */
int fl_git_open(const char *path, fl_git_repo **out, char *err, size_t errlen);
void fl_git_close(fl_git_repo *g); /* NULL: no-op */

/* The URL of the "origin" remote into buf; FL_ENOTFOUND when there is none. */
int fl_git_origin_url(fl_git_repo *g, char *buf, size_t size);

/* Walks PREV..BAD (full or abbreviated SHAs). Missing commits and a broken history are not
 * errors: they set the flags in out, which is always initialised. Returns 0 or FL_ENOMEM. */
int fl_git_walk(fl_git_repo *g, const char *prev, const char *bad, const fl_git_limits *lim,
                fl_git_range *out);
void fl_git_range_free(fl_git_range *r);

#endif
