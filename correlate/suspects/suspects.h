/* suspects: which commits of a deploy's range the errors point at. Pure functions over plain
 * structs (commit.h, fl_result.h); no I/O, no libgit2. docs/suspects.md explains the scoring. */
#ifndef FL_SUSPECTS_SUSPECTS_H
#define FL_SUSPECTS_SUSPECTS_H

#include "commit.h"
#include "fl_result.h"

/* A captured field value worth searching for in diffs (env var name, host:port, config key). */
typedef struct fl_suspect_value {
    char *name;  /* the capture's name, e.g. "env_var" */
    char *value; /* e.g. "KV_REDIS_PASSWORD" */
} fl_suspect_value;

#define FL_SUSPECT_MAX_FRAMES 32
#define FL_SUSPECT_MAX_VALUES 16

#define FL_SUSPECT_MAX_CLASSES 4

/* What the errors of one cause say about the code. */
typedef struct fl_suspect_evidence {
    const char *classes[FL_SUSPECT_MAX_CLASSES]; /* error classes, e.g. "schema_validation" */
    size_t n_classes;
    char **frames; /* in-app source paths from the samples' stack frames, first seen first */
    size_t n_frames;
    fl_suspect_value *values; /* captured values, in the group's field order */
    size_t n_values;
} fl_suspect_evidence;

/* Collects the evidence of cause c from r: its error group first, then the other groups that
 * are mostly on the blamed revision (a deploy's 5xx group often stands for the exception
 * logged next to it). Classes point into r, which must outlive ev. Returns 0 or FL_ENOMEM;
 * ev is always initialised. */
int fl_suspect_evidence_build(const fl_result *r, const fl_cause *c, fl_suspect_evidence *ev);
void fl_suspect_evidence_free(fl_suspect_evidence *ev);

/* Appends the in-app source paths named by stack frames in text (Node, Python, Java, Go) to
 * ev->frames, skipping duplicates and library frames, at most FL_SUSPECT_MAX_FRAMES. */
int fl_suspect_frames_from_text(const char *text, fl_suspect_evidence *ev);

/* How many trailing path components of a stack frame's path match a repository path, with
 * build output matching source (dist/x.js ~ src/x.ts); 0 when the file names differ. */
int fl_suspect_path_match(const char *frame, const char *repo_path);

/* True when the path is one where errors of this class typically start (env/config schema files
 * for schema_validation, pool settings for pool_exhausted, cache/memory code for oom). */
bool fl_suspect_typical_file(const char *error_class, const char *path);

/* Scores commits[0..n) (newest first) against ev. Writes at most max suspects, best first (ties:
 * the newer commit first), each with its reasons, into *out (owned by the caller, free each with
 * the fields of fl_suspect). Commits without evidence are never suspects. Returns 0 or
 * FL_ENOMEM. */
int fl_suspects_score(const fl_commit *commits, size_t n, const fl_suspect_evidence *ev, size_t max,
                      fl_suspect **out, size_t *n_out);

/* The browsable https URL of a remote ("git@github.com:acme/shop.git" ->
 * "https://github.com/acme/shop"), credentials stripped; "" when it is not a web host (a local
 * path). Writes into buf. */
void fl_suspect_web_url(const char *remote, char *buf, size_t size);

/* The compare link between two commits on that web URL (GitHub and Gitea style
 * /compare/A...B, GitLab /-/compare/A...B, Bitbucket /branches/compare/B%0DA); "" when web is
 * empty. */
void fl_suspect_compare_url(const char *web, const char *prev, const char *bad, char *buf,
                            size_t size);

#endif
