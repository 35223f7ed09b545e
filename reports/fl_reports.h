/* reports/: how results are shown. Each format is one folder exporting one descriptor
 * (reports/json/ exports fl_report_json, ...). Every writer redacts secrets first unless
 * opts->no_redact is set. */
#ifndef FL_REPORTS_H
#define FL_REPORTS_H

#include <stdio.h>

#include "fl_result.h"

/* What redaction leaves readable (reports/redact/, docs/postmortem.md "Who made a change").
 * Actors of changes (the principal of an audit entry, the actor of a --changes line):
 * service accounts (...gserviceaccount.com) are always shown; people are shown unless
 * redact_actors, then they read "[REDACTED:actor]". Secrets in an actor are redacted anyway.
 * allow: values that are never redacted, each a literal or a glob (it has *, ? or [): a span
 * the scanner would replace is kept when it equals a literal or matches a glob. Values that
 * are credentials by their shape (provider tokens, JWTs, keys, passwords after "password=",
 * card numbers) are never released; fl_redact_allow_check says so for a value up front. */
typedef struct fl_redact_policy {
    bool redact_actors;
    const char *const *allow;
    size_t n_allow;
} fl_redact_policy;

typedef struct fl_report_opts {
    bool no_redact;
    bool color;          /* ANSI colour (text on a terminal) */
    int width;           /* terminal width for text, 0: 100 */
    const char *title;   /* optional heading ("checkout-api incident") */
    const fl_redact_policy *redact; /* NULL: people shown, no allow-list */
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
/* fl_redact with a policy's allow-list (p may be NULL). */
char *fl_redact_with(const char *s, const fl_redact_policy *p);
/* Deep copy of r with every free-text string redacted; actors as the policy says (NULL: the
 * defaults, people shown). */
fl_result *fl_result_redacted(const fl_result *r);
fl_result *fl_result_redacted_with(const fl_result *r, const fl_redact_policy *p);

/* Checks one --allow-list value before use. Returns FL_ALLOW_OK, FL_ALLOW_REFUSED (a
 * credential by its shape, e.g. "ghp_...": it would never be released, so the line is
 * useless and suspicious) or FL_ALLOW_BROAD (a glob matching any email address or random key
 * material: it releases more than names). why receives a short reason. */
enum { FL_ALLOW_OK = 0, FL_ALLOW_REFUSED = 1, FL_ALLOW_BROAD = 2 };
int fl_redact_allow_check(const char *value, char *why, size_t why_len);
/* True for a service-account identity: ...@*.gserviceaccount.com, or "serviceAccount:" +
 * one (the principalSubject form). */
bool fl_actor_is_service_account(const char *actor);

#endif
