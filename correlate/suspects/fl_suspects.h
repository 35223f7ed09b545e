/* correlate/suspects: from "revision X is bad" to the commits that broke it. For every deploy
 * cause whose revisions carry commit SHAs (Cloud Build's commit-sha label), names the range
 * PREV..BAD and the compare link, and with a local clone ranks the commits in the range by what
 * ties them to the errors. docs/suspects.md describes it. */
#ifndef FL_SUSPECTS_H
#define FL_SUSPECTS_H

#include "fl_result.h"

typedef struct fl_suspects_opts {
    const char *repo_path; /* local clone (--repo); NULL: range and link only */
    const char *repo_url;  /* web URL for the compare link (--repo-url); NULL: origin's */
    size_t max_commits;    /* commits walked per range (0: 500) */
    size_t max_diff_bytes; /* diff text read per range (0: 8 MiB) */
} fl_suspects_opts;

/* Fills c->commits of every deploy cause of r. Problems with the repository or the history
 * (missing commits, shallow clone, huge range) become the range's note, never an error; a
 * repository that cannot be opened is also described in warn (one line for stderr, "" when
 * none). Returns 0 or FL_ENOMEM. */
int fl_suspects_annotate(fl_result *r, const fl_suspects_opts *o, char *warn, size_t warnlen);

#endif
