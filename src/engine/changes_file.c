/* --changes FILE: one JSON change event per line, from CI or a deploy tool. */
#include "fl_changes_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int fl_changes_file_load(const char *path, fl_agg *agg, fl_diag *diag, char *errbuf,
                         size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errbuf, errlen, "%s: cannot open changes file: %s", path, strerror(errno));
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
        if (len > FL_CHANGE_LINE_MAX) {
            fl_diag_warn(diag, FL_WARN_OTHER, path, lineno, "change event over %d bytes, skipped",
                         FL_CHANGE_LINE_MAX);
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
            snprintf(errbuf, errlen, "%s:%llu: %s", path, (unsigned long long)lineno,
                     fl_strerror(rc));
            break;
        }
    }
    if (!rc && ferror(f)) {
        snprintf(errbuf, errlen, "%s: read error: %s", path, strerror(errno));
        rc = FL_EINVAL;
    }
    free(line);
    fclose(f);
    return rc;
}
