/* Internal to reports/ and the CLI: the Markdown postmortem draft, and the Markdown escaping
 * it shares with the attachment bodies. */
#ifndef FL_POSTMORTEM_H
#define FL_POSTMORTEM_H

#include <stdio.h>

#include "fl_reports.h"

typedef struct fl_postmortem_opts {
    const char *title; /* optional; default "<service> incident <date>" */
    bool no_redact;    /* the result is written as given; otherwise a redacted copy */
    const fl_redact_policy *redact; /* actors and allow-list (NULL: defaults) */
} fl_postmortem_opts;

/* Writes the postmortem draft (runbook template: Summary, Impact, Timeline (UTC), Root Cause,
 * Resolution, Action Items, Lessons Learned) for r. Redacts a copy of r first unless
 * opts->no_redact. Returns 0, FL_ENOMEM or FL_EIO. */
int fl_postmortem_write(const fl_result *r, const fl_postmortem_opts *opts, FILE *out);

/* The same draft as a new string (fl_free), or NULL on allocation failure. */
char *fl_postmortem_string(const fl_result *r, const fl_postmortem_opts *opts);

/* Markdown escaping for untrusted text in inline position: block syntax cannot start, links,
 * images, HTML and table cells cannot be injected, and URL-, email- or path-like words are
 * shown as code spans so renderers do not autolink them. Newlines become spaces. */
void fl_md_inline(FILE *out, const char *s);
/* A code span (`...`) around s with a fence longer than any backtick run inside. */
void fl_md_code(FILE *out, const char *s);
/* A fenced code block around s (which may span lines), fence longer than any run inside. */
void fl_md_block(FILE *out, const char *s);

#endif
