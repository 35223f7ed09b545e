/* Internal to reports/: the redaction scanner with options. fl_redact() (fl_reports.h) is
 * fl_redact_ex(s, 0, NULL, NULL). */
#ifndef FL_REDACT_INT_H
#define FL_REDACT_INT_H

#include <stdbool.h>
#include <stddef.h>

enum {
    /* Text that faultline generated itself (recommended gcloud commands): command-line flags
     * such as --secret=db-password or --update-secrets=K=name:latest name resources, not
     * secrets, and service-account identities are needed to run the command. */
    FL_REDACT_COMMAND = 1 << 0,
    /* An actor shown by policy: its email address is the point; tokens in it still go. */
    FL_REDACT_KEEP_EMAIL = 1 << 1,
};

typedef struct fl_redact_policy fl_redact_policy;

/* Returns a new string (fl_free) with secrets replaced by "[REDACTED:<kind>]", or NULL on
 * allocation failure. A span of a releasable kind (email, high_entropy, key_material) that
 * policy->allow lists is kept (policy may be NULL). n_out (may be NULL) receives the number
 * of replacements. */
char *fl_redact_ex(const char *s, unsigned flags, const fl_redact_policy *policy, size_t *n_out);

/* Is s[0..n) listed in p->allow (a literal equal to it, or a glob matching it)? */
bool fl_redact_allowed(const fl_redact_policy *p, const char *s, size_t n);

#endif
