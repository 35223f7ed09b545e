/* The one --changes loader, for `analyze`/`postmortem` and `tail` alike. */
#ifndef FL_CHANGES_FILE_H
#define FL_CHANGES_FILE_H

#include "fl_correlate.h"
#include "fl_diag.h"

#define FL_CHANGE_LINE_MAX (64 * 1024) /* a longer line is warned about and skipped */

/* Reads one --changes file (one JSON change object per line) into agg. A bad or oversize line
 * is a warning in diag naming file:line, and is skipped; only a file that cannot be opened or
 * read stops (FL_EINVAL: the user named it), or FL_ENOMEM. errbuf says which. */
int fl_changes_file_load(const char *path, fl_agg *agg, fl_diag *diag, char *errbuf,
                         size_t errlen);

#endif
