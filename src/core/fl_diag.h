/* Diagnostics collected while reading input: counters and the first warnings, each naming
 * file and line. The report's "input" and "warnings" sections come from here. */
#ifndef FL_DIAG_H
#define FL_DIAG_H

#include "fl_common.h"
#include <pthread.h>

#define FL_DIAG_MAX_WARNINGS 200 /* kept verbatim; the rest are only counted */

typedef enum {
    FL_WARN_MALFORMED, /* an entry that is not valid JSON or not an object */
    FL_WARN_OVERSIZE,  /* a line or entry over the size cap, skipped */
    FL_WARN_TRUNCATED, /* a compressed stream that ends early or is corrupt */
    FL_WARN_UNREADABLE,/* a file that cannot be opened or read */
    FL_WARN_OTHER,
} fl_warn_kind;

typedef struct fl_warning {
    fl_warn_kind kind;
    char *file;     /* "-" for stdin */
    uint64_t line;  /* 1-based; 0 when not meaningful */
    char *message;
} fl_warning;

typedef struct fl_diag {
    pthread_mutex_t lock; /* readers on several threads share one diag */
    uint64_t entries;     /* entries read and parsed */
    uint64_t malformed;
    uint64_t oversize;
    uint64_t bytes;       /* input bytes after decompression */
    uint64_t files;       /* input files opened */
    uint64_t unreadable;
    char **truncated;     /* names of sources that ended early */
    size_t n_truncated;
    fl_warning *warnings;
    size_t n_warnings;
    uint64_t warnings_dropped;
} fl_diag;

void fl_diag_init(fl_diag *d);
void fl_diag_free(fl_diag *d);
/* Records a warning (and bumps the matching counter for MALFORMED/OVERSIZE/UNREADABLE).
 * For TRUNCATED the file is also added to d->truncated. */
void fl_diag_warn(fl_diag *d, fl_warn_kind kind, const char *file, uint64_t line, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6)));
const char *fl_warn_kind_name(fl_warn_kind k);
/* The process exit status the input implies: 0 clean, 2 nothing readable, 3 partial. */
int fl_diag_exit_status(const fl_diag *d);

#endif
