/* Internal to reports/: the redaction scanner with options. fl_redact() (fl_reports.h) is
 * fl_redact_ex(s, 0). */
#ifndef FL_REDACT_INT_H
#define FL_REDACT_INT_H

#include <stddef.h>

enum {
    /* Text that faultline generated itself (recommended gcloud commands): command-line flags
     * such as --secret=db-password or --update-secrets=K=name:latest name resources, not
     * secrets, and service-account identities are needed to run the command. */
    FL_REDACT_COMMAND = 1 << 0,
};

/* Returns a new string (fl_free) with secrets replaced by "[REDACTED:<kind>]", or NULL on
 * allocation failure. n_out (may be NULL) receives the number of replacements. */
char *fl_redact_ex(const char *s, unsigned flags, size_t *n_out);

#endif
