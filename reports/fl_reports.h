/* reports/: how results are shown. Each format is one folder exporting one descriptor
 * (reports/json/ exports fl_report_json, ...). Every writer redacts secrets first unless
 * opts->no_redact is set. */
#ifndef FL_REPORTS_H
#define FL_REPORTS_H

#include <stdio.h>

#include "fl_result.h"

typedef struct fl_report_opts {
    bool no_redact;
    bool color;          /* ANSI colour (text on a terminal) */
    int width;           /* terminal width for text, 0: 100 */
    const char *title;   /* optional heading ("checkout-api incident") */
} fl_report_opts;

typedef struct fl_report_format {
    const char *name;        /* "text", "md", "json", "html" */
    const char *description; /* for --help */
    int (*write)(const fl_result *r, const fl_report_opts *opts, FILE *out);
} fl_report_format;

/* NULL-terminated list of the formats compiled in. */
extern const fl_report_format *const fl_report_formats[];
const fl_report_format *fl_report_find(const char *name);

/* Writes r in the named format. Redaction happens here, on a copy, before any writer runs. */
int fl_report_write(const char *format, const fl_result *r, const fl_report_opts *opts,
                    FILE *out);

/* Redaction (reports/redact/): replaces secrets in s with "[REDACTED:kind]". Returns a new
 * string the caller frees with fl_free, or NULL on allocation failure. */
char *fl_redact(const char *s);
/* Deep copy of r with every free-text string redacted. */
fl_result *fl_result_redacted(const fl_result *r);

#endif
