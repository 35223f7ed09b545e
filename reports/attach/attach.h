/* Internal to reports/ and the CLI: posting a postmortem where postmortems live.
 *
 *   GitHub issue comment  https://github.com/O/R/issues/N or
 *                         https://api.github.com/repos/O/R/issues/N/comments
 *                         (token and API base override come in fl_attach_opts)
 *   Slack incoming hook   https://hooks.slack.com/services/... (Block Kit message)
 *   anything else         a generic JSON webhook signed per Standard Webhooks
 *
 * The request goes through src/net (fl_net_post): its URL policy (https, or plain http to
 * loopback), timeouts, retries with backoff on 5xx, 429 and transport errors, the same
 * webhook-id on every retry. Nothing here prints or reads the environment; tokens never appear
 * in messages (URLs in messages are redacted). */
#ifndef FL_ATTACH_H
#define FL_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "fl_reports.h"

typedef enum {
    FL_ATTACH_WEBHOOK = 0,
    FL_ATTACH_GITHUB,
    FL_ATTACH_SLACK,
} fl_attach_kind;

const char *fl_attach_kind_name(fl_attach_kind k); /* "webhook", "github", "slack" */

typedef struct fl_attach_opts {
    const char *github_token;    /* the CLI passes GITHUB_TOKEN; NULL: none */
    const char *webhook_secret;  /* the CLI passes FAULTLINE_WEBHOOK_SECRET; NULL: unsigned */
    const char *github_api_base; /* NULL: https://api.github.com */
    const char *slack_base;      /* NULL: the URL as given (https://hooks.slack.com) */
    int max_attempts;            /* 0: 5 */
    long base_delay_ms;          /* 0: 500; doubled per attempt, with jitter */
    long max_delay_ms;           /* 0: 8000 */
    long timeout_ms;             /* 0: 15000 */
} fl_attach_opts;

typedef struct fl_attach_report {
    fl_attach_kind kind;
    int attempts;        /* requests made */
    long http_status;    /* of the last attempt, 0 if none got an answer */
    bool signed_body;    /* webhook: a signature was sent */
    char webhook_id[64]; /* webhook: the id sent on every attempt */
    char target[512];    /* where it went, redacted */
    char message[1024];  /* on failure: what went wrong (no secrets) */
} fl_attach_report;

/* Where a URL goes. Resolves GitHub issue URLs and the base overrides into the URL actually
 * requested (out, fl_free). Rejects non-https URLs unless the host is loopback. */
int fl_attach_resolve(const char *url, const fl_attach_opts *opts, fl_attach_kind *kind, char **out,
                      char *errbuf, size_t errlen);

/* Request bodies (JSON text, fl_free). r should already be redacted as the caller wants. */
char *fl_attach_github_body(const char *markdown);
char *fl_attach_slack_body(const fl_result *r, const char *title);
char *fl_attach_webhook_body(const fl_result *r, const char *markdown, int64_t unix_ts);

/* Posts the postmortem: markdown for GitHub and the webhook, r for Slack and the webhook's
 * structured fields. Returns 0 when the target accepted it (2xx), FL_EAUTH (401/403),
 * FL_EINVAL (bad URL, missing token, other 4xx), FL_EAGAIN (still failing after the retries),
 * FL_ENOMEM. */
int fl_attach_post(const char *url, const fl_result *r, const char *markdown, const char *title,
                   const fl_attach_opts *opts, fl_attach_report *rep);

#endif
