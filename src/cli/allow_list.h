/* --allow-list FILE: values that must never be redacted (revision names, trace ids, SHAs),
 * one per line, kept by the user. Loaded here; reports/redact applies them (fl_report_opts
 * .keep). Blank lines and lines starting with '#' are skipped; surrounding blanks are trimmed.
 * At most FL_ALLOW_MAX values of at most FL_ALLOW_VALUE_MAX bytes: past either cap the line
 * is skipped with a warning naming file:line, the rest still loads. A value that is a
 * credential by its shape (fl_redact_allow_check) is skipped with a warning too; a glob that
 * matches any address or random key material, or a literal that looks like key material, is
 * kept with a warning (the user may mean it; it must not pass unnoticed). */
#ifndef FL_ALLOW_LIST_H
#define FL_ALLOW_LIST_H

#include <stddef.h>

#define FL_ALLOW_MAX 4096
#define FL_ALLOW_VALUE_MAX 256

typedef struct fl_allow_list {
    char **v;
    size_t n;
} fl_allow_list;

/* Appends the values of path to al. Warnings go to stderr prefixed "faultline <cmd>: ".
 * Returns 0, or -1 (message printed) when the file cannot be read. */
int fl_allow_list_load(fl_allow_list *al, const char *cmd, const char *path);
void fl_allow_list_free(fl_allow_list *al);

#endif
