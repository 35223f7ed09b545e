/* What the summary writer, reader and diagnostics merge share (correlate/summary*.c): the
 * frame of a summary file (docs/summary-format.md). Not part of any API. */
#ifndef FL_SUMMARY_INTERNAL_H
#define FL_SUMMARY_INTERNAL_H

#include "summary.h"

#include "agg_internal.h"

#include <stdarg.h>

static const char SUMMARY_MAGIC[8] = {'F', 'L', 'S', 'U', 'M', 'M', 'R', 'Y'};
static const char SUMMARY_END_MAGIC[8] = {'F', 'L', 'S', 'U', 'M', 'E', 'N', 'D'};
#define SUMMARY_HEADER_BYTES 12  /* magic + u32 version */
#define SUMMARY_TRAILER_BYTES 24 /* end magic + u64 body length + u64 checksum */
/* A summary of the largest aggregate the caps allow is far below this; past it the file is
 * refused rather than read into memory. */
#define SUMMARY_MAX_BYTES (UINT64_C(4) << 30)
#define SUMMARY_NULL_STR UINT32_MAX /* the length that stands for "no string" */

static inline void summary_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static inline void summary_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

#endif
