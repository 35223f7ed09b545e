/* The plain data suspects are scored from: commits of a range with the files they changed and
 * the lines they added or removed. Filled by git_history.c, read by the pure functions in
 * suspects.c; tests build them by hand. */
#ifndef FL_SUSPECTS_COMMIT_H
#define FL_SUSPECTS_COMMIT_H

#include "fl_common.h"

typedef struct fl_commit_file {
    char *path;     /* path after the commit */
    char *old_path; /* path before a rename; NULL when not renamed */
    char status;    /* 'A' added, 'M' modified, 'D' deleted, 'R' renamed, 'T' type change */
} fl_commit_file;

typedef struct fl_commit_line {
    size_t file; /* index into the commit's files */
    bool added;  /* '+' line, else '-' */
    char *text;  /* without the newline, at most FL_COMMIT_LINE_MAX bytes */
} fl_commit_line;

#define FL_COMMIT_LINE_MAX 400

typedef struct fl_commit {
    char sha[41];
    char *subject; /* first line of the message */
    char *author;  /* author name */
    fl_time time;  /* author time */
    bool merge;    /* more than one parent: listed and counted, not diffed */
    fl_commit_file *files;
    size_t n_files;
    fl_commit_line *lines;
    size_t n_lines;
    bool diff_capped; /* the diff was longer than the budget: the rest was not read */
} fl_commit;

void fl_commit_clear(fl_commit *c);

#endif
